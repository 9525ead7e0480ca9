-- wrk script: POST /deployments from the stored template TEMPLATE with a unique name per
-- request (RUN_ID, the wrk thread and a counter), with an API key (API_KEY), keep-alive.
-- Prints `api.post_deployments accepted_per_s=... p50_us=... p99_us=... non_202=... errors=...`.
local key = os.getenv("API_KEY")
local template = os.getenv("TEMPLATE") or "web-app-stack"
local run = os.getenv("RUN_ID") or tostring(os.time())
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  accepted = 0
  non_202 = 0
  headers = {["X-API-Key"] = key, ["Content-Type"] = "application/json"}
end

function request()
  n = n + 1
  local body = string.format(
    '{"name":"b%s-%d-%d","template":"%s","cloud_region":"RegionOne"}', run, tid, n, template)
  return wrk.format("POST", "/deployments", headers, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else non_202 = non_202 + 1 end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("accepted")
    bad = bad + t:get("non_202")
  end
  local e = summary.errors
  io.write(string.format(
    "api.post_deployments accepted_per_s=%.0f accepted=%d p50_us=%d p99_us=%d non_202=%d errors=%d\n",
    ok / (summary.duration / 1e6), ok, latency:percentile(50), latency:percentile(99), bad,
    e.connect + e.read + e.write + e.timeout))
end
