-- wrk script: GET /deployments/{id} for ids drawn at random from the file IDS_FILE (one id a
-- line), with an API key (API_KEY), keep-alive.
-- Prints `<BENCH_NAME> rps=... p50_us=... p99_us=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.scale_get"
local key = os.getenv("API_KEY")
dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

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

done = report(name)
