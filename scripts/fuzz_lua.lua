-- fuzz_lua.lua: a seeded property-based fuzzer of livechat-lua's Lua API (livechat.*, json.*,
-- csv.*). The property: every call returns or raises a Lua error; the process never dies of a
-- signal, aborts or hangs.
--
-- Run (always against the in-process sandbox; stdin not a terminal, so no key prompt):
--
--   .build/debug/livechat-lua --sandbox scripts/fuzz_lua.lua CASES SEED [SECONDS [SCRATCH_DIR]] </dev/null
--
--   CASES        cases to run (default 1000); SEED an integer (default: the time)
--   SECONDS      time limit (default 600): stops at CASES or the limit, whichever comes first
--   SCRATCH_DIR  an existing directory for every file written (csv.write, journals, results);
--                by default a fresh one next to os.tmpname(), removed at the end
--
-- It ends with one line on stdout and exit status 0:
--   lua fuzz: 30000 cases, 17000 returned, 13000 raised, 0 crashes, 900 cases/s
-- A crash kills the process, so whoever runs this judges crashes by the exit status (a signal:
-- 128+N from a shell; a hang: put it under `timeout`). Every 1000 cases the case number and seed
-- go to stderr, so a crash is between the last two of them.
--
-- Reproduce a case: each case reseeds the generator with (SEED, case number), so
--   FUZZ_TRACE=1 livechat-lua --sandbox scripts/fuzz_lua.lua CASES SEED </dev/null 2>trace
-- prints every case (and every nested call a callback makes) before it runs, its arguments
-- described without invoking a metamethod; the last "case N:" lines of `trace` show the call
-- that crashed. FUZZ_FROM=N starts at case N (quicker, though objects that earlier cases left
-- in the pools differ, and spawned coroutines make timing vary). FUZZ_STATS=1 adds, on stderr
-- at the end, how often each function returned and raised, with its commonest errors.
--
-- Safety: requests go only to loopback URLs (the sandbox's own, its other spellings, and dead
-- loopback ports) or to strings that cannot resolve ("not a url", "ftp://127.0.0.1"); files are
-- written only inside the scratch directory (csv.read also reads "/etc", "/nonexistent", "");
-- livechat.sleep gets only invalid values or values of at most 0.01 s, and configure timeouts
-- of at most 1 s (besides invalid ones: 0, negative, NaN, inf, overflowing). Before each case
-- livechat.configure is reset to the sandbox's URL, login and key, with timeout = 1 and
-- retries = 0 (so that calls to dead loopback ports fail at once).

local argv = arg or { ... }
local CASES = math.tointeger(tonumber(argv[1] or "1000")) or 1000
local SEED = math.tointeger(tonumber(argv[2] or "")) or os.time()
local TIME_LIMIT = tonumber(argv[3] or "600") or 600
local FROM = math.tointeger(tonumber(os.getenv("FUZZ_FROM") or "1")) or 1
local TRACE = os.getenv("FUZZ_TRACE") == "1"

local livechat, json, csv = livechat, json, csv
local pcall, error, type, next, select, tostring, tonumber = pcall, error, type, next, select, tostring, tonumber
local rawget, rawset, rawlen, setmetatable = rawget, rawset, rawlen, setmetatable
local getmeta = debug.getmetatable
local unpack, pack, concat, sort = table.unpack, table.pack, table.concat, table.sort
local fmt, rep, char = string.format, string.rep, string.char
local mtype = math.type
local R = math.random
local stderr = io.stderr
local NOW = livechat.now
local JSON_ENCODE, JSON_NULL = json.encode, json.null
local SPAWN, WAIT = livechat.spawn, livechat.wait
local CONFIGURE, CONFIG, LIST = livechat.configure, livechat.config, livechat.listTickets
local NAN = 0 / 0
local MAXLV = 3 -- nesting of callbacks that call the API themselves

