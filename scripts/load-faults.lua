-- wrk script of scripts/load-faults.sh: a mix of valid, expired, tampered, garbage and oversized
-- tokens on GET /protected and malformed bodies on POST /auth, cycled in a fixed order (each
-- thread starting at its own offset). Statuses are counted per thread in response() and summed
-- over the threads in done(), which prints `LOADFAULTS ...` lines for the shell script to check.
--
-- Tokens come from the environment (the shell script makes them): LF_VALID, LF_EXPIRED,
-- LF_TAMPERED, LF_FOREIGN (signed with another secret), LF_NONE (alg none).

local function env(name)
    local value = os.getenv(name)
    if value == nil or value == "" then
        error("load-faults.lua: " .. name .. " is not set")
    end
    return value
end

local function get(authorization)
    local headers = {}
    if authorization ~= nil then
        headers["Authorization"] = authorization
    end
    return wrk.format("GET", "/protected", headers)
end

local function post(body)
    return wrk.format("POST", "/auth", { ["Content-Type"] = "application/json" }, body)
end

-- Each entry: a request, how many times it appears in the cycle, and the status it must get.
local function mix()
    local valid, expired = env("LF_VALID"), env("LF_EXPIRED")
    local tampered, foreign, none = env("LF_TAMPERED"), env("LF_FOREIGN"), env("LF_NONE")
    local segment = string.rep("A", 9000)
    return {
        { get("JWT " .. valid), 6, 200 },
        { get("jwt " .. valid), 1, 200 },
        { get(nil), 1, 401 },
        { get(""), 1, 401 },
        { get("JWT " .. expired), 2, 401 },
        { get("JWT " .. tampered), 2, 401 },
        { get("JWT " .. foreign), 1, 401 },
        { get("JWT " .. none), 1, 401 },
        { get("JWT " .. valid .. "x"), 1, 401 },
        { get("JWT " .. string.sub(valid, 1, #valid - 3)), 1, 401 },
        { get("JWT not.a.token"), 1, 401 },
        { get("JWT abc"), 1, 401 },
        { get("JWT a.b.c.d.e"), 1, 401 },
        { get("JWT !!!.???.***"), 1, 401 },
        { get("JWT " .. string.rep(".", 4000)), 1, 401 },
        { get("Bearer " .. valid), 1, 401 },
        { get("JWT"), 1, 401 },
        { get("JWT a b"), 1, 401 },
        -- Oversized: beyond max_token_bytes (8192), well inside the server's header limits.
        { get("JWT eyJ" .. segment .. ".eyJ" .. segment .. ".sig"), 1, 401 },
        { get("JWT " .. string.rep("x", 16000)), 1, 401 },
        -- POST /auth: malformed, wrong and (once) valid bodies.
        { post('{"username": "user1", "password"'), 1, 400 },
        { post("not json"), 1, 400 },
        { post(""), 1, 400 },
        { post("[]"), 1, 400 },
        { post('"user1"'), 1, 400 },
        { post('{"username": 1, "password": 2}'), 1, 400 },
        { post('{"a":' .. string.rep("[", 200) .. string.rep("]", 200) .. "}"), 1, 400 },
        { post('{"username": "user1", "password": "wrong"}'), 1, 401 },
        { post('{"username": "user1"}'), 1, 401 },
        { post('{"username": "user1", "password": "abcxyz", "extra": 1}'), 1, 401 },
        { post('{"username": "' .. string.rep("u", 4000) .. '", "password": "x"}'), 1, 401 },
        { post('{"username": "user1", "password": "abcxyz"}'), 1, 200 },
    }
end

local function build()
    local cycle = {}
    for _, entry in ipairs(mix()) do
        for _ = 1, entry[2] do
            table.insert(cycle, entry[1])
        end
    end
    return cycle
end

local threads = {}

function setup(thread)
    table.insert(threads, thread)
    thread:set("offset", #threads * 7)
end

function init(args)
    cycle = build()
    index = offset or 0
    counts = {}
    statuses = {}
end

function request()
    index = index % #cycle + 1
    return cycle[index]
end

function response(status, headers, body)
    local class = math.floor(status / 100) .. "xx"
    counts[class] = (counts[class] or 0) + 1
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local classes, by_status = {}, {}
    for _, thread in ipairs(threads) do
        for class, n in pairs(thread:get("counts")) do
            classes[class] = (classes[class] or 0) + n
        end
        for status, n in pairs(thread:get("statuses")) do
            by_status[status] = (by_status[status] or 0) + n
        end
    end
    for _, class in ipairs({ "1xx", "2xx", "3xx", "4xx", "5xx" }) do
        io.write(string.format("LOADFAULTS class %s %d\n", class, classes[class] or 0))
    end
    for status, n in pairs(by_status) do
        io.write(string.format("LOADFAULTS status %d %d\n", status, n))
    end
    -- Each thread cycles through the mix in order, so each status's share of the responses is its
    -- share of the mix, give or take the cycles left unfinished (one per thread) and the requests
    -- in flight at the end (one per connection).
    local entries, weights, total_weight = mix(), {}, 0
    for _, entry in ipairs(entries) do
        weights[entry[3]] = (weights[entry[3]] or 0) + entry[2]
        total_weight = total_weight + entry[2]
    end
    local answered = 0
    for _, n in pairs(by_status) do
        answered = answered + n
    end
    local tolerance = total_weight * #threads + summary.requests - answered + 64
    for status, weight in pairs(weights) do
        local expected = answered * weight / total_weight
        local observed = by_status[status] or 0
        local verdict = "ok"
        if math.abs(observed - expected) > tolerance then
            verdict = "MISMATCH"
        end
        io.write(string.format("LOADFAULTS expected %d %.0f observed %d tolerance %d %s\n",
            status, expected, observed, tolerance, verdict))
    end
    local e = summary.errors
    io.write(string.format(
        "LOADFAULTS socket connect=%d read=%d write=%d timeout=%d\n",
        e.connect, e.read, e.write, e.timeout))
    io.write(string.format("LOADFAULTS requests %d\n", summary.requests))
end
