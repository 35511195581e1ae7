/**
 * The Lua scripts behind RecordingDirectory. Each runs atomically in Redis: an event reaches the
 * stream and the recording's entry together (or neither), and a dead node's recordings are declared
 * failed by exactly one node however many noticed the death at once.
 *
 * An entry is a hash { nodeId, channelId, phase, lastSeq, startedAt, view (JSON), lost, lostEvent }.
 * The owner's publishes only move lastSeq forward, so a retried publish is a no-op.
 */

/**
 * KEYS: entry, index (sorted set by startedAt), the node's active set, stream.
 * ARGV: recordingId, seq, nodeId, channelId, phase, startedAtMs, viewJson, eventJson, maxLength,
 * final ('1' when the phase is stopped/failed), retainMs.
 * Returns 1 when published, 0 for a repeat.
 */
export const PUBLISH_SCRIPT = `
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '0')
if tonumber(ARGV[2]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'nodeId', ARGV[3], 'channelId', ARGV[4], 'phase', ARGV[5], 'lastSeq', ARGV[2], 'view', ARGV[7])
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[6])
redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[1])
if ARGV[10] == '1' then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[11])
else
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('PERSIST', KEYS[1])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'event', ARGV[8])
return 1
`;

/**
 * KEYS: the dead node's active set, stream. ARGV: entry key prefix, dead nodeId, code, message,
 * ISO time, maxLength, how long a lost entry waits for its node to come back (ms). Every recording of the node still starting/running/stopping is set failed
 * with one more event, fatalError, published like the owner's own. Returns those events' JSON.
 */
export const FAIL_NODE_SCRIPT = `
local failed = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local entry = redis.call('HMGET', key, 'phase', 'lastSeq', 'channelId', 'nodeId')
  if not entry[1] then
    redis.call('SREM', KEYS[1], id)
  elseif entry[4] == ARGV[2] and (entry[1] == 'starting' or entry[1] == 'running' or entry[1] == 'stopping') then
    local seq = tonumber(entry[2]) + 1
    local event = cjson.encode({ type = 'fatalError', recordingId = id, channelId = entry[3] or '', code = ARGV[3], message = ARGV[4], seq = seq, at = ARGV[5], nodeId = ARGV[2] })
    redis.call('HSET', key, 'phase', 'failed', 'lastSeq', seq, 'lost', '1', 'lostEvent', event)
    redis.call('PEXPIRE', key, ARGV[7])
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'event', event)
    table.insert(failed, event)
  end
end
return failed
`;
