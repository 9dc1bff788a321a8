-- wrk script for scripts/bench-refresh.sh: POST /refresh with a pool of refresh tokens, one per
-- connection in flight. With rotation ("rotate" as the first argument) each answer's
-- `refresh_token` goes back to the pool in place of the one presented (which no longer works);
-- without, the tokens are used round-robin. The other arguments are the tokens, shared out
-- among wrk's threads (each thread has a Lua state of its own).
local threads, counter = {}, 0

function setup(thread)
    thread:set("index", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

local pool, rotating, next_token, index = {}, false, 1, 0

function init(args)
    rotating = args[1] == "rotate"
    local count = tonumber(args[2])
    for i = 3, #args do
        if (i - 3) % count == index then
            table.insert(pool, args[i])
        end
    end
    wrk.method = "POST"
end

function request()
    local token
    if rotating then
        token = table.remove(pool, 1)
    else
        token = pool[next_token]
        next_token = next_token % #pool + 1
    end
    if token == nil then
        -- wrk builds one request in its main Lua state, where `init` never ran: never sent.
        return wrk.format("POST", "/refresh")
    end
    -- Each thread also builds one request before its connections start, never sent: the pool
    -- holds one token more than the thread's connections for it.
    return wrk.format("POST", "/refresh", { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
    if rotating then
        local successor = body:match('"refresh_token":"([^"]+)"')
        if successor then
            table.insert(pool, successor)
        end
    end
end
