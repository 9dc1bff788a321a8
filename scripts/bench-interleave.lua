-- wrk script for `scripts/bench-load.sh --interleave`: both routes in one wrk run, alternating in
-- short phases, so that the machine's speed, which drifts over seconds on a virtual machine,
-- weighs on both alike.
--
--   wrk -t1 ... -s scripts/bench-interleave.lua http://127.0.0.1:PORT -- PHASE HEADER [A B]
--
-- Requests go to route A (/unprotected) for PHASE requests, then to B (/protected) for PHASE,
-- and so on (A = B measures the method itself: its ratio should be 1), each
-- with HEADER ("Name: value", the token) so that both requests are the same size. Responses
-- arrive in about the order of the requests (one server worker; at most the connection count in
-- flight), so the first and last SKIP responses of each phase, which may belong to the other
-- route, are not timed; the middle of each phase is, with a monotonic clock. Prints, when done,
-- `interleave <route> <responses timed> <seconds>` for each route and `phases <count>`.
-- Needs one wrk thread (-t1): the phases are counted per thread.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *time);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local paths = { "/unprotected", "/protected" }
local SKIP = 128
local phase = 2000
local formatted = {}
local sent, received = 0, 0
local started = nil
-- Per route: responses timed and seconds (globals, so that `done` can read them).
timed_1, seconds_1, timed_2, seconds_2, phases = 0, 0, 0, 0, 0

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  phase = tonumber(args[1]) or phase
  if phase < 4 * SKIP then
    error("the phase must be at least " .. 4 * SKIP .. " requests")
  end
  local name, value = string.match(args[2] or "", "^([^:]+):%s*(.*)$")
  local headers = {}
  if name then
    headers[name] = value
  end
  paths[1] = args[3] or paths[1]
  paths[2] = args[4] or paths[2]
  for i, path in ipairs(paths) do
    formatted[i] = wrk.format("GET", path, headers)
  end
  path_1, path_2 = paths[1], paths[2]
end

function request()
  local route = math.floor(sent / phase) % 2 + 1
  sent = sent + 1
  return formatted[route]
end

function response(status, headers, body)
  if status ~= 200 then
    error("status " .. status)
  end
  local position = received % phase
  local route = math.floor(received / phase) % 2 + 1
  received = received + 1
  if position == SKIP then
    started = now()
  elseif position == phase - SKIP and started then
    local seconds = now() - started
    if route == 1 then
      timed_1, seconds_1 = timed_1 + (phase - 2 * SKIP), seconds_1 + seconds
    else
      timed_2, seconds_2 = timed_2 + (phase - 2 * SKIP), seconds_2 + seconds
    end
    phases = phases + 1
    started = nil
  end
end

function done(summary, latency, requests)
  local thread = threads[1]
  for i = 1, 2 do
    io.write(string.format("interleave %s %d %.6f\n", thread:get("path_" .. i),
      thread:get("timed_" .. i), thread:get("seconds_" .. i)))
  end
  io.write(string.format("phases %d\n", thread:get("phases")))
end
