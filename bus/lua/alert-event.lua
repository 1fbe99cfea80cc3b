--[[
  Appends a server alert (Alertmanager's webhook, gateway/monitoring) to an outbox stream once
  per alert state: the first call for a key marks it seen and appends the event; a repeat
  (Alertmanager re-sends a group every repeat_interval, and retries a webhook that failed) finds
  the mark, only renews its time to live, and appends nothing.

  KEYS[1]  stream: the tag group's outbox
  KEYS[2]  string: the seen mark of this key (fingerprint, status, startsAt), same tag group
  ARGV[1]  the event, JSON
  ARGV[2]  how long a mark is kept after its last repeat, seconds

  Returns  the new entry's id, or false when the key was seen already
]]
local ttl = tonumber(ARGV[2])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ttl) then
  return redis.call('XADD', KEYS[1], '*', 'e', ARGV[1])
end
redis.call('EXPIRE', KEYS[2], ttl)
return false
