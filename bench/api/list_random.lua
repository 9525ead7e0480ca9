-- wrk script: GET /deployments?status=COMPLETED&limit=50 at a random page, by `offset`
-- (MODE=offset, 0..TOTAL-50) or by `after` a random id of IDS_FILE (MODE=after), with an API
-- key (API_KEY), keep-alive.
-- Prints `<BENCH_NAME> rps=... p50_us=... p99_us=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.scale_list_page"
local key = os.getenv("API_KEY")
local mode = os.getenv("MODE") or "offset"
local total = tonumber(os.getenv("TOTAL") or "100000")
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

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

done = report(name)
