-- wrk script: GET one path (API_PATH) with an API key (API_KEY), keep-alive (wrk's default).
-- Prints `<BENCH_NAME> rps=... p50_us=... p99_us=... non_200=... errors=...`.
local name = os.getenv("BENCH_NAME") or "api.get"
wrk.method = "GET"
wrk.path = os.getenv("API_PATH") or "/"
local key = os.getenv("API_KEY")
if key and key ~= "" then wrk.headers["X-API-Key"] = key end

dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") .. "report.lua")

function init(args)
  non_200 = 0
end

done = report(name)
