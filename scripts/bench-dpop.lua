-- wrk script for `scripts/bench-dpop.sh`: GET /dpop with a DPoP-bound token and a proof never
-- sent before, from a file of `<token> <proof>` lines (each line is used once; a run that needs
-- more lines than the file holds replays proofs, which the server refuses: non-2xx answers).
--
--   wrk ... -s scripts/bench-dpop.lua http://127.0.0.1:PORT -- proofs.txt
--
-- Each wrk thread starts at its own sixteenth of the file, so threads (up to 16) never share a
-- proof.

local lines = {}
local index = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: -- <proof file>")
  end
  for line in io.lines(path) do
    local token, proof = line:match("^(%S+) (%S+)$")
    if token then
      lines[#lines + 1] = { token, proof }
    end
  end
  if #lines == 0 then
    error("no `<token> <proof>` lines in " .. path)
  end
  index = ((thread_number or 0) * math.floor(#lines / 16)) % #lines
end

function request()
  index = index % #lines + 1
  local pair = lines[index]
  return wrk.format("GET", "/dpop", { ["Authorization"] = "DPoP " .. pair[1], ["DPoP"] = pair[2] })
end
