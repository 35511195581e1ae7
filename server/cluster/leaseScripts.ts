/**
 * The Lua scripts behind ChannelLeases. Each runs atomically in Redis, which is what makes "one
 * channel, one node" hold when many nodes claim at once; each reads Redis' clock (TIME) for the
 * expiry scores, so the nodes' clocks never matter.
 *
 * A lease is a hash { owner, publicUrl, state } with a TTL; state 'pending' is a lease written by a
 * placing node for another node, 'active' one its owner holds and renews. The owner's sorted set
 * (ClusterKeys.owned) mirrors its leases with their expiry, for counting channels per node.
 */

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: lease, owned(owner). ARGV: owner, publicUrl, state, ttlMs, channelId.
 * Returns { owner, publicUrl, state, outcome } with outcome 'created' (the lease is the caller's
 * doing), 'confirmed' (the owner claimed its own pending lease) or 'existing' (someone's lease stands).
 */
export const CLAIM_SCRIPT = `${NOW}
local current = redis.call('HMGET', KEYS[1], 'owner', 'publicUrl', 'state')
if current[1] then
  if current[1] == ARGV[1] and ARGV[3] == 'active' and current[3] == 'pending' then
    redis.call('HSET', KEYS[1], 'state', 'active', 'publicUrl', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
    return { current[1], ARGV[2], 'active', 'confirmed' }
  end
  return { current[1], current[2], current[3], 'existing' }
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'publicUrl', ARGV[2], 'state', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
return { ARGV[1], ARGV[2], ARGV[3], 'created' }`;

/**
 * KEYS: owned(owner), lease(channel 1), lease(channel 2), … ARGV: owner, publicUrl, ttlMs,
 * channelId 1, channelId 2, … (in the order of the lease keys).
 * Returns per channel 1 (renewed), 2 (the lease was gone — Redis restarted or it expired unclaimed —
 * and is ours again) or 0 (another node holds it: lost). Never touches another node's lease.
 */
export const RENEW_SCRIPT = `${NOW}
local results = {}
for i = 2, #KEYS do
  local channelId = ARGV[i + 2]
  local owner = redis.call('HGET', KEYS[i], 'owner')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), channelId)
    results[#results + 1] = 1
  elseif not owner then
    redis.call('HSET', KEYS[i], 'owner', ARGV[1], 'publicUrl', ARGV[2], 'state', 'active')
    redis.call('PEXPIRE', KEYS[i], ARGV[3])
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), channelId)
    results[#results + 1] = 2
  else
    redis.call('ZREM', KEYS[1], channelId)
    results[#results + 1] = 0
  end
end
return results`;

/** KEYS: lease, owned(owner). ARGV: owner, channelId. Deletes the lease only when it is the owner's: 1, else 0. */
export const RELEASE_SCRIPT = `
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

/** KEYS: owned(node 1), owned(node 2), … Returns each node's count of unexpired leases (expired entries pruned). */
export const COUNT_SCRIPT = `${NOW}
local counts = {}
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  counts[i] = redis.call('ZCARD', KEYS[i])
end
return counts`;
