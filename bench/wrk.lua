-- wrk script of `make bench`: the request comes from the environment (BENCH_METHOD,
-- BENCH_BODY, and BENCH_TOKENS_FILE: one token a line, used in turn so load spreads over
-- users); the summary goes out as one JSON line, latencies in microseconds.
local tokens = {}
local file = os.getenv("BENCH_TOKENS_FILE")
if file then
  for token in io.lines(file) do
    table.insert(tokens, token)
  end
end
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body == "" then body = nil end
local turn = 0

request = function()
  turn = turn + 1
  local headers = {}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(turn % #tokens) + 1]
  end
  if body then
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, nil, headers, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
