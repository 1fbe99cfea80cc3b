--[[
  Takes `count` free ports of a range for an owner (a tunnel), all or none: the pool is one hash
  every gateway and hub node shares, so two callers can never get the same port.

  KEYS[1]  hash of allocated ports: port -> owner
  ARGV[1]  lowest port of the range
  ARGV[2]  highest port of the range
  ARGV[3]  how many ports
  ARGV[4]  owner

  Returns  the ports taken (ascending), or an empty array when the range has fewer free ports.
]]
local low, high, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local taken = {}
for port = low, high do
  if redis.call('HEXISTS', KEYS[1], port) == 0 then
    taken[#taken + 1] = port
    if #taken == count then break end
  end
end
if #taken < count then return {} end
for _, port in ipairs(taken) do
  redis.call('HSET', KEYS[1], port, ARGV[4])
end
return taken
