import { STREAM_RETRY_MS } from './rate-limiter.ts';
import { BUCKET_MS, WINDOW_BUCKETS, WINDOW_MS } from './sliding-window.ts';

/**
 * Lua run atomically by Redis, so that instances sharing the counters never
 * interleave a check with another instance's update. The window arithmetic
 * mirrors SlidingWindow (sliding-window.ts); the shared specification in
 * rate-limiter.test.ts holds both to the same numbers.
 *
 * Every script takes the time as its first argument: milliseconds from the
 * caller, or '' to read Redis's own clock. The server clock is the default
 * because gateway hosts' clocks drift apart and windows and lease deadlines
 * written by one instance are read by the others; an injected clock is how
 * tests make a minute pass without waiting for it.
 */
const common = `
local BUCKET_MS = ${BUCKET_MS}
local WINDOW_BUCKETS = ${WINDOW_BUCKETS}
local WINDOW_MS = ${WINDOW_MS}

local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- The live buckets of a window hash (field: bucket number, value: amount),
-- oldest first, and their total; buckets that left the window are deleted.
local function live_window(key, now)
  local oldest_live = math.floor(now / BUCKET_MS) - WINDOW_BUCKETS + 1
  local flat = redis.call('HGETALL', key)
  local buckets, total = {}, 0
  for i = 1, #flat, 2 do
    local bucket, amount = tonumber(flat[i]), tonumber(flat[i + 1])
    if bucket < oldest_live then
      redis.call('HDEL', key, flat[i])
    else
      total = total + amount
      buckets[#buckets + 1] = { bucket, amount }
    end
  end
  table.sort(buckets, function(a, b) return a[1] < b[1] end)
  return buckets, total
end

-- Milliseconds until the total has fallen to target or below.
local function ms_until_at_most(buckets, total, target, now)
  for _, entry in ipairs(buckets) do
    total = total - entry[2]
    if total <= target then return (entry[1] + WINDOW_BUCKETS) * BUCKET_MS - now end
  end
  return 0
end

local function add(key, now, amount)
  redis.call('HINCRBY', key, math.floor(now / BUCKET_MS), amount)
  redis.call('PEXPIRE', key, WINDOW_MS)
end
`;

/**
 * KEYS: requests window, tokens window, stream leases (sorted set: slot id -> lease deadline).
 * ARGV: now, requestsPerMinute, tokensPerMinute, concurrentStreams (0 = unlimited),
 *       slot id ('' when the request takes no slot), lease ms.
 * Returns {1, '', 0} when admitted, {0, limit, retryAfterMs} when refused.
 */
export const admitScript = `${common}
local now = clock(ARGV[1])
local rpm, tpm, max_streams = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local slot, lease_ms = ARGV[5], tonumber(ARGV[6])

-- Like longestWait in memory.ts: report the limit the caller must wait for longest.
local refused, retry_after = nil, -1
local function refuse(limit, ms)
  if ms > retry_after then refused, retry_after = limit, ms end
end

if rpm > 0 then
  local buckets, total = live_window(KEYS[1], now)
  if total >= rpm then refuse('requests', ms_until_at_most(buckets, total, rpm - 1, now)) end
end
if tpm > 0 then
  local buckets, total = live_window(KEYS[2], now)
  if total >= tpm then refuse('tokens', ms_until_at_most(buckets, total, tpm - 1, now)) end
end
if slot ~= '' then
  -- Leases of instances that died without releasing their slots end here.
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_streams then refuse('streams', ${STREAM_RETRY_MS}) end
end
if refused then return { 0, refused, retry_after } end

if rpm > 0 then add(KEYS[1], now, 1) end
if slot ~= '' then
  redis.call('ZADD', KEYS[3], now + lease_ms, slot)
  redis.call('PEXPIRE', KEYS[3], lease_ms)
end
return { 1, '', 0 }
`;

/** KEYS: tokens window. ARGV: now, tokens. */
export const recordTokensScript = `${common}
local now = clock(ARGV[1])
live_window(KEYS[1], now)
add(KEYS[1], now, tonumber(ARGV[2]))
return 1
`;

/**
 * KEYS: stream leases. ARGV: now, lease ms, slot ids...
 * Extends the leases that still exist; a lease that already expired stays gone
 * (its slot may have been given to someone else). Returns how many were lost.
 */
export const renewLeasesScript = `${common}
local deadline = clock(ARGV[1]) + tonumber(ARGV[2])
local lost = 0
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], deadline, ARGV[i])
  else
    lost = lost + 1
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return lost
`;
