-- wrk script: rotates through the bodies in $SOAK_DIR, counting statuses by class.
local dir = os.getenv("SOAK_DIR")
local names = {"small_mse", "small_mse", "small_mse", "large_ce", "evaluate", "binary_mse",
               "bad_json", "bad_shape", "bad_binary"}
local requests = {}
local counts = {}
local threads = {}

local function read(path, mode)
  local f = assert(io.open(path, mode))
  local s = f:read("*a")
  f:close()
  return s
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, name in ipairs(names) do
    local req = read(dir .. "/" .. name .. ".req", "r")
    local method, path, headers = nil, nil, {}
    for line in req:gmatch("[^\n]+") do
      if not method then
        method, path = line:match("^(%S+) (%S+)$")
      else
        local k, v = line:match("^([^:]+): (.*)$")
        headers[k] = v
      end
    end
    requests[i] = wrk.format(method, path, headers, read(dir .. "/" .. name .. ".body", "rb"))
  end
  counts = {s2 = 0, s4 = 0, s5 = 0, other = 0}
  idx = 0
end

function request()
  idx = idx % #requests + 1
  return requests[idx]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then counts.s2 = counts.s2 + 1
  elseif status >= 400 and status < 500 then counts.s4 = counts.s4 + 1
  elseif status >= 500 then counts.s5 = counts.s5 + 1
  else counts.other = counts.other + 1 end
  wrk.thread:set("s2", counts.s2)
  wrk.thread:set("s4", counts.s4)
  wrk.thread:set("s5", counts.s5)
end

function done(summary, latency, requests)
  local s2, s4, s5 = 0, 0, 0
  for _, t in ipairs(threads) do
    s2 = s2 + (t:get("s2") or 0)
    s4 = s4 + (t:get("s4") or 0)
    s5 = s5 + (t:get("s5") or 0)
  end
  local e = summary.errors
  io.write(string.format("SOAK requests=%d 2xx=%d 4xx=%d 5xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d p99_ms=%.2f\n",
    summary.requests, s2, s4, s5, e.connect, e.read, e.write, e.timeout, latency:percentile(99) / 1000))
end
