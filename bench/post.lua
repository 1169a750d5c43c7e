-- wrk script: POSTs one fixed body on every request and prints a machine-readable summary.
-- Usage: wrk ... -s bench/post.lua URL -- BODY_FILE CONTENT_TYPE [INFERENCE_HEADER_LENGTH]
-- The last line printed is
--   WRK <requests> <seconds> <requests/s> <p50_us> <p99_us> <errors> <bytes_read>
-- where errors counts socket errors, timeouts and non-2xx responses together.

function init(args)
   local path = assert(args[1], "body file argument missing")
   local f = assert(io.open(path, "rb"))
   local body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = args[2] or "application/json"
   if args[3] and args[3] ~= "" then
      wrk.headers["Inference-Header-Content-Length"] = args[3]
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.status + e.timeout
   local seconds = summary.duration / 1e6
   io.write(string.format("WRK %d %.3f %.1f %d %d %d %d\n", summary.requests, seconds,
                          summary.requests / seconds, latency:percentile(50),
                          latency:percentile(99), errors, summary.bytes))
end
