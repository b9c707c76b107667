/**
 * Lua scripts of the Redis engine. Each runs atomically on the server, so assigning a serial,
 * appending to the log, trimming it and publishing the event to every node are one step.
 *
 * A channel is three keys under one hash tag: `m` (hash: e = epoch, s = last seq, t = last
 * timestamp, rc / ra = the channel's own log retention when it has one), `l` (list of log entries,
 * oldest first, contiguous seqs ending at `s`) and `p` (hash: presence member key → msgpack member).
 * Every append also scores the channel in its app's active set (for channel enumeration). A log entry is a 15-digit timestamp followed by the msgpack
 * event body; what is published is `<epoch>|<seq>|<entry>`.
 *
 * Serials are formatted here exactly as engine/serial.ts formats them (base 36, 11 digits; message
 * index 3 digits): the engine contract suite checks that the two agree.
 */
const PRELUDE = `
local function b36(n, width)
  local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  local s = ''
  repeat
    local d = n % 36
    s = string.sub(digits, d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  if #s < width then s = string.rep('0', width - #s) .. s end
  return s
end

local function ensure_epoch(meta, candidate)
  local e = redis.call('HGET', meta, 'e')
  if not e then
    redis.call('HSET', meta, 'e', candidate, 's', 0, 't', 0)
    e = candidate
  end
  return e
end

-- The channel's log retention (count, age) and how long its keys live: its own, or the defaults.
local function retention_of(meta, defCount, defAge, defKeep)
  local count = tonumber(redis.call('HGET', meta, 'rc')) or defCount
  local age = tonumber(redis.call('HGET', meta, 'ra')) or defAge
  return count, age, math.max(defKeep, age * 2)
end

-- Drops entries past the count bound and older than the age bound; returns the log length.
local function trim(log, now, maxCount, maxAge)
  local len = redis.call('LLEN', log)
  if len > maxCount then
    redis.call('LTRIM', log, len - maxCount, -1)
    len = maxCount
  end
  while len > 0 do
    local first = redis.call('LINDEX', log, 0)
    if tonumber(string.sub(first, 1, 15)) < now - maxAge then
      redis.call('LPOP', log)
      len = len - 1
    else
      break
    end
  end
  return len
end

-- Records the publishing connection's msgSerial with the append (exactly once across node failure).
-- False when another node has taken the connection over since: a publish still in flight from the
-- old node must not land, as the client re-sends it to the new one.
local function record_msg_serial(conn, msgSerial, owner)
  if conn == '' or redis.call('EXISTS', conn) == 0 then return true end
  if redis.call('HGET', conn, 'o') ~= owner then return false end
  local current = tonumber(redis.call('HGET', conn, 'ms')) or -1
  if tonumber(msgSerial) > current then redis.call('HSET', conn, 'ms', msgSerial) end
  return true
end

local function touch(meta, log, retention)
  redis.call('PEXPIRE', meta, retention)
  redis.call('PEXPIRE', log, retention)
end

-- Appends one event and publishes it; timestamps never go backwards within a channel.
local function append(meta, log, epoch, now, body, defCount, defAge, defKeep, topic, active, name)
  local maxCount, maxAge, keep = retention_of(meta, defCount, defAge, defKeep)
  local seq = redis.call('HINCRBY', meta, 's', 1)
  local t = math.max(now, tonumber(redis.call('HGET', meta, 't')) or 0)
  redis.call('HSET', meta, 't', t)
  local entry = string.format('%015d', t) .. body
  redis.call('RPUSH', log, entry)
  trim(log, now, maxCount, maxAge)
  touch(meta, log, keep)
  redis.call('ZADD', active, now, name)
  redis.call('PUBLISH', topic, epoch .. '|' .. seq .. '|' .. entry)
  return seq, t
end
`;

/**
 * KEYS: meta, log, the app's active set, then one idempotency key per message id. ARGV: now,
 * maxCount, maxAge, key retention, topic, epoch candidate, body, id window (ms), channel name, the
 * channel's own retention count and age ('' = keep what it has), the publishing connection's hash
 * key ('' = none), its msgSerial and this node's id, then the index of each id's message. Returns
 * {'moved'} when another node owns the connection now, {'dup', serial-or-'' per id} when any id
 * was seen (nothing appended in either case), else {'ok', epoch, seq, t}.
 */