local function chance(p) return R() < p end
local function pick(t) return t[R(#t)] end

-- ---------------------------------------------------------------------------------------------
-- The sandbox's settings, and where files may go.

local start = CONFIG()
local SANDBOX_URL, LOGIN = start.apiUrl, start.login
local KEY = os.getenv("FUZZ_API_KEY") or "sandbox-demo-key" -- SandboxConfiguration.demoAPIKey
local HOST, PORT = tostring(SANDBOX_URL):match("^http://([%w%.]+):(%d+)")
if HOST ~= "127.0.0.1" and HOST ~= "localhost" then
  stderr:write("fuzz_lua: run with --sandbox (the API URL is " .. tostring(SANDBOX_URL) .. ", not loopback)\n")
  os.exit(2)
end
local BASE = { apiUrl = SANDBOX_URL, login = LOGIN, apiKey = KEY, timeout = 1, retries = 0 }

local SCRATCH = argv[4] or os.getenv("FUZZ_DIR")
local ownScratch = false
if not SCRATCH then
  local name = os.tmpname()
  os.remove(name)
  SCRATCH = name .. ".fuzz"
  assert(not SCRATCH:find("'", 1, true))
  assert(os.execute("mkdir -m 700 '" .. SCRATCH .. "'"), "cannot make " .. SCRATCH)
  ownScratch = true
end
SCRATCH = SCRATCH:gsub("/+$", "")
assert(SCRATCH ~= "" and SCRATCH:sub(1, 1) == "/", "the scratch directory must be an absolute path")

local function writeFile(name, text)
  local f = assert(io.open(SCRATCH .. "/" .. name, "wb"))
  f:write(text)
  f:close()
end

-- ---------------------------------------------------------------------------------------------
-- Primitive values.

local INTS = { 0, -1, 1, 2, 3, 7, 25, 26, 100, 1000, 65535, 2 ^ 31 | 0, -(2 ^ 31 | 0), 2 ^ 32 | 0, 2 ^ 53 | 0,
  (2 ^ 53 | 0) + 1, 2 ^ 62 | 0, math.maxinteger, math.maxinteger - 1, math.mininteger }
local FLOATS = { 0.5, -0.0, 0.0, 1.0, -1.0, 1.5, 0.1, 1e12, 1e15, 1e20, 1e308, math.huge, -math.huge, NAN,
  2 ^ 53, 2 ^ 63, -2 ^ 63, 2 ^ 64, 5e-324, 1e-300 }

local function randInt()
  local r = R(10)
  if r <= 5 then return pick(INTS) elseif r <= 8 then return R(-1000, 1000) else return R(0) end
end

local function randFloat()
  local r = R(10)
  if r <= 6 then return pick(FLOATS) elseif r <= 8 then return (R() - 0.5) * 2000 end
  return (R() - 0.5) * 2.0 ^ R(-1074, 1023)
end

local ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.@/:,;\"'\\\n\t%#?&="
local function word(n)
  local t = {}
  for i = 1, n do local k = R(#ASCII); t[i] = ASCII:sub(k, k) end
  return concat(t)
end
local function randBytes(n)
  local t = {}
  for i = 1, n do t[i] = char(R(0, 255)) end
  return concat(t)
end

local STRINGS = { "", "a", " ", "  \t\n", "\0", "a\0b", "1", "-1", "0", "1.0", " 1 ", "0x10", "1e400", "-1e400",
  "9223372036854775807", "9223372036854775808", "-9223372036854775809", "nan", "inf", "+1", "1e2", "٣",
  "Zürich ✓", "😀", "\u{10FFFF}", "\xff\xfe", "\xc0\x80", "\xed\xa0\x80", "\x80", "\xf4\x90\x80\x80",
  "\xef\xbb\xbf", "%s%n%d", "\r\n", "\"", "'", ",", ";", "\\", "null", "true", "{}", "[]", "{\"a\":1}", "<b>",
  "../../x", "Q62JR", "open", "asc", "mail", "2015-02-01", "agent@x.com", "message", "page", "\27[31m" }
local LONG = { rep("a", 100000), rep("\xff", 4096), rep("é", 20000), rep("x,", 5000), rep("😀", 3000),
  rep(" ", 70000), randBytes(3000) }

local function genString()
  local r = R(100)
  if r <= 40 then return pick(STRINGS)
  elseif r <= 60 then return word(R(0, 20))
  elseif r <= 75 then return randBytes(R(0, 40))
  elseif r <= 82 then return pick(LONG)
  else
    local n = chance(0.5) and randInt() or randFloat()
    return chance(0.8) and tostring(n) or fmt("%.17g", n)
  end
end

local TEXTS = { "Hello", "Zürich ✓ 😀", "multi\nline\r\nmessage", "with \"quotes\", commas; and tabs\t",
  "<b>html</b> & entities", rep("long message ", 400), "%d %s %n" }
local function textOk()
  local r = R(10)
  if r <= 6 then return pick(TEXTS) elseif r <= 9 then return "x" .. word(R(0, 30)) end
  return "order #" .. R(1000000)
end

-- ---------------------------------------------------------------------------------------------
-- What may be passed where (the places that could leave this machine, block or write files).

local URL_OK = { SANDBOX_URL, SANDBOX_URL, SANDBOX_URL, SANDBOX_URL,
  "http://127.0.0.1:" .. PORT, "http://127.0.0.1:" .. PORT .. "/", "http://localhost:" .. PORT,
  "http://127.0.0.1:" .. PORT .. "/v2", "http://127.0.0.1:" .. PORT .. "/?q=1#frag", "HTTP://127.0.0.1:" .. PORT,
  "http://user:pw@127.0.0.1:" .. PORT }
local URL_BAD = { "http://127.0.0.1:1", "http://127.0.0.1:9/", "http://localhost:1/", "https://127.0.0.1:" .. PORT,
  "http://[::1]:" .. PORT, "http://[::1]:1", "", " ", "not a url", "ftp://127.0.0.1", "http://", "://",
  "http:///path", "http://127.0.0.1:99999", "http://127.0.0.1:-1", "http://127.0.0.1:0", "127.0.0.1:" .. PORT,
  "file:///etc/passwd", "javascript:1", "http://[::1", "\xff\xfe", "http://127.0.0.1:" .. PORT .. " x",
  "http://127.0.0.1:" .. PORT .. "/" .. rep("a", 5000), "http://127.0.0.1:" .. PORT .. "/%zz" }

local function urlOk() return pick(URL_OK) end
local function urlBad()
  if chance(0.8) then return pick(URL_BAD) end
  return pick({ 1, true, {}, JSON_NULL, NAN, 0 })
end
local function urlAny() if chance(0.6) then return urlOk() end return urlBad() end

local function timeoutOk() return pick({ 1, 0.5, 0.05, 0.001, 1e-300, 5e-324, R() * 0.99 + 0.01 }) end
local function timeoutBad()
  return pick({ 0, -1, -0.0, NAN, math.huge, -math.huge, 1e308, 2 ^ 63, math.maxinteger, math.mininteger,
    "1", "abc", true, {}, JSON_NULL })
end
local function retriesOk() return R(0, 2) end
local function retriesBad()
  return pick({ -1, 21, 1000, 1.5, "1", math.maxinteger, math.mininteger, 2 ^ 31 | 0, NAN, true, {} })
end
local function sleepOk() return pick({ 0, 0.0, -0.0, 0.001, 0.005, 0.01, 1e-9, 5e-324, 0.01 * R() }) end
local function sleepBad()
  return pick({ -1, -1e-9, -math.huge, NAN, math.huge, "1e400", "0", "abc", "", nil, true, {}, JSON_NULL,
    1e12, 1e308, 2 ^ 63, math.maxinteger, 1.9e10 })
end
local function smallPositive() return R(1, 3) end
local function maxAttemptsBad() return pick({ 0, 101, -1, 1.5, "2", math.maxinteger, NAN, {} }) end

local READ_PATHS = { "/etc", "/nonexistent", "", SCRATCH, SCRATCH .. "/", SCRATCH .. "/in.csv", SCRATCH .. "/semi.csv",
  SCRATCH .. "/bad.csv", SCRATCH .. "/bom.csv", SCRATCH .. "/empty.csv", SCRATCH .. "/quotes.csv",
  SCRATCH .. "/ragged.csv", SCRATCH .. "/out1.csv", SCRATCH .. "/out2.csv", SCRATCH .. "/r1.csv",
  SCRATCH .. "/j1.journal", SCRATCH .. "/missing.csv", SCRATCH .. "/\xff.csv", SCRATCH .. "/a\0b" }
local WRITE_PATHS = { SCRATCH .. "/out1.csv", SCRATCH .. "/out2.csv", SCRATCH .. "/out3.csv", SCRATCH .. "/out4.tsv",
  SCRATCH, SCRATCH .. "/", SCRATCH .. "/nodir/x.csv", SCRATCH .. "/\xff\xfe.csv", SCRATCH .. "/a\0b.csv",
  SCRATCH .. "/" .. rep("n", 300), SCRATCH .. "/ragged.csv" }
local JOURNALS = { SCRATCH .. "/j1.journal", SCRATCH .. "/j2.journal", SCRATCH .. "/j3.journal" }
local JOURNALS_BAD = { SCRATCH, SCRATCH .. "/nodir/j", SCRATCH .. "/notajournal.txt", SCRATCH .. "/out1.csv",
  SCRATCH .. "/\xff.journal", SCRATCH .. "/" .. rep("j", 300) }
local RESULTS = { SCRATCH .. "/r1.csv", SCRATCH .. "/r2.jsonl", SCRATCH .. "/r3.txt" }
local RESULTS_BAD = { SCRATCH, SCRATCH .. "/nodir/r.csv", SCRATCH .. "/\xff.csv" }
-- Not strings, so never a path outside the scratch directory.
local function notString(lv) return pick({ nil, 1, 0, true, {}, { SCRATCH }, JSON_NULL, io.stdout, NAN }) end

-- Any table key that could name a setting is given a safe value, whatever generated it.
local function squash(k) return (k:lower():gsub("[^%a]", "")) end
local SENSITIVE = {
  apiurl = urlAny,
  timeout = function() if chance(0.5) then return timeoutOk() end return timeoutBad() end,
  retries = function() if chance(0.5) then return retriesOk() end return retriesBad() end,
  journal = function() if chance(0.5) then return pick(JOURNALS) end return pick(JOURNALS_BAD) end,
  results = function() if chance(0.5) then return pick(RESULTS) end return pick(RESULTS_BAD) end,
  maxattempts = function() if chance(0.5) then return smallPositive() end return maxAttemptsBad() end,
}
local function safeSet(t, k, v)
  if type(k) == "string" then
    local fix = SENSITIVE[squash(k)]
    if fix then v = fix() end
  end
  if k ~= nil and k == k then rawset(t, k, v) end
end

-- ---------------------------------------------------------------------------------------------
-- Values of every type.

local anyValue, genTable, genFunction, genMeta, genThread, genUserdata, callNow
local LABELS = setmetatable({}, { __mode = "k" }) -- function/userdata/thread -> description
local POOL = { handles = {}, errors = {}, pages = {}, iterators = {}, tickets = {}, ids = {} }
local function poolAdd(list, v, max)
  max = max or 32
  if #list < max then list[#list + 1] = v else list[R(max)] = v end
end

local ALL_FIELDS = { "message", "requesterEmail", "requesterName", "subject", "sourceType", "sourceUrl", "assigneeId",
  "group", "status", "dateFrom", "dateTo", "query", "requesterMail", "tag", "assigned", "assignee", "order",
  "source", "page", "tagged", "ticketId", "apiUrl", "login", "apiKey", "timeout", "retries", "concurrency",
  "journal", "key", "onResult", "onFailure", "dryRun", "results", "progress", "maxAttempts", "pretty", "header",
  "delimiter", "trim", "tickets", "id", "kind", "externalId" }

local function anyKey(lv)
  local r = R(10)
  if r <= 4 then return pick(ALL_FIELDS)
  elseif r <= 6 then return genString()
  elseif r <= 7 then return randInt()
  elseif r <= 8 then local f = randFloat(); if f ~= f then return 0.5 end return f
  elseif r <= 9 then return R(2) == 1
  end
  return {}
end

local function deepTable(n, mapStyle)
  local root = {}
  local cur = root
  for _ = 1, n do
    local nx = {}
    if mapStyle then cur.group = nx else cur[1] = nx end
    cur = nx
  end
  return root
end
local DEPTHS = { 10, 100, 199, 200, 201, 1000, 100000 }

function genTable(lv, d)
  d = d or 0
  local t = {}
  local r = R(100)
  if r <= 10 then
    -- empty
  elseif r <= 30 then
    for i = 1, R(0, 8) do t[i] = anyValue(lv, d + 1) end
  elseif r <= 55 then
    for _ = 1, R(1, 5) do safeSet(t, pick(ALL_FIELDS), anyValue(lv, d + 1)) end
  elseif r <= 68 then
    for _ = 1, R(1, 5) do safeSet(t, anyKey(lv), anyValue(lv, d + 1)) end
  elseif r <= 76 then
    local k = R(3)
    if k == 1 then t[1] = t elseif k == 2 then t.group = { t } else t.a = { b = { c = t } } end
  elseif r <= 82 then
    t = deepTable(pick(DEPTHS), chance(0.5))
  elseif r <= 85 then
    for i = 1, pick({ 1000, 10000 }) do t[i] = i end
  else
    for i = 1, R(1, 3) do t[i] = anyValue(lv, d + 1) end
    for _ = 1, R(1, 3) do safeSet(t, pick(ALL_FIELDS), anyValue(lv, d + 1)) end
  end
  if chance(0.08) then setmetatable(t, genMeta(lv)) end
  return t
end

function anyValue(lv, d)
  d = d or 0
  local r = R(100)
  if r <= 8 then return nil
  elseif r <= 14 then return R(2) == 1
  elseif r <= 30 then return randInt()
  elseif r <= 42 then return randFloat()
  elseif r <= 65 then return genString()
  elseif r <= 82 then if d < 3 then return genTable(lv, d) end return {}
  elseif r <= 90 then return genFunction(lv + 1)
  elseif r <= 94 then return genThread(lv)
  end
  return genUserdata(lv)
end

local DEAD = coroutine.create(function() end)
coroutine.resume(DEAD)
LABELS[DEAD] = "thread<dead>"
local CLOSED = assert(io.open(SCRATCH .. "/closed.txt", "w"))
CLOSED:close()
LABELS[CLOSED] = "file<closed>"
LABELS[io.stdout], LABELS[io.stderr] = "io.stdout", "io.stderr"
if type(JSON_NULL) ~= "nil" then LABELS[JSON_NULL] = "json.null" end

function genThread(lv)
  local r = R(4)
  if r == 1 then
    local co = coroutine.create(genFunction(lv + 1))
    LABELS[co] = "thread<new>"
    return co
  elseif r == 2 then return DEAD
  elseif r == 3 then return coroutine.running()
  end
  local co = coroutine.create(function() coroutine.yield() end)
  coroutine.resume(co)
  LABELS[co] = "thread<suspended>"
  return co
end

function genUserdata(lv)
  if lv == 0 and #POOL.handles > 0 and chance(0.3) then return pick(POOL.handles) end
  return pick({ io.stdout, io.stderr, JSON_NULL, CLOSED })
end

-- ---------------------------------------------------------------------------------------------
-- Metatables and callbacks.

local function label(f, text) LABELS[f] = text; return f end
local function errFn(lv)
  return label(function() error(pick({ "boom", 42, {}, false })) end, "fn<error>")
end
local function yieldThen(v) return function() coroutine.yield(); return v end end

local function safeSource(lv)
  local src = {}
  for _ = 1, R(0, 4) do safeSet(src, pick(ALL_FIELDS), anyValue(lv + 1, 3)) end
  return src
end

function genMeta(lv)
  local mt = {}
  if chance(0.5) then
    local r = R(5)
    if r == 1 then mt.__index = errFn(lv)
    elseif r == 2 then mt.__index = label(yieldThen(anyValue(lv + 1, 3)), "fn<yield>")
    elseif r == 3 then mt.__index = genFunction(lv + 1)
    elseif r == 4 then mt.__index = safeSource(lv)
    else mt.__index = label(function() return R(1, 4) end, "fn<int>") end
  end
  if chance(0.4) then
    local src = safeSource(lv)
    local r = R(6)
    if r == 1 then mt.__pairs = errFn(lv)
    elseif r == 2 then mt.__pairs = label(function() coroutine.yield(); return next, src, nil end, "pairs<yield>")
    elseif r == 3 then mt.__pairs = label(function() return next, src, nil end, "pairs<fields>")
    elseif r == 4 then
      mt.__pairs = label(function()
        return function(_, k) coroutine.yield(); return next(src, k) end, src, nil
      end, "pairs<yield each>")
    elseif r == 5 then mt.__pairs = label(function() return 1 end, "pairs<not a function>")
    else
      mt.__pairs = label(function()
        local n = 0
        return function(_, k) n = n + 1; if n > 2 then error("pairs boom") end return next(src, k) end, src, nil
      end, "pairs<error midway>")
    end
  end
  if chance(0.4) then
    mt.__len = pick({ errFn(lv), label(yieldThen(R(0, 5)), "len<yield>"), label(function() return R(0, 20) end, "len<int>"),
      label(function() return "x" end, "len<string>"), label(function() return 1.5 end, "len<1.5>"),
      label(function() return -1 end, "len<-1>"), label(function() end, "len<nil>"),
      label(function() return NAN end, "len<nan>"), label(function() return math.huge end, "len<huge>") })
  end
  if chance(0.3) then
    mt.__tostring = pick({ errFn(lv), label(function() return {} end, "tostring<table>"),
      label(function() return "str" end, "tostring<str>") })
  end
  if chance(0.2) then mt.__name = pick({ "X", 1, {}, "\xff", "livechat.Error", "Task" }) end
  if chance(0.2) then mt.__newindex = errFn(lv) end
  if chance(0.1) then mt.__metatable = "locked" end
  if chance(0.1) then mt.__call = genFunction(lv + 1) end
  if chance(0.1) then
    local e = errFn(lv)
    mt.__eq, mt.__lt, mt.__le, mt.__concat, mt.__close = e, e, e, e, e
  end
  if chance(0.03) then mt.__gc = genFunction(lv + 1) end
  if chance(0.05) then mt.__mode = pick({ "k", "v", "kv" }) end
  return mt
end

local SAFE_RAW -- filled in once the catalogue exists
local TRIVIAL = { label(function() end, "fn<nothing>"), label(function() return 1 end, "fn<1>"),
  label(function(...) return ... end, "fn<passthrough>"), label(function() error("trivial boom") end, "fn<error>"),
  label(function() coroutine.yield() return true end, "fn<yield>") }

function genFunction(lv)
  if lv > MAXLV then return pick(TRIVIAL) end
  local k = R(100)
  if k <= 8 then return label(function() return anyValue(lv) end, "fn<value>")
  elseif k <= 12 then return label(function() return anyValue(lv), nil, anyValue(lv) end, "fn<values>")
  elseif k <= 16 then return label(function() end, "fn<nothing>")
  elseif k <= 24 then
    return label(function()
      local e = pick({ "boom", {}, 7, false, setmetatable({}, { __tostring = function() error("tostring boom") end }),
        POOL.errors[1] or "no error yet" })
      error(e, R(0, 2))
    end, "fn<error>")
  elseif k <= 30 then return label(function() coroutine.yield(); return anyValue(lv) end, "fn<yield>")
  elseif k <= 52 then return label(function() return callNow(lv) end, "fn<call>")
  elseif k <= 58 then return label(function() return pcall(callNow, lv) end, "fn<pcall call>")
  elseif k <= 61 then return label(function() livechat.sleep(pick({ 0, 0.001 })); return true end, "fn<sleep>")
  elseif k <= 62 then return label(function() collectgarbage(); return true end, "fn<gc>")
  elseif k <= 63 then
    return label(function()
      collectgarbage(pick({ "step", "incremental", "generational", "collect" }))
      return callNow(lv)
    end, "fn<gc mode, call>")
  elseif k <= 67 then return label(function(...) return ... end, "fn<passthrough>")
  elseif k <= 71 then
    return label(function() return coroutine.wrap(function() return callNow(lv) end)() end, "fn<call in coroutine.wrap>")
  elseif k <= 74 then
    return label(function()
      local res
      sort({ 3, 1, 2 }, function(a, b)
        if not res then res = pack(pcall(callNow, lv)) end
        return a < b
      end)
      if not res[1] then error(res[2], 0) end
      return unpack(res, 2, res.n)
    end, "fn<call in sort comparator>")
  elseif k <= 76 then
    return label(function()
      local res
      string.gsub("x", ".", function() res = pack(pcall(callNow, lv)) end)
      if not res[1] then error(res[2], 0) end
      return unpack(res, 2, res.n)
    end, "fn<call in gsub>")
  elseif k <= 78 then
    return label(function() return setmetatable({}, { __index = function() return callNow(lv) end }).x end,
      "fn<call in __index>")
  elseif k <= 80 then
    return label(function()
      setmetatable({}, { __gc = function() pcall(callNow, lv) end })
      collectgarbage()
      return true
    end, "fn<call in __gc>")
  elseif k <= 84 then
    return label(function() local h = SPAWN(genFunction(lv + 1)); return h:wait() end, "fn<spawn and wait>")
  elseif k <= 87 then
    return label(function() coroutine.yield(); error("after yield") end, "fn<yield then error>")
  elseif k <= 89 then
    -- Near the C stack's limit (each pcall is a C call): the API call may be the one over it.
    return label(function()
      local function nest(d)
        if d == 0 then return callNow(lv) end
        local res = pack(pcall(nest, d - 1))
        if not res[1] then error(res[2], 0) end
        return unpack(res, 2, res.n)
      end
      return nest(R(150, 230))
    end, "fn<call deep in pcalls>")
  end
  return pick(SAFE_RAW)
end

-- ---------------------------------------------------------------------------------------------
-- Fields: valid and invalid values for every named field of the API.

local function wrongType(lv)
  return pick({ 1, -1, 1.5, NAN, math.huge, true, false, {}, { 1 }, JSON_NULL, genFunction(lv + 1), io.stdout,
    DEAD, "\xff\xfe" })
end
local function choice(list)
  return {
    ok = function() return pick(list) end,
    bad = function(lv)
      if chance(0.3) then return wrongType(lv) end
      return pick({ list[1]:upper(), list[1] .. " ", " " .. list[1], "", "x", "\xff", list[1] .. "\0" })
    end,
  }
end
local function stringField(okFn)
  return {
    ok = okFn or textOk,
    bad = function(lv)
      if chance(0.5) then return wrongType(lv) end
      return pick({ "\xff\xfe", "\xc0\x80", "a\xed\xa0\x80", "\0", "", "   ", pick(LONG), genString() })
    end,
  }
end
local function oneOf(list) return function() return pick(list) end end

local FIELD = {}
FIELD.message = {
  ok = textOk,
  bad = function(lv) return pick({ "", "   ", "\t\n", "\xff\xfe", "\0", " \u{3000} ", wrongType(lv) }) end,
}
local function emailOk()
  return pick({ "mary@x.com", "fuzz" .. R(1000000) .. "@example.com", "a@b", "ü@ß.de", "x+y@z.co" })
end
FIELD.requesterEmail = {
  ok = emailOk,
  bad = function(lv)
    return pick({ "a@", "@b", "a b@c", "a@@b", "", "x", "\xffa@b", "a@b\n", " a@b", "a@b ", "@", "a@b\0",
      "a@\u{3000}b", wrongType(lv) })
  end,
}
FIELD.requesterName = stringField()
FIELD.subject = stringField()
FIELD.sourceUrl = stringField(oneOf({ "https://example.com/page", "not a url", "" }))
FIELD.assigneeId = stringField(oneOf({ "agent@x.com", LOGIN }))
FIELD.query = stringField(oneOf({ "help", "order", "", "%", "_", "'; drop table tickets; --", "\"", "Zürich" }))
FIELD.requesterMail = stringField(emailOk)
FIELD.tag = stringField(oneOf({ "vip", "billing", "", "fuzz" }))
FIELD.assignee = stringField(oneOf({ "agent@x.com", LOGIN }))
FIELD.sourceType = choice({ "chat-window", "mail", "lc2" })
FIELD.status = choice({ "open", "pending", "solved", "spam" })
FIELD.order = choice({ "asc", "desc" })
FIELD.source = choice({ "lc2", "mail", "facebook", "agent-app-manual", "chat-window" })
local function dateOk()
  if chance(0.2) then return pick({ "2016-02-29", "2000-02-29", "1970-01-01", "9999-12-31", "0001-01-01" }) end
  return fmt("%04d-%02d-%02d", R(1990, 2030), R(1, 12), R(1, 28))
end
local function dateBad(lv)
  return pick({ "2015-02-30", "2015-2-1", "2015-02-29", "1900-02-29", "", "0000-01-01", "99999-01-01",
    "2015-02-01T00:00", "２０１５-０２-０１", "2015-13-01", "2015-00-10", "-001-01-01", "2015_02_01", 20150201,
    "+015-02-01", "2015-02-1a", "2015-02-01\0", "١٢٣٤-٠١-٠١", wrongType(lv) })
end
FIELD.dateFrom = { ok = dateOk, bad = dateBad }
FIELD.dateTo = { ok = dateOk, bad = dateBad }
local function flagBad(lv) return pick({ 2, -1, "yes", "true", 0.5, {}, "", NAN, math.maxinteger, "0x1", wrongType(lv) }) end
FIELD.assigned = { ok = oneOf({ true, false, 0, 1, "0", "1", 1.0, " 1 ", 0.0 }), bad = flagBad }
FIELD.tagged = FIELD.assigned
-- Integers at the edges of what arithmetic on them can hold.
local function boundaryInt()
  if chance(0.2) then return pick({ 0, -1, 2 ^ 32 | 0, 1e20, 1000000, 1000001, 2 ^ 24 | 0 }) end
  return pick({ 2 ^ 31 | 0, 2 ^ 53 | 0, 2 ^ 62 | 0, math.maxinteger, math.mininteger, 2 ^ 63, "9223372036854775808" })
end
FIELD.page = {
  ok = function() return pick({ 1, 2, 3, "1", " 2 ", 1.0, R(1, 5), 100 }) end,
  bad = function(lv)
    if chance(0.6) then return boundaryInt() end
    return pick({ 0, -1, 1.5, "x", NAN, math.huge, -math.huge, 2 ^ 62 | 0, math.maxinteger, 2 ^ 31 | 0, 2 ^ 53 | 0,
      1e20, "9223372036854775808", "9223372036854775807", "0x10", "1e400", "1e2", true, {}, math.mininteger, 2 ^ 63,
      "4611686018427387904", (2 ^ 62 | 0) + R(0, 2 ^ 61 | 0), wrongType(lv) })
  end,
}
FIELD.listGroup = {
  ok = oneOf({ 0, 1, "0", 2.0, " 1 ", 2 }),
  bad = function(lv)
    if chance(0.4) then return boundaryInt() end
    return pick({ -1, 1.5, "x", {}, { 0 }, math.maxinteger, math.mininteger, 2 ^ 62 | 0, NAN, "-1", wrongType(lv) })
  end,
}
FIELD.createGroup = {
  ok = function() return pick({ { 0 }, { 0, 2 }, {}, 0, "1", { "2" }, 1.0, { 1, 2, 3 } }) end,
  bad = function(lv)
    if chance(0.3) then return { boundaryInt() } end
    return pick({ { -1 }, { 1.5 }, { a = 1 }, "x", -1, { {} }, { math.maxinteger }, { 0, nil, 2 }, { "0x1" }, { NAN },
      math.maxinteger, { 1, group = 2 }, wrongType(lv) })
  end,
}
FIELD.group = FIELD.createGroup
local function idOk()
  if #POOL.ids > 0 and chance(0.8) then return pick(POOL.ids) end
  return pick({ "Q62JR", "NOSUCH", word(R(1, 8)) })
end
FIELD.ticketId = {
  ok = idOk,
  bad = function(lv)
    return pick({ "", " ", "\t", 1, {}, "\xff\xfe", "../../etc", "a/b", "a?b=c", "%00", rep("A", 10000), "a b",
      "#", "Q62JR\0x", "..", "\r\nX-Injected: 1", wrongType(lv) })
  end,
}
FIELD.apiUrl = { ok = urlOk, bad = urlBad }
FIELD.login = {
  ok = function() return pick({ LOGIN, LOGIN, "other@x.com" }) end,
  bad = function(lv) return pick({ "", 1, "\xff", rep("l", 10000), "a\nb", "a:b", wrongType(lv) }) end,
}
FIELD.apiKey = {
  ok = function() return KEY end,
  bad = function(lv) return pick({ "wrong", "", 1, "\xff", "a\r\nX-Injected: 1", rep("k", 10000), wrongType(lv) }) end,
}
FIELD.timeout = { ok = timeoutOk, bad = timeoutBad }
FIELD.retries = { ok = retriesOk, bad = retriesBad }
FIELD.mapConcurrency = {
  ok = function() return pick({ 1, 2, 4, 8, 16, math.maxinteger }) end,
  bad = function(lv) return pick({ 0, -1, 1.5, "2", NAN, {}, true, math.mininteger, 2 ^ 63, wrongType(lv) }) end,
}
FIELD.concurrency = {
  ok = function() return pick({ 1, 2, 4, 8, 256 }) end,
  bad = function(lv) return pick({ 0, -1, 257, 1.5, "2", NAN, math.maxinteger, math.mininteger, wrongType(lv) }) end,
}
FIELD.journal = {
  ok = function() return pick(JOURNALS) end,
  bad = function(lv) if chance(0.6) then return pick(JOURNALS_BAD) end return notString(lv) end,
}
FIELD.results = {
  ok = function() return pick(RESULTS) end,
  bad = function(lv) if chance(0.6) then return pick(RESULTS_BAD) end return notString(lv) end,
}
FIELD.key = {
  ok = oneOf({ "externalId", "message" }),
  bad = function(lv) return pick({ 1, {}, "", "missing", "\xff", "requesterEmail", "apiUrl", wrongType(lv) }) end,
}
FIELD.onResult = {
  ok = function(lv) return genFunction(lv + 1) end,
  bad = function(lv) return pick({ 1, "f", {}, true, setmetatable({}, { __call = function() end }), DEAD }) end,
}
FIELD.onFailure = FIELD.onResult
FIELD.dryRun = { ok = oneOf({ true, false }), bad = function(lv) return pick({ 1, "true", {}, 0, wrongType(lv) }) end }
FIELD.progress = { ok = oneOf({ false, false, false, true }), bad = FIELD.dryRun.bad }
FIELD.maxAttempts = { ok = smallPositive, bad = maxAttemptsBad }
FIELD.pretty = { ok = oneOf({ true, false }), bad = function(lv) return anyValue(lv) end }
FIELD.readHeader = { ok = oneOf({ true, false }), bad = function(lv) return pick({ { "a" }, 1, "x", {}, wrongType(lv) }) end }
FIELD.writeHeader = {
  ok = function() return pick({ { "a", "b" }, {}, { "message", "requesterEmail" }, { "é", "" }, { "a", "a" } }) end,
  bad = function(lv) return pick({ { 1 }, { a = 1 }, "x", true, { {} }, { "a", nil, "b" }, wrongType(lv) }) end,
}
FIELD.delimiter = {
  ok = oneOf({ ",", ";", "\t", "|" }),
  bad = function(lv) return pick({ "\"", "\n", "", "ab", "\0", "\xff", "😀", "é", " ", "\r", "a", 1, {}, wrongType(lv) }) end,
}
FIELD.trim = { ok = oneOf({ true, false }), bad = function(lv) return pick({ 1, "x", {}, wrongType(lv) }) end }

local CONN = { "apiUrl", "login", "apiKey" }

local function typo(name)
  local r = R(6)
  local i = R(#name)
  if r == 1 then return name:sub(1, i - 1) .. name:sub(i + 1)
  elseif r == 2 then return name:sub(1, i) .. name:sub(i, i) .. name:sub(i + 1)
  elseif r == 3 then return name:upper()
  elseif r == 4 then return name .. "s"
  elseif r == 5 then return " " .. name
  end
  return name:sub(1, i - 1) .. "_" .. name:sub(i + 1)
end

-- A table argument: `fields` maps field names to FIELD entries (the key used in the table is
-- the field name; aliases like listGroup say which generator a name uses).
-- `weights` makes some fields the wrong one more often (numbers with limits, mostly).
local function tableSpec(fields, required, conn, preset, weights)
  local names = {}
  for name in pairs(fields) do names[#names + 1] = name end
  sort(names)
  if conn then for _, c in ipairs(CONN) do names[#names + 1] = c end end
  local weighted = {}
  for _, name in ipairs(names) do
    for _ = 1, (weights and weights[name]) or 1 do weighted[#weighted + 1] = name end
  end
  local function gen(name) return FIELD[fields[name] or name] end
  local spec = {}
  function spec.ok(lv)
    local t = {}
    for _, name in ipairs(required) do safeSet(t, name, gen(name).ok(lv)) end
    for _, name in ipairs(names) do
      local isConn = fields[name] == nil
      if rawget(t, name) == nil and chance(isConn and 0.06 or 0.3) then safeSet(t, name, gen(name).ok(lv)) end
    end
    if preset then preset(t, lv) end
    return t
  end
  function spec.mutate(t, lv)
    local m = R(100)
    if m <= 45 then
      local name = pick(weighted)
      safeSet(t, name, gen(name).bad(lv))
    elseif m <= 52 then safeSet(t, pick(names), anyValue(lv))
    elseif m <= 50 and #required > 0 then rawset(t, pick(required), nil)
    elseif m <= 57 then safeSet(t, typo(pick(names)), anyValue(lv))
    elseif m <= 63 then
      rawset(t, pick({ 1, 2, 1.5, true, {}, "", "\xff", -1, math.maxinteger, 0 }), anyValue(lv))
    elseif m <= 67 then safeSet(t, pick(names), t)
    elseif m <= 70 then safeSet(t, pick(names), deepTable(pick(DEPTHS), chance(0.5)))
    elseif m <= 78 then return setmetatable(t, genMeta(lv))
    elseif m <= 84 then
      local proxied = t
      return setmetatable({}, { __index = proxied, __pairs = function() return next, proxied, nil end,
        __len = function() return rawlen(proxied) end })
    elseif m <= 89 then safeSet(t, pick(names), JSON_NULL)
    elseif m <= 94 then
      local v = anyValue(lv)
      if type(v) ~= "string" then return v end
      return { v }
    else
      local once = spec.mutate(t, lv)
      if type(once) == "table" and getmeta(once) == nil then return spec.mutate(once, lv) end
      return once
    end
    return t
  end
  function spec.bad(lv) return spec.mutate(spec.ok(lv), lv) end
  return spec
end

local function optional(spec, pNil)
  return {
    ok = function(lv) if chance(pNil or 0.15) then return nil end return spec.ok(lv) end,
    bad = spec.bad,
  }
end

local function fieldMap(names, aliases)
  local t = {}
  for _, name in ipairs(names) do t[name] = aliases[name] or name end
  return t
end
local CREATE_FIELDS = fieldMap({ "message", "requesterEmail", "requesterName", "subject", "sourceType", "sourceUrl",
  "assigneeId", "group" }, { group = "createGroup" })
local LIST_FIELDS = fieldMap({ "status", "dateFrom", "dateTo", "query", "requesterMail", "tag", "assigned", "assignee",
  "order", "source", "page", "tagged", "group" }, { group = "listGroup" })

local CREATE_WEIGHTS = { group = 3, message = 2, requesterEmail = 2 }
local CREATE = tableSpec(CREATE_FIELDS, { "message", "requesterEmail" }, true, nil, CREATE_WEIGHTS)
local LISTQ = tableSpec(LIST_FIELDS, {}, true, nil, { page = 6, group = 2, dateFrom = 2, dateTo = 2 })
local ROW = tableSpec(CREATE_FIELDS, { "message", "requesterEmail" }, false, nil, CREATE_WEIGHTS)
local BULKOPTS = tableSpec({ concurrency = "concurrency", journal = "journal", key = "key", onResult = "onResult",
  onFailure = "onFailure", dryRun = "dryRun", results = "results", progress = "progress", maxAttempts = "maxAttempts" },
  {}, false, function(t) if rawget(t, "progress") == nil and chance(0.9) then t.progress = false end end,
  { concurrency = 2, maxAttempts = 2, journal = 2, onResult = 2 })
local CONFIGURE_SPEC = tableSpec({ timeout = "timeout", retries = "retries" }, {}, true, nil, { timeout = 3, retries = 2, apiUrl = 2 })
local BYID = tableSpec({ ticketId = "ticketId" }, { "ticketId" }, true)
local ENCODE_OPTS = tableSpec({ pretty = "pretty" }, {}, false)
local READ_OPTS = tableSpec({ header = "readHeader", delimiter = "delimiter", trim = "trim" }, {}, false)
local WRITE_OPTS = tableSpec({ header = "writeHeader", delimiter = "delimiter" }, {}, false)
local MAP_OPTS = tableSpec({ concurrency = "mapConcurrency" }, {}, false)

-- JSON values and texts.
local function jsonish(lv, d)
  d = d or 0
  local r = R(100)
  if r <= 10 then return JSON_NULL
  elseif r <= 18 then return R(2) == 1
  elseif r <= 30 then return randInt()
  elseif r <= 38 then local f = randFloat(); if f ~= f or f == math.huge or f == -math.huge then return 0.25 end return f
  elseif r <= 60 then return genString()
  elseif r <= 80 and d < 4 then
    local t = {}
    for i = 1, R(0, 5) do t[i] = jsonish(lv, d + 1) end
    return t
  elseif d < 4 then
    local t = {}
    for _ = 1, R(0, 5) do rawset(t, chance(0.7) and pick(ALL_FIELDS) or genString(), jsonish(lv, d + 1)) end
    return t
  end
  return "leaf"
end
local function jsonPoison(lv)
  return pick({ NAN, math.huge, -math.huge, genFunction(lv + 1), io.stdout, DEAD, { 1, a = 2 }, { [1.5] = 1 },
    { [true] = 1 }, { [1] = 1, [3] = 3 }, { [0] = 1 }, { [-1] = 1 }, { [{}] = 1 }, { ["\xff"] = 1 },
    deepTable(pick(DEPTHS), chance(0.5)), setmetatable({}, genMeta(lv)), coroutine.running(), rep("\xff", 10) })
end
local JSON_TEXTS = { "null", "true", "false", "1", "-0", "-0.0", "1e400", "-1e400", "1E2", "0.1", "123456789012345678901234567890",
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1.0", "1e-400",
  "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\u0000\"", "\"a\0b\"", "\xef\xbb\xbf{}", "{\"a\":1,\"a\":2}", "[1,]", "{,}",
  "", " ", "[", "]", "\"\xff\"", "{\"\xff\":1}", "1 2", "[1e309]", "NaN", "Infinity", "{\"tickets\":[]}",
  "\"" .. rep("a", 100000) .. "\"", "[-]", "{\"a\"}", "{1:2}", "'a'", "[01]", "\"\\x41\"", "\"\t\"", "[\"\\u00e9\"]",
  "{\"\":{\"\":[]}}", "  [ 1 , 2 ]  ", "[1]garbage", "\0", "[" .. rep("1,", 50000) .. "1]",
  "{\"__index\":1,\"__gc\":2}", "[true,false,null]", "-", "1.", ".1", "+1", "0x10", "\"\\/\"", "\"\\uD834\\uDD1E\"" }
local function deepJSON()
  local n = pick({ 100, 199, 200, 201, 512, 513, 1000, 10000, 100000 })
  local r = R(3)
  if r == 1 then return rep("[", n) .. rep("]", n)
  elseif r == 2 then return rep("{\"a\":", n) .. "1" .. rep("}", n)
  end
  return rep("[", n)
end
local function jsonTextOk(lv)
  local ok, text = pcall(JSON_ENCODE, jsonish(lv))
  if ok and type(text) == "string" then return text end
  return "[]"
end
local function jsonTextBad(lv)
  local r = R(10)
  if r <= 5 then return pick(JSON_TEXTS)
  elseif r <= 6 then return deepJSON()
  elseif r <= 8 then
    local text = jsonTextOk(lv)
    if #text == 0 then return text end
    local i = R(#text)
    local m = R(3)
    if m == 1 then return text:sub(1, i - 1)
    elseif m == 2 then return text:sub(1, i - 1) .. char(R(0, 255)) .. text:sub(i + 1)
    end
    return text:sub(1, i) .. pick({ "\"", "[", "{", ",", "\\", "\0", "\xff" }) .. text:sub(i + 1)
  end
  return anyValue(lv)
end

-- CSV rows for csv.write.
local function csvCell(lv)
  return pick({ "a", "", "x,y", "q\"uote", "multi\nline", "é", 1, 1.5, true, -0.0, 1e300, NAN, math.maxinteger, genString() })
end
local function csvRowsOk(lv)
  local rows = {}
  local keyed = chance(0.4)
  for i = 1, R(0, 6) do
    local row = {}
    if keyed then
      for _ = 1, R(1, 4) do row[pick({ "a", "b", "message", "requesterEmail", "é", "" })] = csvCell(lv) end
    else
      for j = 1, R(0, 5) do row[j] = csvCell(lv) end
    end
    rows[i] = row
  end
  return rows
end
local function csvRowsBad(lv)
  local rows = csvRowsOk(lv)
  local r = R(6)
  if r == 1 then rows[#rows + 1] = anyValue(lv)
  elseif r == 2 then rows[#rows + 1] = { {}, genFunction(lv + 1) }
  elseif r == 3 then rows.named = { "x" }
  elseif r == 4 then rows[#rows + 1] = { a = { 1 } }
  elseif r == 5 then rows[#rows + 1] = setmetatable({ "a" }, genMeta(lv))
  else return anyValue(lv)
  end
  return rows
end

-- ---------------------------------------------------------------------------------------------
-- The catalogue: every function of the three tables, found by walking them.

local CATALOGUE, FUNCS = {}, {}
for _, modName in ipairs({ "livechat", "json", "csv" }) do
  for k, v in pairs(_G[modName]) do
    if type(v) == "function" then
      local name = modName .. "." .. tostring(k)
      CATALOGUE[#CATALOGUE + 1] = name
      FUNCS[name] = v
      LABELS[v] = name
    end
  end
end
sort(CATALOGUE) -- pairs order varies between runs; the seed must not
local NESTING = { ["livechat.spawn"] = true, ["livechat.map"] = true, ["livechat.createTickets"] = true,
  ["livechat.tickets"] = true }
-- How often each function is picked: the API's own functions, and functions this script does
-- not know yet (new ones), more often than the rest.
local WEIGHT = { ["livechat.listTickets"] = 3, ["livechat.createTicket"] = 2, ["livechat.createTickets"] = 2,
  ["livechat.configure"] = 2, ["livechat.tickets"] = 2, ["livechat.map"] = 2, ["livechat.spawn"] = 2,
  ["livechat.getTicketById"] = 2, ["livechat.updateTicketTags"] = 2 }
local PICK_ALL, LEAVES = {}, {}
local KNOWN = { ["livechat.config"] = true, ["livechat.now"] = true, ["livechat.sleep"] = true, ["livechat.wait"] = true,
  ["json.encode"] = true, ["json.decode"] = true, ["csv.read"] = true, ["csv.write"] = true }
for _, name in ipairs(CATALOGUE) do
  local w = WEIGHT[name] or (KNOWN[name] and 1 or 2)
  for _ = 1, w do
    PICK_ALL[#PICK_ALL + 1] = name
    if not NESTING[name] then LEAVES[#LEAVES + 1] = name end
  end
end

SAFE_RAW = {}
for _, name in ipairs({ "livechat.config", "livechat.now", "json.encode", "json.decode", "livechat.getTicketById",
  "livechat.listTickets", "livechat.spawn" }) do
  if FUNCS[name] then SAFE_RAW[#SAFE_RAW + 1] = FUNCS[name] end
end
for _, f in ipairs({ tostring, type, pcall, error }) do SAFE_RAW[#SAFE_RAW + 1] = f end
LABELS[tostring], LABELS[type], LABELS[pcall], LABELS[error] = "tostring", "type", "pcall", "error"

-- Arguments for a function no spec knows (a new one): values that cannot be a path outside the
-- scratch directory, a host name, or a long duration.
local function safeAny(lv)
  local v = anyValue(lv)
  if type(v) == "string" then return SCRATCH .. "/u_" .. (v:gsub("[/%z]", "_")):sub(1, 40) end
  if type(v) == "number" and v > 3 then return -v end
  return v
end

local SPEC = {}
local genArgs

local function argSpec(ok, bad) return { ok = ok, bad = bad } end

SPEC["livechat.createTicket"] = { CREATE }
SPEC["livechat.getTicketById"] = {
  argSpec(function(lv) if chance(0.6) then return idOk() end return BYID.ok(lv) end,
    function(lv) if chance(0.5) then return FIELD.ticketId.bad(lv) end return BYID.bad(lv) end),
}
SPEC["livechat.listTickets"] = { optional(LISTQ) }
SPEC["livechat.tickets"] = { optional(LISTQ) }
local function tagsOk()
  local t = {}
  for i = 1, R(0, 4) do t[i] = pick({ "vip", "billing", "fuzz", "é", "a b", "", word(R(1, 10)) }) end
  return t
end
SPEC["livechat.updateTicketTags"] = {
  argSpec(idOk, FIELD.ticketId.bad),
  argSpec(tagsOk, function(lv)
    return pick({ { 1 }, { a = "b" }, "vip", { {} }, nil, { "x", nil, "y" }, { "\xff" }, { rep("t", 100000) },
      setmetatable({ "vip" }, genMeta(lv)), { "vip", n = 1 }, wrongType(lv) })
  end),
}
SPEC["livechat.configure"] = { CONFIGURE_SPEC }
SPEC["livechat.config"] = {}
SPEC["livechat.now"] = {}
SPEC["livechat.sleep"] = { argSpec(sleepOk, sleepBad), badP = 0.5 }
SPEC["json.encode"] = {
  argSpec(jsonish, function(lv)
    if chance(0.3) then return anyValue(lv) end
    local v = jsonish(lv)
    if type(v) == "table" then rawset(v, chance(0.5) and (rawlen(v) + 1) or "poison", jsonPoison(lv)); return v end
    return jsonPoison(lv)
  end),
  optional(ENCODE_OPTS, 0.5),
}
SPEC["json.decode"] = { argSpec(jsonTextOk, jsonTextBad), badP = 0.6 }
SPEC["csv.read"] = {
  argSpec(function() return pick(READ_PATHS) end, notString),
  optional(READ_OPTS, 0.4),
}
SPEC["csv.write"] = {
  argSpec(function() return pick(WRITE_PATHS) end, notString),
  argSpec(csvRowsOk, csvRowsBad),
  optional(WRITE_OPTS, 0.4),
}
SPEC["livechat.wait"] = {
  argSpec(function(lv)
    if lv == 0 and #POOL.handles > 0 and chance(0.6) then return pick(POOL.handles) end
    return SPAWN(genFunction(lv + 1))
  end, function(lv) return pick({ anyValue(lv), io.stdout, JSON_NULL, CLOSED, {}, nil }) end),
  badP = 0.3,
}
SPEC["livechat.spawn"] = {
  gen = function(lv)
    local r = R(100)
    if r <= 55 then
      local args, n = { genFunction(lv + 1) }, R(1, 4)
      for i = 2, n do args[i] = anyValue(lv + 1) end
      return args, n
    elseif r <= 90 then
      local name = pick(lv + 1 >= MAXLV and LEAVES or PICK_ALL)
      local a, n = genArgs(name, lv + 1)
      return { FUNCS[name], unpack(a, 1, n) }, n + 1
    end
    return { anyValue(lv), anyValue(lv) }, R(0, 2)
  end,
}
SPEC["livechat.map"] = {
  gen = function(lv)
    local n = lv == 0 and R(0, 8) or R(0, 3)
    local items, fn, item, raw = {}, nil, nil, false
    local r = R(100)
    if r <= 55 then
      fn = genFunction(lv + 1)
      item = function() return anyValue(lv + 1) end
    elseif r <= 90 then
      -- A function of the API itself: every item is an argument made for it (map reads the
      -- items through __index and __len, so those give such arguments too).
      local name = pick(lv + 1 >= MAXLV and LEAVES or PICK_ALL)
      fn, raw = FUNCS[name], true
      if name == "livechat.spawn" then
        -- spawn(item, index): the item runs with the index as its argument.
        item = function() return genFunction(lv + 2) end
      else
        item = function() local a = genArgs(name, lv + 1); return a[1] end
      end
    else
      fn = anyValue(lv)
      item = function() return anyValue(lv + 1) end
    end
    for i = 1, n do items[i] = item() end
    local opts = chance(0.5) and MAP_OPTS.ok(lv) or nil
    local m = R(100)
    if m <= 10 then
      local mt = { __index = pick({ errFn(lv), label(function() coroutine.yield(); return item() end, "index<yield>"),
        label(function() return item() end, "index<item>") }) }
      if chance(0.7) then
        mt.__len = pick({ errFn(lv), label(yieldThen(R(0, 5)), "len<yield>"), label(function() return R(0, 12) end, "len<int>"),
          label(function() return "x" end, "len<string>"), label(function() return 1.5 end, "len<1.5>"),
          label(function() return -1 end, "len<-1>"), label(function() end, "len<nil>"),
          label(function() return NAN end, "len<nan>"), label(function() return math.huge end, "len<huge>") })
      end
      items = setmetatable(items, mt)
    elseif m <= 15 then
      -- Not a table of arbitrary values when the items are arguments of an API function
      -- (map({1, 2, 3}, livechat.sleep) would sleep for six seconds).
      items = raw and pick({ 1, "x", true, JSON_NULL, io.stdout }) or anyValue(lv)
    elseif m <= 30 then opts = MAP_OPTS.bad(lv)
    elseif m <= 33 then items[#items + 2] = item() -- a hole
    end
    return { items, fn, opts }, chance(0.9) and 3 or R(0, 4)
  end,
}
SPEC["livechat.createTickets"] = {
  gen = function(lv)
    local opts = BULKOPTS.ok(lv)
    local key = chance(0.3) and FIELD.key.ok() or nil
    if key then rawset(opts, "key", key) end
    if chance(0.5) then rawset(opts, "dryRun", true) end
    local rows = {}
    local n = lv == 0 and (chance(0.02) and 150 or R(0, 6)) or R(0, 2)
    for i = 1, n do
      local row = ROW.ok(lv)
      if key == "externalId" then rawset(row, "externalId", chance(0.8) and ("ext" .. R(1000000)) or R(100)) end
      rows[i] = row
    end
    local m = R(100)
    if m <= 30 then
      opts = BULKOPTS.mutate(opts, lv)
    elseif m <= 45 and n > 0 then
      rows[R(n)] = ROW.mutate(rows[R(n)], lv)
    elseif m <= 50 then rows[#rows + 1] = anyValue(lv)
    elseif m <= 54 then rows.named = true
    elseif m <= 58 and n > 0 then safeSet(rows[R(n)], pick(CONN), "x")
    elseif m <= 62 and n > 1 then
      if key == "externalId" then rawset(rows[2], "externalId", rawget(rows[1], "externalId")) else rows[2] = rows[1] end
    elseif m <= 65 and n > 0 and key then rawset(rows[1], key, nil)
    elseif m <= 68 then rows = setmetatable(rows, genMeta(lv))
    elseif m <= 72 then rows = anyValue(lv)
    elseif m <= 75 then opts = anyValue(lv)
    end
    return { rows, opts }, chance(0.95) and 2 or R(0, 4)
  end,
}

function genArgs(name, lv)
  local spec = SPEC[name]
  if not spec then
    local args, n = {}, R(0, 4)
    for i = 1, n do args[i] = safeAny(lv) end
    return args, n
  end
  if spec.gen then return spec.gen(lv) end
  local args, n = {}, #spec
  local badIndex = (n > 0 and chance(spec.badP or 0.7)) and R(n) or nil
  for i = 1, n do
    if i == badIndex then args[i] = spec[i].bad(lv) else args[i] = spec[i].ok(lv) end
  end
  local r = R(100)
  if r <= 8 then
    local extra = R(1, 3)
    for i = n + 1, n + extra do args[i] = safeAny(lv) end
    n = n + extra
  elseif r <= 12 and n > 0 then
    n = n - 1
  end
  return args, n
end

-- ---------------------------------------------------------------------------------------------
-- Describing values without invoking a metamethod (for FUZZ_TRACE).

local function describe(v, d)
  local t = type(v)
  if t == "nil" or t == "boolean" then return tostring(v)
  elseif t == "number" then
    if mtype(v) == "integer" then return fmt("%d", v) end
    if v ~= v then return "0/0" elseif v == math.huge then return "math.huge" elseif v == -math.huge then return "-math.huge" end
    local s = fmt("%.17g", v)
    if not s:find("[%.e]") then s = s .. ".0" end
    return s
  elseif t == "string" then
    local s = #v > 40 and v:sub(1, 40) or v
    s = fmt("%q", s):gsub("\\\n", "\\n")
    if #v > 40 then s = s .. fmt("..(%d bytes)", #v) end
    return s
  elseif t == "table" then
    d = d or 0
    if d > 2 then return fmt("table:%p", v) end
    local parts, n = {}, 0
    for k, x in next, v do
      n = n + 1
      if n > 8 then parts[#parts + 1] = "..."; break end
      parts[#parts + 1] = "[" .. describe(k, d + 1) .. "]=" .. describe(x, d + 1)
    end
    local s = "{" .. concat(parts, ", ") .. "}"
    local mt = getmeta(v)
    if mt then
      local keys = {}
      for k, x in next, mt do
        keys[#keys + 1] = (type(k) == "string" and k or "?") .. "=" .. ((type(x) == "function" and LABELS[x]) or type(x))
      end
      sort(keys)
      s = "setmetatable(" .. s .. ", {" .. concat(keys, ", ") .. "})"
    end
    return s
  end
  return LABELS[v] or fmt("%s:%p", t, v)
end

local function describeArgs(args, n)
  local parts = {}
  for i = 1, n do parts[i] = describe(args[i]) end
  local s = concat(parts, ", ")
  if #s > 3000 then s = s:sub(1, 3000) .. "..." end
  return s
end

-- ---------------------------------------------------------------------------------------------
-- Calls.

local function planCall(lv)
  local name = pick(lv >= MAXLV and LEAVES or PICK_ALL)
  local args, n = genArgs(name, lv)
  return name, FUNCS[name], args, n
end

function callNow(lv)
  local name, f, args, n = planCall(lv)
  if TRACE then stderr:write(fmt("  [level %d] %s(%s)\n", lv, name, describeArgs(args, n))) end
  return f(unpack(args, 1, n))
end

local ERROR_NAME, TASK_NAME = "livechat.Error", "Task"
local function metaName(v)
  local mt = getmeta(v)
  return type(mt) == "table" and rawget(mt, "__name") or nil
end

local handleCount = 0
-- Keeps what a call returned for the object cases: handles, error objects, pages, tickets.
local function harvest(v, fromTickets)
  local t = type(v)
  if t == "userdata" then
    if metaName(v) == TASK_NAME then
      handleCount = handleCount + 1
      LABELS[v] = LABELS[v] or ("handle#" .. handleCount)
      poolAdd(POOL.handles, v)
    end
  elseif t == "function" then
    if fromTickets then poolAdd(POOL.iterators, v, 16) end
  elseif t == "table" then
    if metaName(v) == ERROR_NAME then poolAdd(POOL.errors, v); return end
    local tickets = rawget(v, "tickets")
    if type(tickets) == "table" and getmeta(v) == nil then
      poolAdd(POOL.pages, v, 16)
      for i = 1, math.min(rawlen(tickets), 5) do harvest(rawget(tickets, i)) end
      return
    end
    local id = rawget(v, "id")
    if type(id) == "string" and getmeta(v) == nil then
      poolAdd(POOL.tickets, v)
      poolAdd(POOL.ids, id, 64)
    end
    local failures = rawget(v, "failures")
    if type(failures) == "table" and getmeta(v) == nil then
      for i = 1, math.min(rawlen(failures), 3) do
        local f = rawget(failures, i)
        if type(f) == "table" then harvest(rawget(f, "error")) end
      end
    end
  end
end

-- Methods and fields of objects earlier calls returned.
local function objectCase()
  local kinds = {}
  for k, list in pairs(POOL) do if #list > 0 and k ~= "ids" then kinds[#kinds + 1] = k end end
  if #kinds == 0 then return nil end
  sort(kinds)
  local kind = pick(kinds)
  local v = pick(POOL[kind])
  local r = R(8)
  if kind == "handles" then
    local mt = getmeta(v)
    if r <= 3 then return "handle:wait", v.wait, { v }, 1
    elseif r == 4 then return "livechat.wait", WAIT, { v, anyValue(0) }, 2
    elseif r == 5 then return "handle.wait", v.wait, { anyValue(0), v }, 2
    elseif r == 6 and type(mt) == "table" and type(rawget(mt, "__gc")) == "function" then
      return "handle.__gc", rawget(mt, "__gc"), { chance(0.7) and v or anyValue(0) }, 1
    elseif r == 7 then return "tostring(handle)", tostring, { v }, 1
    end
    return "handle[k]", function(h, k) return h[k] end, { v, anyKey(0) }, 2
  elseif kind == "errors" then
    local mt = getmeta(v)
    if r <= 2 then return "tostring(err)", tostring, { v }, 1
    elseif r == 3 and type(mt) == "table" and type(rawget(mt, "__tostring")) == "function" then
      return "err.__tostring", rawget(mt, "__tostring"), { chance(0.5) and v or anyValue(0) }, 1
    elseif r == 4 then
      return "err fields", function(e) return e.kind, e.status, e.message, e.details, e.retryable, e.attempts end, { v }, 1
    elseif r == 5 then return "error(err)", error, { v }, 1
    elseif r == 6 then return "json.encode(err)", JSON_ENCODE, { v, { pretty = true } }, 2
    elseif r == 7 then return "err .. x", function(e) return "x" .. e end, { v }, 1
    end
    local name = pick(CATALOGUE)
    local args, n = genArgs(name, 0)
    args[R(math.max(n, 1))] = v
    return name .. "(with err)", FUNCS[name], args, math.max(n, 1)
  elseif kind == "pages" then
    local tickets = rawget(v, "tickets")
    local ticket = type(tickets) == "table" and rawget(tickets, R(math.max(rawlen(tickets), 1))) or nil
    local id = type(ticket) == "table" and rawget(ticket, "id") or nil
    if r <= 2 then return "json.encode(page)", JSON_ENCODE, { v, { pretty = chance(0.5) } }, 2
    elseif r == 3 then return "csv.write(page.tickets)", csv.write, { pick(WRITE_PATHS), tickets }, 2
    elseif r == 4 then return "livechat.getTicketById(page id)", FUNCS["livechat.getTicketById"], { id }, 1
    elseif r == 5 then return "livechat.updateTicketTags(page id)", FUNCS["livechat.updateTicketTags"], { id, tagsOk() }, 2
    elseif r == 6 then return "livechat.listTickets(page)", LIST, { v }, 1
    end
    return "livechat.createTickets(page.tickets)", FUNCS["livechat.createTickets"], { tickets, { dryRun = true, progress = false } }, 2
  elseif kind == "iterators" then
    if r <= 5 then return "iterator()", v, {}, 0 end
    if r <= 7 then return "iterator(x)", v, { anyValue(0), anyValue(0) }, 2 end
    return "for ticket in iterator", function(it)
      local n = 0
      for _ in it do n = n + 1; if n >= 30 then break end end
      return n
    end, { v }, 1
  end
  -- tickets
  local id = rawget(v, "id")
  if r <= 2 then return "json.encode(ticket)", JSON_ENCODE, { v }, 1
  elseif r == 3 then return "livechat.createTicket(ticket)", FUNCS["livechat.createTicket"], { v }, 1
  elseif r == 4 then return "livechat.getTicketById(ticket)", FUNCS["livechat.getTicketById"], { v }, 1
  elseif r == 5 then return "livechat.updateTicketTags(ticket.id, ticket.tags)", FUNCS["livechat.updateTicketTags"], { id, rawget(v, "tags") }, 2
  elseif r == 6 then return "csv.write({ticket})", csv.write, { pick(WRITE_PATHS), { v } }, 2
  end
  return "livechat.createTickets({ticket})", FUNCS["livechat.createTickets"], { { v }, { dryRun = chance(0.7), progress = false } }, 2
end

-- Several calls at once, each in its own coroutine.
local function bundleCase()
  local k = chance(0.1) and R(8, 24) or R(2, 4)
  local plans, names = {}, {}
  for i = 1, k do
    local name, f, args, n = planCall(0)
    plans[i] = { f, args, n }
    names[i] = name .. "(" .. (TRACE and describeArgs(args, n) or "") .. ")"
  end
  return "concurrently[" .. concat(names, "; ") .. "]", function()
    local hs = {}
    for i = 1, k do hs[i] = SPAWN(pcall, plans[i][1], unpack(plans[i][2], 1, plans[i][3])) end
    for i = 1, k do if chance(0.9) then hs[i]:wait() else harvest(hs[i]) end end
    return true
  end, {}, 0
end

-- A case: mostly a nearly valid call of a function of the catalogue with one thing wrong.
local function planCase()
  local r = R(100)
  if r <= 12 then
    local name, f, args, n = objectCase()
    if name then return name, f, args, n end
  elseif r <= 20 then
    local name = pick(PICK_ALL)
    local args, n = {}, R(0, 4)
    if name == "livechat.sleep" then
      args[1], n = sleepBad(), math.max(n, 1)
      for i = 2, n do args[i] = anyValue(0) end
    elseif SPEC[name] and (SPEC[name].gen or name == "csv.write" or name == "livechat.configure") then
      return name, FUNCS[name], genArgs(name, 0)
    else
      for i = 1, n do args[i] = (name == "csv.read" and i == 1) and pick(READ_PATHS) or safeAny(0) end
    end
    return name, FUNCS[name], args, n
  elseif r <= 25 then
    return bundleCase()
  end
  return planCall(0)
end

-- ---------------------------------------------------------------------------------------------
-- Set-up: files to read, ticket ids, a working configuration.

writeFile("in.csv", "message,requesterEmail,subject,group\nHello,a@b.c,Hi,\"0,2\"\n\"multi\nline\",x@y.z,,1\n")
writeFile("semi.csv", "a;b;c\n1;2;3\n;;\n")
writeFile("bad.csv", "a,b\n\"unterminated,\xff\xfe\n1,2,3,4\n")
writeFile("bom.csv", "\xef\xbb\xbfa,b\n1,2\n")
writeFile("empty.csv", "")
writeFile("quotes.csv", "\"a\"\"b\",\"c\nd\"\n\"\",\"\"\n")
writeFile("ragged.csv", "a,b,c\n1\n1,2,3,4,5\n\n\n")
writeFile("notajournal.txt", "this is not a journal\n\0\xff\n")
do
  local lines = { "message,requesterEmail,subject" }
  for i = 1, 7000 do lines[#lines + 1] = fmt("\"message %d, with comma\",user%d@example.com,subject %d", i, i, i) end
  writeFile("big.csv", concat(lines, "\n") .. "\n") -- over 256 KiB: parsed in parts
  READ_PATHS[#READ_PATHS + 1] = SCRATCH .. "/big.csv"
end

local function resetConfig()
  local ok, err = pcall(CONFIGURE, BASE)
  if not ok then stderr:write("fuzz_lua: cannot reset livechat.configure: " .. tostring(err) .. "\n") end
end
resetConfig()
do
  local page, err = LIST({})
  if not page then
    stderr:write("fuzz_lua: the sandbox does not answer: " .. tostring(err) .. "\n")
    os.exit(2)
  end
  for i = 1, #page.tickets do POOL.ids[#POOL.ids + 1] = page.tickets[i].id end
end

-- ---------------------------------------------------------------------------------------------
-- The run.

local STATS = os.getenv("FUZZ_STATS") == "1" and {} or nil -- per-function outcomes, on stderr at the end
local started = NOW()
local cases, returned, raised, harnessErrors = 0, 0, 0, 0
stderr:write(fmt("fuzz_lua: seed %d, cases %d..%d, %d functions, scratch %s\n", SEED, FROM, CASES, #CATALOGUE, SCRATCH))

for n = FROM, CASES do
  if NOW() - started > TIME_LIMIT then break end
  if n % 1000 == 0 then
    stderr:write(fmt("fuzz_lua: case %d seed %d (%.0f s)\n", n, SEED, NOW() - started))
  end
  math.randomseed(SEED, n)
  resetConfig()
  if n % 500 == 0 then collectgarbage() end -- handles nobody holds are finalised
  local okPlan, name, f, args, nargs = pcall(planCase)
  if not okPlan then
    harnessErrors = harnessErrors + 1
    if harnessErrors <= 10 then stderr:write(fmt("fuzz_lua: case %d: the generator failed: %s\n", n, tostring(name))) end
  else
    if TRACE then stderr:write(fmt("case %d: %s(%s)\n", n, name, describeArgs(args, nargs))) end
    local res = pack(pcall(f, unpack(args, 1, nargs)))
    cases = cases + 1
    if STATS then
      local key = name:match("^[%w%.]+") or name
      local st = STATS[key] or { 0, 0, {} }
      STATS[key] = st
      if res[1] then st[1] = st[1] + 1 else
        st[2] = st[2] + 1
        local m = type(res[2]) == "string" and res[2]:gsub("^[^:]*:%d+: ", ""):sub(1, 70) or type(res[2])
        st[3][m] = (st[3][m] or 0) + 1
      end
    end
    if res[1] then
      returned = returned + 1
      local fromTickets = name == "livechat.tickets"
      for i = 2, math.min(res.n, 4) do harvest(res[i], fromTickets) end
      if fromTickets and type(res[2]) == "function" and chance(0.5) then
        for _ = 1, R(1, 6) do if not pcall(res[2]) then break end end
      elseif name == "livechat.configure" and chance(0.9) then
        -- Settings are used by the next request: make one before they are reset.
        if chance(0.5) then pcall(LIST, {}) else pcall(FUNCS["livechat.getTicketById"], idOk()) end
      elseif name == "livechat.spawn" and type(res[2]) == "userdata" and chance(0.7) then
        local w = pack(pcall(WAIT, res[2]))
        for i = 2, math.min(w.n, 3) do harvest(w[i]) end
      end
    else
      raised = raised + 1
      harvest(res[2])
    end
  end
end

-- Let the handles still held finish, so that their coroutines end before the scratch directory
-- goes (a coroutine nobody holds still runs to its end; the run waits for it).
local elapsed = NOW() - started
math.randomseed(SEED, 0)
resetConfig()
for _, h in ipairs(POOL.handles) do pcall(WAIT, h) end
for _ = 1, 20 do livechat.sleep(0.01) end

print(fmt("lua fuzz: %d cases, %d returned, %d raised, 0 crashes, %d cases/s", cases, returned, raised,
  math.floor(cases / math.max(elapsed, 1e-9))))
if STATS then
  local names = {}
  for k in pairs(STATS) do names[#names + 1] = k end
  sort(names)
  for _, k in ipairs(names) do
    local st = STATS[k]
    stderr:write(fmt("fuzz_lua: %-28s %6d returned %6d raised\n", k, st[1], st[2]))
    local ms = {}
    for m, c in pairs(st[3]) do ms[#ms + 1] = { m, c } end
    sort(ms, function(a, b) return a[2] > b[2] end)
    for i = 1, math.min(#ms, 6) do stderr:write(fmt("fuzz_lua:     %5d  %s\n", ms[i][2], ms[i][1])) end
  end
end
if harnessErrors > 0 then stderr:write(fmt("fuzz_lua: the generator failed in %d cases\n", harnessErrors)) end
if ownScratch then os.execute("rm -rf '" .. SCRATCH .. "'") end
-- Spawned coroutines whose errors nobody waited for (a prefetch of an abandoned tickets
-- iteration, a callback's) make the status 1; reaching this line means no crash, so say 0.
os.exit(0)
