-- wrk script for `scripts/bench-load.sh --distinct-tokens`: GET /protected with a different valid
-- token on each request, cycling through a file of tokens (one a line).
--
--   wrk ... -s scripts/bench-distinct.lua http://127.0.0.1:PORT -- tokens.txt Bearer
--
-- Arguments: the token file, then the Authorization scheme (default Bearer). Each wrk thread
-- starts at its own offset in the list. Prints `p99_ms <value>` when done.

local tokens = {}
local scheme = "Bearer"
local index = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: -- <token file> [scheme]")
  end
  scheme = args[2] or scheme
  for line in io.lines(path) do
    if #line > 0 then
      tokens[#tokens + 1] = line
    end
  end
  if #tokens == 0 then
    error("no tokens in " .. path)
  end
  index = ((thread_number or 0) * 7919) % #tokens
end

function request()
  index = index % #tokens + 1
  return wrk.format("GET", "/protected", { ["Authorization"] = scheme .. " " .. tokens[index] })
end

function done(summary, latency, requests)
  io.write(string.format("p99_ms %.3f\n", latency:percentile(99) / 1000))
end
