--[[
  Takes `count` free ports of a range for an owner (a tunnel), all or none, together with the
  owner's claims (e.g. `<edgeId>|ssh`: one open tunnel per edge and service). The pool is one
  hash every gateway and hub node shares, so two callers can never get the same port or claim.

  KEYS[1]  hash of allocated ports: port -> owner
  KEYS[2]  hash of claims: claim -> owner
  ARGV[1]  lowest port of the range
  ARGV[2]  highest port of the range
  ARGV[3]  how many ports (0 for claims alone)
  ARGV[4]  owner
  ARGV[5..] claims

  Returns  {1, port...}   taken (ports ascending)
           {0, holder}    a claim is held by another owner: nothing taken
           {-1}           the range has fewer free ports: nothing taken
]]
local low, high, count, owner = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for i = 5, #ARGV do
  local holder = redis.call('HGET', KEYS[2], ARGV[i])
  if holder and holder ~= owner then return {0, holder} end
end
local taken = {}
if count > 0 then
  for port = low, high do
    if redis.call('HEXISTS', KEYS[1], port) == 0 then
      taken[#taken + 1] = port
      if #taken == count then break end
    end
  end
end
if #taken < count then return {-1} end
for _, port in ipairs(taken) do
  redis.call('HSET', KEYS[1], port, owner)
end
for i = 5, #ARGV do
  redis.call('HSET', KEYS[2], ARGV[i], owner)
end
local reply = {1}
for _, port in ipairs(taken) do reply[#reply + 1] = port end
return reply
