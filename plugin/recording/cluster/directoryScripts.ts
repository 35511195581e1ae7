/**
 * The Lua scripts behind RecordingDirectory. Each runs atomically in Redis: an event reaches the
 * stream and the recording's entry together (or neither), and a dead node's recordings are declared
 * failed by exactly one node however many noticed the death at once.
 *
 * An entry is a hash { nodeId, channelId, phase, lastSeq, startedAt, view (JSON), lost, lostEvent,
 * segment, spec, orphaned, orphanedAt }. The owner's publishes only move lastSeq forward, so a
 * retried publish is a no-op; a publish of an older segment than the entry's (its node was declared
 * dead and another took the recording over) is refused, so a node that comes back cannot take the
 * entry back. `spec` (sealed, see recordingSpec.ts) is what a takeover needs; a node's death turns
 * its recordings with a spec into orphans (`orphaned` = the dead node) for another recorder to claim.
 */

/** Lua: declares one recording failed (its entry key, id, stream, and the dead node and message as FAIL_NODE_SCRIPT takes them); returns its fatalError's JSON. */
const FAIL_ENTRY = `
local function failEntry(key, id, stream, deadNode, code, message, at, maxLength, retainMs)
  local entry = redis.call('HMGET', key, 'lastSeq', 'channelId')
  local seq = tonumber(entry[1] or '0') + 1
  local event = cjson.encode({ type = 'fatalError', recordingId = id, channelId = entry[2] or '', code = code, message = message, seq = seq, at = at, nodeId = deadNode })
  redis.call('HSET', key, 'phase', 'failed', 'lastSeq', seq, 'lost', '1', 'lostEvent', event)
  redis.call('HDEL', key, 'spec', 'orphaned', 'orphanedAt')
  redis.call('PEXPIRE', key, retainMs)
  redis.call('XADD', stream, 'MAXLEN', '~', maxLength, '*', 'event', event)
  return event
end
`;

/**
 * KEYS: entry, index (sorted set by startedAt), the node's active set, stream.
 * ARGV: recordingId, seq, nodeId, channelId, phase, startedAtMs, viewJson, eventJson, maxLength,
 * final ('1' when the phase is stopped/failed), retainMs, segment, sealed spec ('' for none).
 * Returns 1 when published, 0 for a repeat, -1 when the recording has moved on to a later segment.
 */
export const PUBLISH_SCRIPT = `
local current = redis.call('HMGET', KEYS[1], 'lastSeq', 'segment')
if tonumber(ARGV[12]) < tonumber(current[2] or '0') then return -1 end
if tonumber(ARGV[2]) <= tonumber(current[1] or '0') then return 0 end
redis.call('HSET', KEYS[1], 'nodeId', ARGV[3], 'channelId', ARGV[4], 'phase', ARGV[5], 'lastSeq', ARGV[2], 'view', ARGV[7], 'segment', ARGV[12])
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[6])
redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[1])
if ARGV[10] == '1' then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[1], 'spec')
  redis.call('PEXPIRE', KEYS[1], ARGV[11])
else
  if ARGV[13] ~= '' then redis.call('HSET', KEYS[1], 'spec', ARGV[13]) end
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('PERSIST', KEYS[1])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', 'event', ARGV[8])
return 1
`;

/**
 * KEYS: the dead node's active set, stream, the orphans set. ARGV: entry key prefix, dead nodeId,
 * code, message, ISO time, maxLength, how long a lost entry waits for its node to come back (ms),
 * '1' when recordings with a spec are to be taken over, now (ms). Every recording of the node still
 * starting/running/stopping is either made an orphan (running, with a spec, takeover on: another
 * recorder claims it with CLAIM_SCRIPT) or set failed with one more event, fatalError, published
 * like the owner's own. Returns those events' JSON.
 */
export const FAIL_NODE_SCRIPT = `${FAIL_ENTRY}
local failed = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  local entry = redis.call('HMGET', key, 'phase', 'nodeId', 'spec', 'orphaned')
  if not entry[1] then
    redis.call('SREM', KEYS[1], id)
  elseif entry[2] == ARGV[2] and (entry[1] == 'starting' or entry[1] == 'running' or entry[1] == 'stopping') then
    if entry[1] == 'running' and entry[3] and ARGV[8] == '1' then
      if not entry[4] then
        redis.call('HSET', key, 'orphaned', ARGV[2], 'orphanedAt', ARGV[9])
        redis.call('SADD', KEYS[3], id)
      end
    else
      table.insert(failed, failEntry(key, id, KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]))
    end
  end
end
return failed
`;

/**
 * KEYS: entry, orphans set, the dead node's active set, the claimer's active set. ARGV: recordingId,
 * dead nodeId, claiming nodeId. The first recorder to claim an orphan owns it: its segment number
 * goes up by one and the entry names the claimer. Returns { segment, lastSeq, spec, view }, or nil
 * when it is not (or no longer) that node's orphan.
 */
export const CLAIM_SCRIPT = `
local entry = redis.call('HMGET', KEYS[1], 'orphaned', 'nodeId', 'lastSeq', 'spec', 'view')
if entry[1] ~= ARGV[2] or entry[2] ~= ARGV[2] or not entry[4] then return nil end
local segment = redis.call('HINCRBY', KEYS[1], 'segment', 1)
redis.call('HSET', KEYS[1], 'nodeId', ARGV[3])
redis.call('HDEL', KEYS[1], 'orphaned', 'orphanedAt')
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return { segment, entry[3], entry[4], entry[5] }
`;

/**
 * KEYS: entry, orphans set, stream. ARGV: recordingId, dead nodeId, code, message, ISO time,
 * maxLength, retainMs. An orphan nobody claimed (no recorder had room) fails as FAIL_NODE_SCRIPT
 * fails the others. Returns its fatalError's JSON, or nil when it was claimed or failed meanwhile.
 */
export const FAIL_ORPHAN_SCRIPT = `${FAIL_ENTRY}
redis.call('SREM', KEYS[2], ARGV[1])
local entry = redis.call('HMGET', KEYS[1], 'orphaned', 'nodeId')
if entry[1] ~= ARGV[2] or entry[2] ~= ARGV[2] then return nil end
return failEntry(KEYS[1], ARGV[1], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
`;
