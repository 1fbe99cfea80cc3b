--[[
  Appends a message to a shard's mailbox and marks the shard ready, in one step.

  KEYS[1]  mailbox stream of the shard
  KEYS[2]  ready set of the shard's hash-tag group (shard numbers with undelivered entries)
  ARGV[1]  shard number
  ARGV[2..] the entry's field/value pairs

  Returns  the new entry's id.
]]
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return id
