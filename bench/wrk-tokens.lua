-- wrk script for the Gatehouse benchmark's token runs: every request carries the next JWT of a pool as
-- "Authorization: Bearer <token>", rotating through the pool (one token per request). TOKENS names the pool
-- file (one JWT per line, written by lib/tokens.ts). The requests are built once in init(), so the per-request
-- Lua work is one table lookup; each thread starts at its own random place in the pool.
-- When the run ends it prints the same machine-readable line as wrk-json.lua, which bench/run.ts parses:
--   WRKJSON {"requests":...,"p50_us":...,...}
-- Latencies are in microseconds; "non2xx" is wrk's status-error counter (responses with status >= 400).
local reqs, n, i = {}, 0, 0
local threads = 0

function setup(thread)
  thread:set("tid", threads) -- becomes a global in that thread's Lua state
  threads = threads + 1
end

function init(args)
  local path = os.getenv("TOKENS")
  if not path or path == "" then error("wrk-tokens.lua: set TOKENS to a file with one JWT per line") end
  for line in io.lines(path) do
    if line ~= "" then
      n = n + 1
      reqs[n] = wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. line })
    end
  end
  if n == 0 then error("wrk-tokens.lua: no tokens in " .. path) end
  math.randomseed(os.time() + 7919 * (tid or 0))
  i = math.random(n) - 1
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_err":%d,"read_err":%d,' ..
    '"write_err":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
