--[[
  Included by the scripts that read mailboxes (read-ready.lua, read-shards.lua): a mailbox entry
  in the usual form (fields a, m, p, t in that order, as bus/entry.ts writes them, with no newline
  in m or t) comes back as { id, packed, a }, its method, time and payload packed into one string,
  `m \n t \n p`; any other entry (a foreign writer's, a pending entry deleted meanwhile: nil
  fields) stays as XREADGROUP gave it, { id, { field, value, ... } }. Three bulk strings and one
  array instead of nine and two are what the client then parses, copies and converts for each
  entry (decision 066). The id and the address stay strings of their own: a hub node keeps the
  id until the checkpoint and an address for as long as its actor is active, where a slice of
  the packed string would keep all of it, and looks actors up by address, which compares a
  slice slower.
]]
local function packEntries(entries)
  for _, entry in ipairs(entries) do
    local f = entry[2]
    if type(f) == 'table' and #f == 8 and f[1] == 'a' and f[3] == 'm' and f[5] == 'p' and f[7] == 't'
      and not string.find(f[4], '\n', 1, true) and not string.find(f[8], '\n', 1, true) then
      entry[2] = f[4] .. '\n' .. f[8] .. '\n' .. f[6]
      entry[3] = f[2]
    end
  end
  return entries
end
