-- wrk script for the Gatehouse benchmark's identity-token system: every request is the same client_credentials
-- token request, POST to the URL's path (the provider's token endpoint) with HTTP Basic client authentication:
--   Authorization: <line 1 of TOKEN_REQUEST>          (Basic base64(client_id:client_secret))
--   Content-Type: application/x-www-form-urlencoded
--   <line 2 of TOKEN_REQUEST>                          (grant_type=client_credentials&resource=...)
-- TOKEN_REQUEST names a file written by bench/lib/identity.ts (mode 0600, so the secret is on no command
-- line). The request is built once in init(). response() counts 2xx answers (a token was issued), which the
-- driver reports as the rate; everything else counts as an error.
-- When the run ends it prints the same machine-readable line as wrk-json.lua, plus "ok2xx":
--   WRKJSON {"requests":...,"ok2xx":...,"p50_us":...,...}
local req
local threads = {}
ok2xx = 0 -- global: read from each thread's Lua state in done()

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("TOKEN_REQUEST")
  if not path or path == "" then error("wrk-token-request.lua: set TOKEN_REQUEST to the request file") end
  local file = assert(io.open(path, "r"))
  local authorization = file:read("*l")
  local body = file:read("*l")
  file:close()
  if not authorization or not body or body == "" then error("wrk-token-request.lua: bad " .. path) end
  req = wrk.format("POST", wrk.path, {
    ["Authorization"] = authorization,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function request()
  return req
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok2xx = ok2xx + 1 end
end

function done(summary, latency, requests)
  local ok = 0
  for _, thread in ipairs(threads) do ok = ok + (thread:get("ok2xx") or 0) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"ok2xx":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect_err":%d,"read_err":%d,' ..
    '"write_err":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, ok, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
