-- wrk script for the Gatehouse benchmark: adds nothing to the requests (no request()/response()
-- hooks, so wrk keeps its fast path) and, when the run ends, prints one machine-readable line
--   WRKJSON {"requests":...,"p50_us":...,...}
-- that bench/run.ts parses instead of wrk's human-oriented text. Latencies are in microseconds.
-- "non2xx" is wrk's status-error counter (responses with status >= 400, which wrk reports as
-- "Non-2xx or 3xx responses"); the driver checks for a 200 before measuring.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_err":%d,"read_err":%d,' ..
    '"write_err":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
