--[[
  Gives ports and claims back, only those the owner holds (a late or repeated release by a
  closed tunnel cannot free a port or claim another tunnel took since).

  KEYS[1]  hash of allocated ports: port -> owner
  KEYS[2]  hash of claims: claim -> owner
  ARGV[1]  owner
  ARGV[2]  how many ports follow
  ARGV[3..2+n] ports, then the claims

  Returns  how many ports were released.
]]
local owner, n = ARGV[1], tonumber(ARGV[2])
local released = 0
for i = 3, 2 + n do
  if redis.call('HGET', KEYS[1], ARGV[i]) == owner then
    redis.call('HDEL', KEYS[1], ARGV[i])
    released = released + 1
  end
end
for i = 3 + n, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == owner then redis.call('HDEL', KEYS[2], ARGV[i]) end
end
return released
