-- Shared by the GET scripts (loaded with dofile): per-thread seeds, counting answers other than
-- 200, and the result line `<name> rps=... p50_us=... p99_us=... non_200=... errors=...`.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end

function report(name)
  return function(summary, latency, requests)
    local bad = 0
    for _, t in ipairs(threads) do bad = bad + t:get("non_200") end
    local e = summary.errors
    io.write(string.format("%s rps=%.0f p50_us=%d p99_us=%d non_200=%d errors=%d\n", name,
      summary.requests / (summary.duration / 1e6), latency:percentile(50),
      latency:percentile(99), bad, e.connect + e.read + e.write + e.timeout))
  end
end

