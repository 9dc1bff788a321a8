-- wrk script: tallies the answers' statuses per wall-clock second (os.time()), in every thread,
-- and prints one "<second> <status> <count>" line per pair at the end
-- (scripts/bench-revocation-faults.sh reads them).
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    counts = {}
end

function response(status, headers, body)
    local key = os.time() .. " " .. status
    counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
    for _, thread in ipairs(threads) do
        for key, count in pairs(thread:get("counts")) do
            io.write(key .. " " .. count .. "\n")
        end
    end
end
