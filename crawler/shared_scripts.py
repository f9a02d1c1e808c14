"""The Lua scripts a scaled-out crawl runs in Redis: pacing, pauses, fetch locks, the busy heartbeat.

Each is one atomic step on Redis' own clock (``TIME``), so that workers on
machines with skewed clocks agree and none can act between another's look
and its update. Kept apart from the Python that calls them
(:mod:`crawler.scaleout`, :mod:`crawler.shared_frontier`) so that the record
formats read in one place.
"""

from __future__ import annotations

# Sets ``now``: Redis' time in epoch milliseconds.
NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
# KEYS: my alive key, the busy stamps; ARGV: lease ms, worker, stamps' expiry in seconds.
BUSY = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
""" + NOW + """
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
"""
# Pacing record value: "<next allowed epoch ms>:<holder token>".
CLAIM = NOW + """
local cur = redis.call('GET', KEYS[1])
if cur then
  local nxt = tonumber(string.match(cur, '^(%d+):'))
  if nxt and nxt > now then return nxt - now end
end
redis.call('SET', KEYS[1], (now + tonumber(ARGV[1])) .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 60000)
return 0
"""
RELEASE = NOW + """
local nxt = now + tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local held, holder = string.match(cur, '^(%d+):(.*)$')
  if holder ~= ARGV[2] and tonumber(held) > nxt then return 0 end
end
redis.call('SET', KEYS[1], nxt .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 60000)
return 1
"""
# Pause record: "<paused until epoch ms>:<what the origin answered>", never shortened.
PAUSE = NOW + """
local till = now + tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if cur then
  local held = tonumber(string.match(cur, '^(%d+):'))
  if held and held >= till then return 0 end
end
redis.call('SET', KEYS[1], till .. ':' .. ARGV[2], 'PX', tonumber(ARGV[1]) + 1000)
return 1
"""
PAUSED = NOW + """
local cur = redis.call('GET', KEYS[1])
if not cur then return {0, ''} end
local held, asked = string.match(cur, '^(%d+):(.*)$')
local left = tonumber(held) - now
if left <= 0 then return {0, ''} end
return {left, asked}
"""
# A fetch lock is released only by the worker whose token it holds.
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
