-- Configuration: configure{}, config() with the key masked, per-call credentials.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")

local c = livechat.config()
T.eq(c.apiUrl, os.getenv("LIVECHAT_API_URL"), "API URL from the environment")
T.eq(c.login, os.getenv("LIVECHAT_LOGIN"), "login from the environment")
local key = os.getenv("LIVECHAT_API_KEY")
T.ok(c.apiKey ~= key, "the key is masked")
T.eq(c.apiKey:sub(-4), key:sub(-4), "the mask keeps the last four characters")
T.ok(not json.encode(c):find(key, 1, true), "the key appears nowhere in config()")

livechat.configure{ timeout = 7, retries = 2 }
T.eq(livechat.config().timeout, 7, "timeout configured")
T.eq(livechat.config().retries, 2, "retries configured")

-- A wrong key set by configure makes calls fail with auth; the right one restores them.
livechat.configure{ apiKey = "not-the-key" }
local r, err = livechat.listTickets{}
T.fails("auth", r, err, "configured wrong key")
livechat.configure{ apiKey = key }
T.ok(livechat.listTickets{}, "configured right key")

-- A call's own credentials win for that call only.
r, err = livechat.listTickets{ login = "someone.else@example.com" }
T.fails("auth", r, err, "a call's own login")
T.ok(livechat.listTickets{}, "the next call uses the configured login again")

T.raises("bad argument #1 to 'configure' (unknown field 'apikey' (did you mean 'apiKey'?))", function() livechat.configure{ apikey = "x" } end)
T.raises("(field 'timeout' expects seconds, more than 0 and at most 3600, got -1)", function() livechat.configure{ timeout = -1 } end)
T.raises("(field 'timeout' expects seconds, more than 0 and at most 3600, got inf)", function() livechat.configure{ timeout = math.huge } end)
T.raises("(field 'timeout' expects seconds, more than 0 and at most 3600, got 1000000000000.0)", function() livechat.configure{ timeout = 1e12 } end)
T.raises("(field 'timeout' expects seconds, more than 0 and at most 3600, got", function() livechat.configure{ timeout = 0/0 } end)
T.raises("(field 'timeout' expected a number of seconds, got string 'soon')", function() livechat.configure{ timeout = "soon" } end)
T.raises("(field 'apiUrl': ", function() livechat.configure{ apiUrl = "http://example.com" } end)
T.raises("(field 'retries' expected an integer from 0 to 20, got 99)", function() livechat.configure{ retries = 99 } end)

T.done()