export const PUBLISH = `${PRELUDE}
local meta, log, active = KEYS[1], KEYS[2], KEYS[3]
local now, maxCount, maxAge, retention = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local nIds = #KEYS - 3
if not record_msg_serial(ARGV[12], ARGV[13], ARGV[14]) then return {'moved'} end
-- An id key holds '<serial>|<time published>'; it counts within the window by the node's clock
-- (its TTL only cleans up).
if nIds > 0 then
  local found, any = {}, false
  for i = 1, nIds do
    local v = redis.call('GET', KEYS[3 + i])
    found[i] = ''
    if v then
      local bar = string.find(v, '|', 1, true)
      if now - tonumber(string.sub(v, bar + 1)) <= tonumber(ARGV[8]) then
        any = true
        found[i] = string.sub(v, 1, bar - 1)
      end
    end
  end
  if any then return {'dup', unpack(found)} end
end
local epoch = ensure_epoch(meta, ARGV[6])
if ARGV[10] ~= '' then redis.call('HSET', meta, 'rc', ARGV[10], 'ra', ARGV[11]) end
local seq, t = append(meta, log, epoch, now, ARGV[7], maxCount, maxAge, retention, ARGV[5], active, ARGV[9])
local serial = epoch .. '-' .. b36(seq, 11)
for i = 1, nIds do
  redis.call('SET', KEYS[3 + i], serial .. ':' .. b36(tonumber(ARGV[14 + i]), 3) .. '|' .. now, 'PX', tonumber(ARGV[8]))
end
return {'ok', epoch, tostring(seq), tostring(t)}
`;

/**
 * Compare-and-set of presence members, plus the event. KEYS: meta, log, members, the app's active
 * set. ARGV: now, maxCount, maxAge, retention, topic, epoch candidate, body ('' = no event),
 * maxMembers, added, channel name, the connection's hash key ('' = none), its msgSerial and this
 * node's id, then three counted groups: expectations (key, value or '' for absent), upserts (key,
 * value), removals (key). Returns {'moved'} when another node owns the connection now, {'retry'}
 * when a member changed since it was read, {'full'} past maxMembers, {'noop'} with no event, else
 * {'ok', epoch, seq, t}.
 */
export const PRESENCE = `${PRELUDE}
local meta, log, members, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, maxCount, maxAge, retention = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not record_msg_serial(ARGV[11], ARGV[12], ARGV[13]) then return {'moved'} end
local i = 14
local nExpect = tonumber(ARGV[i]); i = i + 1
for _ = 1, nExpect do
  local current = redis.call('HGET', members, ARGV[i])
  local expected = ARGV[i + 1]
  if (expected == '' and current) or (expected ~= '' and current ~= expected) then return {'retry'} end
  i = i + 2
end
local added = tonumber(ARGV[9])
if added > 0 and redis.call('HLEN', members) + added > tonumber(ARGV[8]) then return {'full'} end
local nUpsert = tonumber(ARGV[i]); i = i + 1
for _ = 1, nUpsert do
  redis.call('HSET', members, ARGV[i], ARGV[i + 1])
  i = i + 2
end
local nRemove = tonumber(ARGV[i]); i = i + 1
for _ = 1, nRemove do
  redis.call('HDEL', members, ARGV[i])
  i = i + 1
end
if ARGV[7] == '' then return {'noop'} end
local epoch = ensure_epoch(meta, ARGV[6])
local seq, t = append(meta, log, epoch, now, ARGV[7], maxCount, maxAge, retention, ARGV[5], active, ARGV[10])
return {'ok', epoch, tostring(seq), tostring(t)}
`;

/**
 * Everything an ATTACH (or a read) needs, as of one instant. KEYS: meta, log, members. ARGV: now,
 * maxCount, maxAge, retention, epoch candidate, mode ('none' | 'from' | 'all'), from epoch, from
 * seq, limit, with members ('1' | '0'). Returns {epoch, seq, oldest, status, members, entries}:
 * status is 'complete' or 'incomplete' for mode 'from'; entries start at seq `from + 1` (mode
 * 'from') or at `oldest` (mode 'all').
 */
export const READ = `${PRELUDE}
local meta, log, members = KEYS[1], KEYS[2], KEYS[3]
local now, maxCount, maxAge, retention = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local epoch = ensure_epoch(meta, ARGV[5])
local count, age, keep = retention_of(meta, maxCount, maxAge, retention)
local len = trim(log, now, count, age)
touch(meta, log, keep)
local seq = tonumber(redis.call('HGET', meta, 's'))
local oldest = seq - len + 1
local memberValues = {}
if ARGV[10] == '1' then memberValues = redis.call('HVALS', members) end
local entries, status = {}, ''
local mode = ARGV[6]
if mode == 'from' then
  local fromSeq = tonumber(ARGV[8])
  if ARGV[7] ~= epoch or fromSeq > seq or fromSeq + 1 < oldest then
    status = 'incomplete'
  else
    status = 'complete'
    local start = fromSeq - oldest + 1
    entries = redis.call('LRANGE', log, start, start + tonumber(ARGV[9]) - 1)
  end
elseif mode == 'all' then
  entries = redis.call('LRANGE', log, 0, -1)
end
return {epoch, tostring(seq), tostring(oldest), status, memberValues, entries}
`;

