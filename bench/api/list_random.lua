-- wrk script: GET /deployments?status=COMPLETED&limit=50 at a random page, by `offset`
-- (MODE=offset, 0..TOTAL-50) or by `after` a random id of IDS_FILE (MODE=after), with an API
-- key (API_KEY), keep-alive.
-- Prints `<BENCH_NAME> p50_us=... p99_us=... rps=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.scale_list_page"
local key = os.getenv("API_KEY")
local mode = os.getenv("MODE") or "offset"
local total = tonumber(os.getenv("TOTAL") or "100000")
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
  if mode == "after" then
    for line in io.lines(os.getenv("IDS_FILE")) do ids[#ids + 1] = line end
  end
  math.randomseed(os.time() * 100 + seed)
  headers = {["X-API-Key"] = key}
end

function request()
  local page
  if mode == "after" then
    page = "after=" .. ids[math.random(#ids)]
  else
    page = "offset=" .. math.random(0, total - 50)
  end
  return wrk.format("GET", "/deployments?status=COMPLETED&limit=50&" .. page, headers)
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
