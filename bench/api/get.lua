-- wrk script: GET one path (API_PATH) with an API key (API_KEY), keep-alive (wrk's default).
-- Prints `<BENCH_NAME> rps=... p50_us=... p99_us=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.get"
wrk.method = "GET"
wrk.path = os.getenv("API_PATH") or "/"
local key = os.getenv("API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non_200 = 0
end

function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non_200") end
  local e = summary.errors
  io.write(string.format("%s rps=%.0f p50_us=%d p99_us=%d non_200=%d errors=%d\n", name,
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout))
end
