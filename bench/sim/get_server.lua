-- wrk script: GET one server with a token, keep-alive (wrk's default).
local token = os.getenv("SIM_TOKEN")
local server = os.getenv("SIM_SERVER")
wrk.method = "GET"
wrk.path = "/compute/v2.1/servers/" .. server
wrk.headers["X-Auth-Token"] = token
wrk.headers["OpenStack-API-Version"] = "compute 2.90"

function done(summary, latency, requests)
  io.write(string.format("sim.get_server rps=%.0f p50_us=%d p99_us=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
