/**
 * Lua scripts of the Redis store. Each operation is one script, so it is atomic and costs one round
 * trip. Time always comes from the caller (ARGV), never from the server clock; key TTLs (PEXPIRE)
 * only collect garbage, with a margin, and never decide anything.
 *
 * Numbers that must survive exactly (timestamps, amounts) are stored from the ARGV strings the caller
 * sent, not re-formatted by Lua.
 */

/** Extra lifetime of a key beyond the last moment its content can matter, in ms. */
export const GC_MARGIN_MS = 60_000;

/**
 * The longest TTL the scripts set, in ms (about 31,700 years). Redis refuses an expiry of 10^17 ms
 * or more (the number reaches it in exponent form), and a script that fails after its first write
 * keeps that write: a longer window or lease keeps its keys this long.
 */
export const MAX_TTL_MS = 1e15;

/** Extends a key's TTL to at least `ms` (at most MAX_TTL_MS), never shortens it. */
const KEEP = `
local function keep(key, ms)
  ms = math.ceil(math.min(ms, ${MAX_TTL_MS}))
  local ttl = redis.call('PTTL', key)
  if ttl >= 0 and ttl >= ms then return end
  redis.call('PEXPIRE', key, ms)
end
`;

/**
 * KEYS: suspensions hash, then rate zsets, semaphore zsets, budget zsets, budget amount hashes.
 * ARGV: now, nowText, holder, peek, margin, nS, nR, nC, nB, suspension fields…, (limit, window)×nR,
 *       (limit, lease)×nC, (amount, max, window)×nB.
 * Returns {1} or {0, kind (1 suspended, 2 rate, 3 concurrency, 4 budget), index (1-based), retryAfterMs or -1}.
 */
export const ADMIT: string = `${KEEP}
local now = tonumber(ARGV[1])
local nowText = ARGV[2]
local holder = ARGV[3]
local peek = ARGV[4] == '1'
local margin = tonumber(ARGV[5])
local nS, nR, nC, nB = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local a = 10
local k = 2

if nS > 0 then
  local fields = {}
  for i = 1, nS do fields[i] = ARGV[a + i - 1] end
  local values = redis.call('HMGET', KEYS[1], unpack(fields))
  for i = 1, nS do
    local v = values[i]
    if v then
      local entry = cjson.decode(v)
      if entry['until'] == nil or entry['until'] == cjson.null or tonumber(entry['until']) > now then
        return {0, 1, i, -1}
      end
    end
  end
end
a = a + nS

local rateKeys, rateArgs = {}, {}
for i = 1, nR do
  local key = KEYS[k]
  k = k + 1
  local limit, window = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  rateKeys[i] = key
  rateArgs[i] = {limit, window, ARGV[a + 1]}
  a = a + 2
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if not redis.call('ZSCORE', key, holder) then
    local count = redis.call('ZCARD', key)
    if count >= limit then
      local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
      local retry = window
      if oldest[2] then retry = tonumber(oldest[2]) + window - now end
      if retry < 1 then retry = 1 end
      return {0, 2, i, math.ceil(retry)}
    end
  end
end

local semKeys, semArgs = {}, {}
for i = 1, nC do
  local key = KEYS[k]
  k = k + 1
  local limit, lease = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  semKeys[i] = key
  semArgs[i] = {limit, lease}
  a = a + 2
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, holder) then
    if redis.call('ZCARD', key) >= limit then return {0, 3, i, -1} end
  end
end

local budgetKeys, budgetArgs = {}, {}
for i = 1, nB do
  local key = KEYS[k]
  local amounts = KEYS[k + nB]
  k = k + 1
  local amount, max, window = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  budgetKeys[i] = {key, amounts}
  budgetArgs[i] = {ARGV[a], window}
  a = a + 3
  local gone = redis.call('ZRANGEBYSCORE', key, '-inf', now - window)
  for j = 1, #gone, 1000 do
    redis.call('HDEL', amounts, unpack(gone, j, math.min(j + 999, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if not redis.call('ZSCORE', key, holder) then
    local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    local ids = {}
    for j = 1, #entries, 2 do ids[#ids + 1] = entries[j] end
    local values = {}
    for j = 1, #ids, 1000 do
      local part = redis.call('HMGET', amounts, unpack(ids, j, math.min(j + 999, #ids)))
      for _, v in ipairs(part) do values[#values + 1] = tonumber(v) or 0 end
    end
    local total = 0
    for j = 1, #values do total = total + values[j] end
    if total + amount > max then
      local retry = -1
      if amount <= max then
        for j = 1, #values do
          total = total - values[j]
          if total + amount <= max then
            retry = tonumber(entries[2 * j]) + window - now
            if retry < 1 then retry = 1 end
            retry = math.ceil(retry)
            break
          end
        end
      end
      return {0, 4, i, retry}
    end
  end
end

if peek then return {1} end

for i = 1, nR do
  local key = rateKeys[i]
  if not redis.call('ZSCORE', key, holder) then redis.call('ZADD', key, nowText, holder) end
  keep(key, rateArgs[i][2] + margin)
end
for i = 1, nC do
  local key = semKeys[i]
  redis.call('ZADD', key, now + semArgs[i][2], holder)
  keep(key, semArgs[i][2] + margin)
end
for i = 1, nB do
  local key, amounts = budgetKeys[i][1], budgetKeys[i][2]
  if not redis.call('ZSCORE', key, holder) then
    redis.call('ZADD', key, nowText, holder)
    redis.call('HSET', amounts, holder, budgetArgs[i][1])
  end
  keep(key, budgetArgs[i][2] + margin)
  keep(amounts, budgetArgs[i][2] + margin)
end
return {1}
`;

