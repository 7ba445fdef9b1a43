-- Every error kind, provoked against real servers the harness starts: nil, err with a readable err.
local T = dofile(arg[0]:match("(.*/)") .. "testlib.lua")
local env = os.getenv
livechat.configure{ retries = 0, timeout = 2 }
-- The key came with its URL (LIVECHAT_API_URL and LIVECHAT_API_KEY): it is sent to no other.
local key = env("LIVECHAT_API_KEY")

-- auth: the right server, a wrong key (a call's own credentials, as the connector sends them).
local r, err = livechat.getTicketById{ ticketId = "AAAAA", apiKey = "wrong-key" }
T.fails("auth", r, err, "wrong key")
T.eq(err.status, 401, "auth status")
T.ok(not tostring(err):find("wrong-key", 1, true), "the key is not in the error")

-- validation: the server refuses what the client let through.
r, err = livechat.createTicket{ message = "x", requesterEmail = "a@b" }
T.fails("validation", r, err, "bad e-mail")
T.eq(err.status, 400, "validation status")

-- not_found
r, err = livechat.getTicketById("NOPE0")
T.fails("not_found", r, err, "unknown id")

-- auth, before anything is sent: the key is bound to the URL it came with.
r, err = livechat.listTickets{ apiUrl = env("TEST_FAILING_URL") }
T.fails("auth", r, err, "a key bound to another URL")
T.ok(tostring(err):find("is not sent to " .. env("TEST_FAILING_URL"), 1, true), tostring(err))
T.eq(err.status, nil, "nothing was sent")

-- server: every request answered 500 (not retried for reads either).
r, err = livechat.listTickets{ apiUrl = env("TEST_FAILING_URL"), apiKey = key }
T.fails("server", r, err, "500")
T.eq(err.status, 500, "server status")

-- rate_limited: a server allowing one request per ten seconds.
livechat.listTickets{ apiUrl = env("TEST_RATE_LIMITED_URL"), apiKey = key }
r, err = livechat.listTickets{ apiUrl = env("TEST_RATE_LIMITED_URL"), apiKey = key }
T.fails("rate_limited", r, err, "429")
T.eq(err.status, 429, "rate limit status")
T.eq(err.retryable, true, "a rate limit is retryable")

-- timeout: answers slower than the timeout.
livechat.configure{ timeout = 0.3, retries = 0 }
r, err = livechat.listTickets{ apiUrl = env("TEST_SLOW_URL"), apiKey = key }
T.fails("timeout", r, err, "slow server")
livechat.configure{ timeout = 5 }

-- network: nothing listens there.
r, err = livechat.listTickets{ apiUrl = env("TEST_CLOSED_URL"), apiKey = key }
T.fails("network", r, err, "closed port")
T.eq(err.status, nil, "no status without an answer")

-- protocol: a 200 that is not the API's JSON.
r, err = livechat.getTicketById{ ticketId = "GARBG", apiUrl = env("TEST_GARBAGE_URL"), apiKey = key }
T.fails("protocol", r, err, "not JSON")

-- Every error object reads well.
T.ok(tostring(err):match("^livechat: protocol: "), "tostring: " .. tostring(err))
T.eq(type(err.message), "string", "message")
T.eq(type(err.retryable), "boolean", "retryable")

-- A misspelt function name is told with the closest one of that module; a far one stays nil.
T.raises("livechat has no field 'getTiketById' (did you mean 'getTicketById'?)", function() return livechat.getTiketById end)
T.raises("json has no field 'decod' (did you mean 'decode'?)", function() return json.decod end)
T.eq(csv.decod, nil, "csv is not told of json.decode")
T.eq(livechat.somethingElseEntirely, nil, "a name close to none is nil")

T.done()
