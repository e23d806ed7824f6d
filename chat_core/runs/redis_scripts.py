"""The Redis keys of a run and the Lua scripts that change them atomically.

Per run (the ``{id}`` hash tag keeps a run's keys in one cluster slot, as Lua needs):

    chat:{id}:events   a stream; entry id ``<seq>-0``, field ``e`` = one event (``codec``)
    chat:{id}:lease    the owning instance's token, with a TTL it renews while it pulls
    chat:{id}:ended    set once the run has its Done (by the owner, or by a reaper)
    chat:{id}:cancel   the durable cancel flag (a missed pub/sub message is still seen)

Fencing: every append checks, in the same script, that the lease is still the
writer's, so an owner that lost its lease (it stalled, or Redis restarted) is
refused instead of writing after a reaper's Done.
"""

from __future__ import annotations

from dataclasses import dataclass

CANCEL_CHANNEL = "chat:cancel"


@dataclass(frozen=True, slots=True)
class RunKeys:
    """The Redis keys of one run."""

    events: str
    lease: str
    ended: str
    cancel: str
    readers: str  # set while a client reads the run on any instance (the orphan window)

    @classmethod
    def of(cls, run_id: str) -> RunKeys:
        """The keys of run ``run_id``."""
        base = "chat:{" + run_id + "}:"
        return cls(
            base + "events", base + "lease", base + "ended", base + "cancel", base + "readers"
        )


# Every dirty run's appends of one flush in one call: per event, one XADD in Redis and no
# command of its own on the wire (one EVALSHA per flush instead of one per run cut the
# owner's CPU per event by about half at 1,000 streams; docs/benchmarks.md, section 5).
# KEYS: events, lease, ended of each run, in order. ARGV: owner, maxlen, ttl_ms, then per
# run: done ("1"/"0"), the number of events, then that many seq, event pairs.
# Returns one number per run: 1 written, 0 when the lease is not the writer's (fenced:
# nothing of that run written). Keys of many runs in one script: one Redis node, not Cluster.
# An entry Redis already has is skipped, not an error: a flush whose reply was lost (a
# socket timeout) is sent again whole, and one run's "ID equal or smaller" failing the call
# would fail every retry, leaving all the flush's runs unfinished.
APPEND = """
local owner, maxlen, ttl = ARGV[1], ARGV[2], ARGV[3]
local written = {}
local a = 4
for k = 1, #KEYS, 3 do
  local done, count = ARGV[a], tonumber(ARGV[a + 1])
  local first = a + 2
  a = first + 2 * count
  if redis.call('GET', KEYS[k + 1]) ~= owner then
    written[#written + 1] = 0
  else
    for i = first, a - 1, 2 do
      local id = ARGV[i] .. '-0'
      local r = redis.pcall('XADD', KEYS[k], 'MAXLEN', '~', maxlen, id, 'e', ARGV[i + 1])
      if type(r) == 'table' and r.err and not string.find(r.err, 'equal or smaller', 1, true) then
        return redis.error_reply(r.err)
      end
    end
    redis.call('PEXPIRE', KEYS[k], ttl)
    if done == '1' then
      redis.call('DEL', KEYS[k + 1])
      redis.call('SET', KEYS[k + 2], '1', 'PX', ttl)
    end
    written[#written + 1] = 1
  end
end
return written
"""

# Every owned run's renewal in one call (as APPEND: one command however many runs).
# KEYS: lease, cancel of each run, in order. ARGV: owner, lease_ms.
# Returns one number per run: 1 renewed, 0 lost (another owner or none: stop pulling),
# 2 renewed but cancelled.
RENEW = """
local renewed = {}
for k = 1, #KEYS, 2 do
  if redis.call('GET', KEYS[k]) ~= ARGV[1] then
    renewed[#renewed + 1] = 0
  else
    redis.call('PEXPIRE', KEYS[k], ARGV[2])
    renewed[#renewed + 1] = redis.call('EXISTS', KEYS[k + 1]) == 1 and 2 or 1
  end
end
return renewed
"""

# KEYS: events, lease, ended. ARGV: ttl_ms, error event, done event, the caller's last seq.
# Ends a run whose owner is gone: only when no lease and no Done, so exactly once.
# Returns the seq of the Done it wrote, or 0 when the run needs no reaping.
REAP = """
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local seq = tonumber(ARGV[4])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local stored = tonumber(string.match(last[1][1], '^(%d+)'))
  if stored > seq then seq = stored end
end
redis.call('XADD', KEYS[1], (seq + 1) .. '-0', 'e', ARGV[2])
redis.call('XADD', KEYS[1], (seq + 2) .. '-0', 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
return seq + 2
"""