/** KEYS: semaphore zsets (nC), budget zsets (nB), budget amount hashes (nB). ARGV: holder, ran, nC, nB. */
export const SETTLE: string = `
local holder, ran = ARGV[1], ARGV[2] == '1'
local nC, nB = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, nC do redis.call('ZREM', KEYS[i], holder) end
if not ran then
  for i = 1, nB do
    redis.call('ZREM', KEYS[nC + i], holder)
    redis.call('HDEL', KEYS[nC + nB + i], holder)
  end
end
return 1
`;

/**
 * KEYS: suspensions hash. ARGV: field, entry JSON, now, margin. Writes the entry and drops the
 * entries that ended more than \`margin\` ms before \`now\` (the hash has no TTL: without this it
 * would keep every suspension with an end ever made). The margin leaves entries to processes
 * whose clocks run a little behind.
 */
export const SUSPEND: string = `
local now, margin = tonumber(ARGV[3]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if ok and type(entry) == 'table' then
    local ends = tonumber(entry['until'])
    if ends ~= nil and ends + margin <= now then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** KEYS: suspensions hash. ARGV: field, now. Returns 1 if a suspension was in force. */
export const RESUME: string = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local entry = cjson.decode(v)
if entry['until'] == nil or entry['until'] == cjson.null or tonumber(entry['until']) > tonumber(ARGV[2]) then return 1 end
return 0
`;

/** KEYS: record hash, index zset. ARGV: id, json, expiresAt ('' for none), gcMs ('' for none). */
export const PUT: string = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], 'u', 0)
if ARGV[4] ~= '' then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
local score = '+inf'
if ARGV[3] ~= '' then score = ARGV[3] end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return 1
`;

/**
 * KEYS: index zset. ARGV: record key prefix, now, index key, both after the store's prefix.
 * Returns {id, v, e, u, …} of live records. Record keys are built from the index key as it
 * arrived, so whatever the client put before it (an ioredis `keyPrefix`) is before them too.
 */
export const LIST: string = `
local base = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local r = redis.call('HMGET', base .. ARGV[1] .. id, 'v', 'e', 'u')
  if r[1] then
    out[#out + 1] = id
    out[#out + 1] = r[1]
    out[#out + 1] = r[2] or ''
    out[#out + 1] = r[3] or '0'
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`;

/** KEYS: record hash, index zset. ARGV: id. Returns 1 if the record existed. */
export const DELETE: string = `
local existed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return existed
`;

/** KEYS: record hash. ARGV: now, max, peek. Returns {ok, found, uses}. */
export const USE: string = `
local r = redis.call('HMGET', KEYS[1], 'v', 'e', 'u')
if not r[1] then return {0, 0, 0} end
if r[2] and r[2] ~= '' and tonumber(r[2]) <= tonumber(ARGV[1]) then return {0, 0, 0} end
local uses = tonumber(r[3]) or 0
if uses >= tonumber(ARGV[2]) then return {0, 1, uses} end
if ARGV[3] == '1' then return {1, 1, uses + 1} end
return {1, 1, redis.call('HINCRBY', KEYS[1], 'u', 1)}
`;

/** KEYS: claim key. ARGV: now, expiresAt, gcMs. Returns 1 for the first claimant. */
export const CLAIM: string = `
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;