/** The members of one connection. KEYS: members. ARGV: member key prefix. Returns key, value pairs. */
export const CONNECTION_MEMBERS = `
local out = {}
local prefix = ARGV[1]
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #prefix) == prefix then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
`;

/**
 * Appends the events of a change to one message (message-chain.ts) if the message's latest form
 * is still the one it was computed from. KEYS: meta, log, chains, the app's active set. ARGV: now,
 * maxCount, maxAge, key retention, topic, the message's epoch, channel name, the channel's own
 * retention count and age ('' = keep), the connection's hash key ('' = none), its msgSerial, this
 * node's id, the message serial, its event's seq, the expected token (seq of the event holding its
 * latest form), then the event bodies. Returns {'moved'}, {'gone'} (the log no longer holds the
 * message), {'retry'} (it changed since it was read), else {'ok', epoch, first seq, t}.
 *
 * Chains of messages that left the log are dropped once the hash holds twice as many as the log.
 */
export const AMEND = `${PRELUDE}
local meta, log, chains, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, defCount, defAge, defKeep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not record_msg_serial(ARGV[10], ARGV[11], ARGV[12]) then return {'moved'} end
local epoch = redis.call('HGET', meta, 'e')
if epoch ~= ARGV[6] then return {'gone'} end
if ARGV[8] ~= '' then redis.call('HSET', meta, 'rc', ARGV[8], 'ra', ARGV[9]) end
local maxCount, maxAge, keep = retention_of(meta, defCount, defAge, defKeep)
local len = trim(log, now, maxCount, maxAge)
local s = tonumber(redis.call('HGET', meta, 's'))
local target = tonumber(ARGV[14])
if target < s - len + 1 or target > s then return {'gone'} end
local current = tonumber(redis.call('HGET', chains, ARGV[13])) or target
if current ~= tonumber(ARGV[15]) then return {'retry'} end
local first, last, t
for i = 16, #ARGV do
  local seq, ts = append(meta, log, epoch, now, ARGV[i], defCount, defAge, defKeep, ARGV[5], active, ARGV[7])
  first = first or seq
  t = t or ts
  last = seq
end
redis.call('HSET', chains, ARGV[13], last)
redis.call('PEXPIRE', chains, keep)
local n = redis.call('HLEN', chains)
if n > 2 * maxCount + 16 then
  local oldest = last - redis.call('LLEN', log) + 1
  local fields = redis.call('HKEYS', chains)
  for _, field in ipairs(fields) do
    local digits = string.match(field, '%-(%w+):')
    local seq = digits and tonumber(digits, 36)
    if not seq or seq < oldest then redis.call('HDEL', chains, field) end
  end
end
return {'ok', epoch, tostring(first), tostring(t)}
`;

/**
 * A message of the log and the event holding its latest form. KEYS: meta, log, chains. ARGV: now,
 * maxCount, maxAge, key retention, the message's epoch, its event's seq, the message serial.
 * Returns {'gone'} when the log does not hold that event, else {'ok', token, original entry,
 * latest entry ('' while unchanged)}.
 */
export const MESSAGE = `${PRELUDE}
local meta, log, chains = KEYS[1], KEYS[2], KEYS[3]
local now, defCount, defAge, defKeep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', meta, 'e') ~= ARGV[5] then return {'gone'} end
local maxCount, maxAge = retention_of(meta, defCount, defAge, defKeep)
local len = trim(log, now, maxCount, maxAge)
local s = tonumber(redis.call('HGET', meta, 's'))
local oldest = s - len + 1
local target = tonumber(ARGV[6])
if target < oldest or target > s then return {'gone'} end
local token = tonumber(redis.call('HGET', chains, ARGV[7])) or target
local latest = ''
if token ~= target then
  if token < oldest or token > s then return {'gone'} end
  latest = redis.call('LINDEX', log, token - oldest)
end
return {'ok', tostring(token), redis.call('LINDEX', log, target - oldest), latest}
`;
