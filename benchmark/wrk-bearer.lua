-- wrk script for the e2e-express section: GET with `Authorization: Bearer <token>`, the tokens read from a file
-- (one per line), used in order and cycled. Checks every answer is 200 with a signed-in user id.
--
--   wrk -t1 -c50 -d10s --latency -s wrk-bearer.lua http://127.0.0.1:4320/api/me -- <tokens file> [offset] [count]
--
-- offset: lines to skip first (so successive COLD runs never reuse a token); count: lines to load (default all).
-- Prints `TOKENS <loaded>`, `BAD_RESPONSES <n>` (not 200, or no "userId":"user_ in the body) at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

tokens = {}
bad = 0
loaded = 0
local n = 0

function init(args)
  local file, offset, count = args[1], tonumber(args[2] or "0"), tonumber(args[3] or "1000000000")
  local i = 0
  for line in io.lines(file) do
    if i >= offset and #line > 0 then
      tokens[#tokens + 1] = "Bearer " .. line
      if #tokens >= count then break end
    end
    i = i + 1
  end
  if #tokens == 0 then error("no tokens in " .. file .. " after line " .. offset) end
  loaded = #tokens
end

function request()
  n = n + 1
  return wrk.format("GET", nil, { ["Authorization"] = tokens[((n - 1) % #tokens) + 1] })
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"userId":"user_', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local b, l = 0, 0
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    l = l + (t:get("loaded") or 0)
  end
  io.write(string.format("TOKENS %d\nBAD_RESPONSES %d\n", l, b))
end
