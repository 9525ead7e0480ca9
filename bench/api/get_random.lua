-- wrk script: GET /deployments/{id} for ids drawn at random from the file IDS_FILE (one id a
-- line), with an API key (API_KEY), keep-alive.
-- Prints `<BENCH_NAME> p50_us=... p99_us=... rps=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.scale_get"
local key = os.getenv("API_KEY")
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  non_200 = 0
  ids = {}
  for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
  math.randomseed(os.time() * 100 + seed)
  headers = {["X-API-Key"] = key}
end

function request()
  return wrk.format("GET", "/deployments/" .. ids[math.random(#ids)], headers)
end

function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non_200") end
  local e = summary.errors
  io.write(string.format("%s p50_us=%d p99_us=%d rps=%.0f non_200=%d errors=%d\n", name,
    latency:percentile(50), latency:percentile(99), summary.requests / (summary.duration / 1e6),
    bad, e.connect + e.read + e.write + e.timeout))
end
