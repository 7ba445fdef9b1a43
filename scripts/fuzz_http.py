#!/usr/bin/env python3
"""HTTP fuzzer for the LiveChat-compatible sandbox server (`livechat-lua serve`).

Standard library only. Sends seeded random requests over raw sockets (so malformed requests are
possible) to a server on 127.0.0.1 and reports every crash, hang, 5xx and malformed response.

Usage:
  python3 scripts/fuzz_http.py --binary .build/debug/livechat-lua --cases 20000 [--seed S]
  python3 scripts/fuzz_http.py --url http://127.0.0.1:8080 --cases 1000
  python3 scripts/fuzz_http.py --binary BIN --seed S --replay 1234,1240   # re-send those cases
  python3 scripts/fuzz_http.py --binary BIN --seed S --dump 1234 > req.bin  # raw bytes of a case

With --binary it starts `BIN serve --host 127.0.0.1 --port 0 --seed-tickets 30` itself, reads
`url: ...` from its stdout, and restarts it after every crash. Case N of seed S is always the
same bytes (each case has its own random.Random derived from S and N), so a crash can be replayed
with --replay. With several threads, a crash is pinned on one case by replaying the cases that
were in flight, one at a time, on a fresh server.

Outcomes: a case is fine when the server answers with a well-formed status line or closes the
connection. A crash is the server process dying or stopping to answer (GET /health); a hang is one
request left unanswered for --timeout seconds while the server otherwise answers; a server error
is a 5xx answer (not one listed in --allow-status). Contract checks (numeric bounds of page and
group ids from the spec) are reported separately and do not change the exit status.

Exit status: 1 if any crash, else 0. The last lines are the summary:
  http fuzz: N cases, C crashes, H hangs, E server errors, R cases/s
  server still answering: yes|no
"""

import argparse
import atexit
import base64
import collections
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import random
from urllib.parse import urlsplit

DEMO_LOGIN = "agent@sandbox.livechat.local"
DEMO_KEY = "sandbox-demo-key"
MAX_REPR = 1500  # bytes of a request shown in a report

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
LAX = UNRESERVED | frozenset(b"[]@:,;!$'()*/")


def _table(safe, plus):
    return [bytes([c]) if c in safe else (b"+" if plus and c == 32 else b"%%%02X" % c) for c in range(256)]


_TABLES = {}
_SAFE_BYTES = {id(UNRESERVED): bytes(sorted(UNRESERVED)), id(LAX): bytes(sorted(LAX))}
_UNSAFE_IN_TARGET = re.compile(rb"[\x00-\x20\x7f-\xff]")


def unsafe(data):
    return _UNSAFE_IN_TARGET.search(data) is not None


def pct(data, safe=UNRESERVED, plus=False):
    if not data.translate(None, _SAFE_BYTES[id(safe)]):
        return bytes(data)  # nothing to encode
    key = (id(safe), plus)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = _table(safe, plus)
    return b"".join(map(table.__getitem__, data))


_ALL_UPPER = [b"%%%02X" % c for c in range(256)]
_ALL_LOWER = [b"%%%02x" % c for c in range(256)]


def pct_all(data, lower=False):
    return b"".join(map((_ALL_LOWER if lower else _ALL_UPPER).__getitem__, data))


def weighted(rng, table):
    total = sum(w for _, w in table)
    x = rng.random() * total
    for item, w in table:
        x -= w
        if x < 0:
            return item
    return table[-1][0]


def short_repr(data, limit=MAX_REPR):
    if len(data) <= limit:
        return repr(data)
    return "%r ... (%d bytes in all)" % (data[:limit], len(data))


# ---------------------------------------------------------------------------------------------
# Value pools
# ---------------------------------------------------------------------------------------------

INT_HOSTILE = [
    b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809",
    b"18446744073709551615", b"18446744073709551616", b"1e308", b"1e309", b"-1e308", b"-1", b"0",
    b"-0", b"+0", b"1000001", b"1000000", b"999999", b"2147483648", b"2147483647", b"-2147483648",
    b"-2147483649", b"4294967296", b"368934881474191033", b"368934881474191034", b"NaN", b"nan",
    b"-nan", b"inf", b"-inf", b"Infinity", b"1.5", b"0.5", b"1.0", b"2.", b".5", b"1e3", b"1E2",
    b"0x10", b"0X7fffffffffffffff", b"0b101", b"0o17", b"1_000", b"01", b"007", b"+1", b" 1", b"1 ",
    b"\t1", b"1\x00", b"", b"-", b"+", b"1-", b"--1", b"1,000", b"1;2", b"\xef\xbc\x91", b"\xd9\xa1",
    b"\xe2\x85\xa0", b"true", b"null", b"[]", b"1" * 30, b"9" * 400, b"1" + b"0" * 308,
    b"00000000000000000000001", b"2", b"3", b"-2",
]
BOUNDARIES = [0, 1, 1_000_000, 2**31 - 1, 2**31, 2**32, 2**53, (2**63 - 1) // 25, 2**63 - 1, 2**63, 2**64]

JSON_NUM_HOSTILE = [
    b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808", b"-9223372036854775809",
    b"18446744073709551616", b"1e308", b"1e309", b"-1e309", b"1e-400", b"4.9e-324", b"-1", b"-0",
    b"0.0", b"-0.0", b"0.5", b"1.5", b"1.0", b"1e15", b"1e14", b"999999999999999",
    b"999999999999999.5", b"1000000000000000.0", b"2147483647", b"2147483648", b"-2147483649",
    b"1E+2", b"0e0", b"1" + b"0" * 400, b"0." + b"0" * 400 + b"1", b"123456789012345678901234567890",
    b"01", b"+1", b".5", b"1.", b"0x10", b"NaN", b"Infinity", b"-Infinity", b"1e", b"-", b"1e99999999999",
]

STR_HOSTILE = [
    b"", b" ", b"\t", b"%", b"\x00", b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\xc0\xaf", b"\xe2\x80\xae", b"\xf0\x9f\x98\x80", b"\xe9", b"'; DROP TABLE ticket; --", b"\" OR 1=1 --",
    b"%s%s%n", b"{{7*7}}", b"../../etc/passwd", b"[]", b"{}", b"null", b"\r\n", b"a\r\nX-Injected: 1",
    b"OPEN", b"Open", b"desc ", b" asc", b"ASC\x00", b"\xe2\x80\x8b", b"a\u0301".decode("unicode_escape").encode(),
    b"\xef\xbb\xbf", b"*", b"%25", b"+", b"&", b"=", b"#", b"?",
]

DATE_HOSTILE = [
    b"2015-02-30", b"2015-13-01", b"2015-00-10", b"2015-01-00", b"2015-01-32", b"0000-01-01", b"0001-01-01",
    b"9999-12-31", b"1969-12-31", b"1970-01-01", b"2262-04-12", b"2015-1-1", b"15-01-01", b"20150101",
    b"2015/01/01", b"2015-01-01T00:00:00Z", b"2015-01-01 ", b"yesterday", b"today", b"-001-01-01",
    b"+2015-01-01", b"\xef\xbc\x92015-01-01", b"2015-01-01\x00", b"2016-02-29", b"2015-02-29", b"1900-02-29",
    b"2000-02-29", b"2015--01", b"----", b"1e10-01-01", b"9223372036854775807-01-01", b"2015-01-1\xd9\xa1",
    b"\xd9\xa2\xd9\xa0\xd9\xa1\xd9\xa5-01-01", b"0000-00-00", b"2015-02-28", b"-2015-01-01",
]

LIST_PARAMS = ["page", "group", "assigned", "tagged", "order", "status", "date_from", "date_to",
               "requester[mail]", "query", "tag", "source", "assignee"]

MAILS = [b"mary.brown@email.com", b"john@example.com", b"A.B@Example.COM", b"x@y.co", b"fuzz@sandbox.test"]
BAD_MAILS = [b"not-an-email", b"a@b", b"@b.c", b"a@.b", b"a@b.", b"a@b..c", b"a b@c.d", b"a@@b.c",
             b"a@b@c.d", b"\xff@b.c", b"a@\xc3\xa9.com", b"x" * 5000 + b"@b.c", b" ", b"@", b".@."]


def hostile_int(rng):
    r = rng.random()
    if r < 0.55:
        return rng.choice(INT_HOSTILE)
    if r < 0.8:
        v = rng.choice(BOUNDARIES) + rng.randint(-3, 3)
        return str(v if rng.random() < 0.85 else -v).encode()
    if r < 0.9:
        return str(rng.randint(0, 10 ** rng.randint(1, 30))).encode()
    return repr(rng.uniform(-1e20, 1e20)).encode()


def hostile_str(rng):
    r = rng.random()
    if r < 0.7:
        return rng.choice(STR_HOSTILE)
    if r < 0.85:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    return rng.choice([b"a", b"\xc3\xa9", b"%", b" "]) * rng.choice([100, 5000, 30000])


def rand_date(rng):
    return b"%04d-%02d-%02d" % (rng.randint(2012, 2030), rng.randint(1, 12), rng.randint(1, 28))


# ---------------------------------------------------------------------------------------------
# JSON writer that can write anything (raw tokens, invalid UTF-8, duplicate keys)
# ---------------------------------------------------------------------------------------------

class Raw:
    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


class Pairs(list):
    """An object given as a list of (key, value) pairs: keys may repeat."""


_JSON_SPECIAL = re.compile(rb'[\x00-\x1f"\\]')


def _jescape(m):
    c = m.group()[0]
    return b'\\"' if c == 0x22 else b"\\\\" if c == 0x5C else b"\\u%04x" % c


def jstr(b):
    if isinstance(b, str):
        b = b.encode()
    return b'"' + _JSON_SPECIAL.sub(_jescape, b) + b'"'


def jenc(o):
    if isinstance(o, Raw):
        return o.data
    if o is None:
        return b"null"
    if o is True:
        return b"true"
    if o is False:
        return b"false"
    if isinstance(o, int):
        return str(o).encode()
    if isinstance(o, float):
        return repr(o).encode()
    if isinstance(o, (bytes, bytearray, str)):
        return jstr(o)
    if isinstance(o, Pairs):
        return b"{" + b",".join(jstr(k) + b":" + jenc(v) for k, v in o) + b"}"
    if isinstance(o, list):
        return b"[" + b",".join(jenc(x) for x in o) + b"]"
    if isinstance(o, dict):
        return b"{" + b",".join(jstr(k) + b":" + jenc(v) for k, v in o.items()) + b"}"
    raise TypeError(type(o))


# ---------------------------------------------------------------------------------------------
# The case generator
# ---------------------------------------------------------------------------------------------

class Case:
    __slots__ = ("no", "raw", "chunks", "methods", "mode", "fresh", "desc", "oracle")

    def __init__(self, no):
        self.no = no
        self.raw = b""
        self.chunks = []      # pieces sent in order ("expect" mode: head, then body)
        self.methods = []     # the method of each request whose answer is read
        self.mode = "normal"  # normal | abort | halfclose | expect
        self.fresh = False    # needs its own connection (framing may be off afterwards)
        self.desc = ""
        self.oracle = None    # (expected status, label) for contract checks


class Req:
    """One HTTP request, before serialization."""

    def __init__(self):
        self.method = b"GET"
        self.target = b"/"
        self.version = b"HTTP/1.1"
        self.headers = []
        self.body = b""
        self.eol = b"\r\n"

    def bytes(self):
        eol = self.eol
        head = [self.method + b" " + self.target + (b" " + self.version if self.version is not None else b"")]
        head += [k + b": " + v if v is not None else k for k, v in self.headers]
        return eol.join(head) + eol + eol + self.body


class Ctx:
    def __init__(self, rng, ids, auth):
        self.rng = rng
        self.ids = ids
        self.auth = auth  # (login, key) bytes
        self.fresh = False
        self.mode = "normal"
        self.notes = []
        self.close = False

    def note(self, text):
        self.notes.append(text if isinstance(text, str) else repr(text))

    def good_auth(self):
        login, key = self.auth
        return b"Basic " + base64.b64encode(login + b":" + key)


def enc_value(ctx, v):
    rng = ctx.rng
    r = rng.random()
    if r < 0.75:
        return pct(v, plus=rng.random() < 0.5)
    if r < 0.85:
        return pct_all(v, lower=rng.random() < 0.5)
    if r < 0.97:
        return pct(v, safe=LAX)
    # raw: may contain bytes a request target or form cannot hold
    if unsafe(v):
        ctx.fresh = True
    ctx.note("raw value")
    return v


def enc_key(ctx, name, hostile=False):
    rng = ctx.rng
    k = name.encode()
    if b"[" in k:
        base, _, rest = k.partition(b"[")
        sub = rest[:-1]
        if hostile and rng.random() < 0.5:
            ctx.note("hostile bracket key")
            return rng.choice([base + b"[" + sub + b"][]", base + b"[", base + b"[" + sub, base + b"]" + sub + b"[",
                               b"[" + sub + b"]", base + b"[][" + sub + b"]", base + b"[" + sub + b"]x",
                               base + b"[[" + sub + b"]]", base + b"%5B%00%5D", base + b"%5B" + sub,
                               base + b"[" + sub + b"]]", b"%5B" + sub + b"%5D"])
        return rng.choice([k, k, k, base + b"%5B" + sub + b"%5D", base + b"%5b" + sub + b"%5d",
                           base + b"%5B" + sub + b"]", base + b"[" + sub + b"%5D", pct_all(base[:1]) + base[1:] + b"[" + sub + b"]",
                           b"+" + k, b"%20%20" + k])
    r = rng.random()
    if r < 0.8:
        return k
    if r < 0.87:
        return pct_all(k, lower=rng.random() < 0.5)
    if r < 0.93:
        return rng.choice([b"++", b"%20", b"%09", b"%0A"]) + k
    if hostile:
        ctx.note("odd key")
        return rng.choice([k.upper(), k + b"[]", k + b"[0]", k + b"[", k + b"]", k + b"[x][y]", k + b"%00"])
    return k


def valid_param(ctx, p):
    rng = ctx.rng
    if p == "page":
        return str(rng.choice([1, 1, 2, 2, 3, rng.randint(1, 1_000_000)])).encode()
    if p == "group":
        return str(rng.choice([0, 0, 1, 2, rng.randint(0, 2**31 - 1)])).encode()
    if p in ("assigned", "tagged"):
        return rng.choice([b"0", b"1"])
    if p == "order":
        return rng.choice([b"asc", b"desc", b"ASC", b"Desc"])
    if p == "status":
        return rng.choice([b"open", b"pending", b"solved", b"spam", b"OPEN"])
    if p in ("date_from", "date_to"):
        return rand_date(rng)
    if p == "requester[mail]":
        return rng.choice(MAILS)
    if p == "query":
        return rng.choice([b"shoes", b"a", b"@", b"%", b"_", b"SALES", b"\xc3\xa9t\xc3\xa9", b"mary brown"])
    if p == "tag":
        return rng.choice([b"sales", b"vip", b"billing", b"x"])
    if p == "source":
        return rng.choice([b"lc2", b"mail", b"facebook", b"agent-app-manual", b"chat-window", b"MAIL"])
    if p == "assignee":
        return rng.choice([DEMO_LOGIN.encode(), b"jane.doe@mycompany.com", b"nobody"])
    return b"x"


def hostile_param(ctx, p):
    rng = ctx.rng
    if p in ("page", "group", "assigned", "tagged"):
        return hostile_int(rng)
    if p in ("date_from", "date_to"):
        return rng.choice(DATE_HOSTILE) if rng.random() < 0.8 else hostile_str(rng)
    if p == "requester[mail]" and rng.random() < 0.4:
        return rng.choice(BAD_MAILS)
    return hostile_str(rng)


def gen_query(ctx, hostile_count):
    rng = ctx.rng
    n = rng.choice([0, 1, 1, 1, 2, 2, 3, 4, 6, len(LIST_PARAMS)])
    if hostile_count and n == 0:
        n = 1
    chosen = rng.sample(LIST_PARAMS, min(n, len(LIST_PARAMS)))
    hostile = set(rng.sample(range(len(chosen)), min(hostile_count, len(chosen))))
    pairs = []
    for i, p in enumerate(chosen):
        bad = i in hostile
        v = hostile_param(ctx, p) if bad else valid_param(ctx, p)
        if bad:
            ctx.note("%s=%s" % (p, short_repr(v, 60)))
        pairs.append(enc_key(ctx, p, hostile=bad and rng.random() < 0.2) + b"=" + enc_value(ctx, v))
        if rng.random() < 0.06:
            v2 = hostile_param(ctx, p) if rng.random() < 0.5 else valid_param(ctx, p)
            pairs.insert(rng.randint(0, len(pairs)), enc_key(ctx, p) + b"=" + enc_value(ctx, v2))
            ctx.note("repeated " + p)
    if rng.random() < 0.05:
        pairs.insert(rng.randint(0, len(pairs)), rng.choice([b"foo=bar", b"page[]=1", b"=x", b"x", b"", b"==",
                                                             b"group[0]=1", b"%=%", b"a=%zz", b"page", b"[=]"]))
        ctx.note("extra pair")
    sep = b"&" if rng.random() < 0.95 else rng.choice([b"&&", b";", b"&amp;", b"&%26"])
    q = sep.join(pairs)
    if rng.random() < 0.03:
        q = rng.choice([b"", b"?", b"&", b"&&&", b"=&="]) + q + rng.choice([b"", b"&", b"#frag", b"%", b"?"])
        ctx.note("odd query")
    if not q and rng.random() < 0.9:
        return b""
    return b"?" + q


def rand_id(ctx, hostile):
    rng = ctx.rng
    real = rng.choice(ctx.ids) if ctx.ids else b"ABCDE"
    if not hostile:
        if rng.random() < 0.8:
            return real
        return bytes(rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(5))
    ctx.note("hostile id")
    choice = rng.randint(0, 22)
    if choice == 0:
        return real.lower()
    if choice == 1:
        return pct_all(real, lower=rng.random() < 0.5)
    if choice == 2:
        return pct_all(real[:2]) + real[2:]
    if choice == 3:
        return rng.choice([b"%ZZ", b"%", b"%4", b"%%", b"%G1", b"%4%1"]) + real
    if choice == 4:
        return rng.choice([b"%00", b"%00ABCDE", real + b"%00", b"ABC%00E"])
    if choice == 5:
        return rng.choice([b"..", b".", b"%2e%2e", b"%2E", b"..%2f..", b"%2F", real[:3] + b"%2F" + real[3:]])
    if choice == 6:
        return b"A" * rng.choice([4, 6, 100, 5000, 70000])
    if choice == 7:
        return rng.choice([b"\xff\xfe", b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", b"\x80", b"\xed\xa0\x80ABCD"])
    if choice == 8:
        return rng.choice([b"%ff%fe", b"%C3%A9", b"%ED%A0%80", b"%F0%9F%98%80ABC", b"%C0%AF", b"%e9"])
    if choice == 9:
        return rng.choice([b"", b"%20", b"+", b"*", b"?", b"%3F", b"#", b"%23", b" "])
    if choice == 10:
        return rng.choice([b"-1", b"0", b"9223372036854775808", b"1e308", b"NaN"])
    if choice == 11:
        return real + rng.choice([b";x", b";", b"%3B", b" ", b"\t", b"%0A", b"%0D%0A"])
    if choice == 12:
        return hostile_str(rng)
    if choice == 13:
        return b"%25" + real
    if choice == 14:
        return b"%" * rng.choice([1, 2, 3, 1000])
    if choice == 15:
        return real + b"%"
    if choice == 16:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
    if choice == 17:
        return b"\xef\xbc\xa1BCDE"  # fullwidth A
    if choice == 18:
        return real.decode().replace("A", "\u0410").encode()
    if choice == 19:
        return b"%41%42%43%44%45"
    if choice == 20:
        return pct(real.lower())
    if choice == 21:
        return b"%u0041BCDE"
    return b"%" + b"%02X" % rng.randrange(256)


def gen_path(ctx, endpoint, hostile):
    rng = ctx.rng
    prefix = rng.choice([b"", b"/v2"])
    if hostile and rng.random() < 0.15:
        prefix = rng.choice([b"/V2", b"//v2", b"/v2/", b"/v3", b"/v2/v2", b"/%76%32", b"/v2;x", b"/v", b"/.",
                             b"/v2/..", b"/../v2", b"/%2e%2e"])
        ctx.note("prefix %r" % prefix)
    tickets = b"/tickets"
    if hostile and rng.random() < 0.1:
        tickets = rng.choice([b"/Tickets", b"/ticket", b"/%74ickets", b"/tickets%2F", b"/tickets/", b"//tickets",
                              b"/tickets.json", b"/tickets%00", b"/./tickets", b"/tickets/..", b"/TICKETS"])
        ctx.note("tickets segment %r" % tickets)
    if endpoint in ("list", "create"):
        path = prefix + tickets
        if hostile and rng.random() < 0.3:
            path += rng.choice([b"/", b"//", b"/tags", b"//tags", b"/%2F", b"/?", b"/ABCDE/tags/x",
                                b"/ABCDE/tags/x/y", b"/a/b/c/d"])
            ctx.note("path tail")
    elif endpoint == "ticket":
        path = prefix + tickets + b"/" + rand_id(ctx, hostile)
    elif endpoint == "tags":
        tags = b"/tags"
        if hostile and rng.random() < 0.15:
            tags = rng.choice([b"/TAGS", b"/%74ags", b"/tags/", b"/tag", b"/tags%00", b"//tags", b"/tags/x"])
            ctx.note("tags segment %r" % tags)
        path = prefix + tickets + b"/" + rand_id(ctx, hostile and rng.random() < 0.6) + tags
    elif endpoint == "health":
        path = rng.choice([b"/health", b"/health", b"/v2/health", b"/health/", b"/HEALTH", b"/health%00", b"//health"])
    else:
        path = rng.choice([b"/", b"", b"*", b"/index.html", b"/tickets/a/b/c/d", b"/.well-known/x", b"/%",
                           b"/%00", b"/" + b"a" * rng.choice([10, 1000, 9000, 70000]), b"/" + b"a/" * 3000,
                           b"/\xff\xfe", b"/\xc3\xa9", b"/%ff", b"/%C3%A9", b"/..", b"/../../etc/passwd",
                           b"/tickets/../../etc", b"/%2e%2e/%2e%2e", b"/v2", b"/v2/", b"/v2//", b"/\x00",
                           b"/a?b?c", b"/#x", b"/a%2Fb", b"//", b"///tickets", b"/%%%", b"/;", b"/?&=",
                           b"/tickets/" + b"%41" * 20000])
    if hostile and rng.random() < 0.1:
        deco = rng.randint(0, 5)
        ctx.note("target form %d" % deco)
        if deco == 0:
            path = b"http://127.0.0.1" + path
        elif deco == 1:
            path = b"http://api.livechatinc.com" + path
        elif deco == 2:
            path = path.lstrip(b"/")
        elif deco == 3:
            path = path + b"#frag"
        elif deco == 4:
            path = path + b"/"
        else:
            path = path.replace(b"/", b"//")
    if unsafe(path) or len(path) > 8000:
        ctx.fresh = True
    return path


# ---- headers ----

def std_headers(ctx, req):
    rng = ctx.rng
    h = []
    host = b"127.0.0.1" if rng.random() < 0.7 else rng.choice([b"localhost", b"api.livechatinc.com",
                                                               b"127.0.0.1:80", b"[::1]", b"example.com:443"])
    h.append((b"Host", host))
    r = rng.random()
    if r < 0.85:
        h.append((b"Authorization", ctx.good_auth()))
    elif r < 0.93:
        login, key = ctx.auth
        h.append((b"Authorization", b"Basic " + login + b":" + key))  # docs' curl samples: unencoded
    else:
        login, key = ctx.auth
        h.append((rng.choice([b"authorization", b"AUTHORIZATION"]),
                  rng.choice([b"basic ", b"BASIC ", b"Basic  "]) + base64.b64encode(login.upper() + b":" + key)))
    r = rng.random()
    if r < 0.8:
        h.append((rng.choice([b"X-API-Version", b"x-api-version", b"X-Api-Version"]), b"2"))
    if rng.random() < 0.2:
        h.append((b"User-Agent", rng.choice([b"fuzz_http/1", b"curl/8.5.0", b"Mozilla/5.0"])))
    if rng.random() < 0.2:
        h.append((b"Accept", rng.choice([b"application/json", b"*/*", b"text/html"])))
    req.headers = h


def set_header(req, name, value):
    low = name.lower()
    req.headers = [(k, v) for k, v in req.headers if k.lower() != low]
    if value is not None:
        req.headers.append((name, value))


def hostile_auth(ctx, req):
    rng = ctx.rng
    login, key = ctx.auth
    b64 = lambda s: base64.b64encode(s)
    options = [
        None, b"", b" ", b"Basic", b"Basic ", b"Basic " + b64(login + b":wrong-key"), b"Basic " + b64(b"nobody@x.y:" + key),
        b"Basic " + b64(login + b":" + key + b"x"), b"Basic " + b64(login + b":" + key[:-1]), b"Basic !!!!",
        b"Basic " + b64(b"\xff\xfe:\xff"), b"Basic " + b"A" * rng.choice([10, 10001, 60000]),
        b"Basic " + b64(login), b"Basic " + b64(b":"), b"Basic :", b"Basic " + b64(login + b":" + key).rstrip(b"="),
        b"Basic " + b64(login + b":" + key) + b"====", b"Bearer x", b"Bearer ", b"Bearer " + key,
        b"Digest username=\"a\"", b"Negotiate x", b"Basic\t" + b64(login + b":" + key), b"Basic \xff\xfe",
        b"Basic " + login + b":" + key + b"\x00", b"\xc3\xa9", b"Basic " + b64(login + b":" + key) + b" extra",
        b"Basic " + b64(login + b":" + key + b":" + key), b"Basic " + b64(login + b":"), b"Basic =", b"Basic ====",
        b"Basic " + b64(login + b":" + key)[:-2], b"Basic %s" % pct_all(b64(login + b":" + key)),
        b"basic" + b64(login + b":" + key),
    ]
    v = rng.choice(options)
    ctx.note("auth %s" % short_repr(v or b"<none>", 60))
    if rng.random() < 0.1:
        # two Authorization headers, a good and a bad one, in either order
        good = ctx.good_auth()
        pair = [(b"Authorization", good), (b"Authorization", v or b"x")]
        rng.shuffle(pair)
        set_header(req, b"Authorization", None)
        req.headers += pair
        ctx.note("duplicate auth")
        return
    set_header(req, b"Authorization", v)
    if v and any(c >= 0x7F or c == 0 for c in v):
        ctx.fresh = True


def hostile_version(ctx, req):
    rng = ctx.rng
    v = rng.choice([b"", b" ", b"1", b"3", b"02", b"2.0", b" 2", b"2 ", b"\xef\xbc\x92", b"9" * rng.choice([20, 1000]),
                    b"99999999999999999999", b"-2", b"0x2", b"NaN", b"\xff", b"2\x00", b"v2", b"2,2", b"2, 3",
                    b"9223372036854775808", b"\t2\t", b"1e0", b"+2", "２".encode()])
    name = rng.choice([b"X-API-Version", b"x-api-version", b"X-API-VERSION", b"X-Api-Version"])
    set_header(req, b"X-API-Version", None)
    r = rng.random()
    if r < 0.8:
        req.headers.append((name, v))
    elif r < 0.9:
        req.headers += [(name, b"2"), (name, v)]
    else:
        req.headers += [(name, b"2"), (name, b"2")]
    ctx.note("version %s" % short_repr(v, 40))
    if any(c >= 0x7F or c == 0 for c in v):
        ctx.fresh = True


def hostile_headers(ctx, req):
    rng = ctx.rng
    choice = rng.randint(0, 19)
    ctx.note("headers #%d" % choice)
    if choice == 0:
        set_header(req, b"Host", None)
    elif choice == 1:
        set_header(req, b"Host", rng.choice([b"", b"\xff", b"a" * 10000, b"127.0.0.1:99999", b"x y"]))
        ctx.fresh = True
    elif choice == 2:
        req.headers.append((b"Host", b"second.example"))
    elif choice == 3:
        req.headers.append((b"X-No-Colon", None))  # a line without a colon
        ctx.fresh = True
    elif choice == 4:
        req.headers.append((b" X-Folded", b"continued"))  # obs-fold
        ctx.fresh = True
    elif choice == 5:
        req.headers.append((b"X Bad Name", b"1"))
        ctx.fresh = True
    elif choice == 6:
        req.headers.append((b"", b"empty name"))
        ctx.fresh = True
    elif choice == 7:
        req.headers.append((b"X-Big", b"a" * rng.choice([8000, 70000, 200000])))
        ctx.fresh = True
    elif choice == 8:
        req.headers += [(b"X-H%d" % i, b"v") for i in range(rng.choice([100, 1000, 5000]))]
        ctx.fresh = True
    elif choice == 9:
        req.headers.append((b"X-Nul", b"a\x00b"))
        ctx.fresh = True
    elif choice == 10:
        req.headers.append((b"X-Cr", b"a\rb"))
        ctx.fresh = True
    elif choice == 11:
        req.headers.append((b"X-\xff\xfe", b"1"))
        ctx.fresh = True
    elif choice == 12:
        req.headers.append((b"X-Utf8", b"\xc3\xa9\xff\xfe"))
        ctx.fresh = True
    elif choice == 13:
        req.headers.append((b"Connection", rng.choice([b"close", b"keep-alive", b"Upgrade", b"close, close", b"\xff"])))
        ctx.fresh = True
    elif choice == 14:
        req.headers += [(b"Upgrade", rng.choice([b"h2c", b"websocket"])), (b"Connection", b"Upgrade"),
                        (b"HTTP2-Settings", b"AAMAAABkAARAAAAAAAIAAAAA")]
        ctx.fresh = True
    elif choice == 15:
        req.headers.append((b"Expect", rng.choice([b"100-continue", b"100-Continue", b"200-ok", b"", b"100-continue, x"])))
        ctx.fresh = True
    elif choice == 16:
        req.headers.append((b"Content-Type", rng.choice([b"application/json", b"text/plain", b"\xff", b";"])))
    elif choice == 17:
        req.headers.append((b"Accept-Encoding", b"gzip, deflate, br"))
        req.headers.append((b"Content-Encoding", rng.choice([b"gzip", b"deflate", b"br", b"identity"])))
    elif choice == 18:
        req.headers.append((b"Cookie", b"a=" + b"b" * 4000))
    else:
        req.headers.append((b"Transfer-Encoding", rng.choice([b"identity", b"gzip", b"x"])))
        ctx.fresh = True


# ---- bodies ----

CT_FORM = [b"application/x-www-form-urlencoded", b"application/x-www-form-urlencoded; charset=utf-8",
           b"application/x-www-form-urlencoded; charset=UTF-8", b"application/x-www-form-urlencoded;charset=utf-8"]
CT_JSON = [b"application/json", b"application/json; charset=utf-8", b"application/json;charset=UTF-8"]
CT_HOSTILE = [
    b"application/x-www-form-urlencoded; charset=iso-8859-1", b"application/x-www-form-urlencoded; charset=latin1",
    b"application/x-www-form-urlencoded; charset=\"utf-8\"", b"application/x-www-form-urlencoded; charset=utf-16",
    b"application/x-www-form-urlencoded; charset=", b"application/x-www-form-urlencoded; charset",
    b"application/x-www-form-urlencoded;charset=utf-8;charset=latin1", b"application/json; charset=utf-16le",
    b"application/json; charset=latin1", b"text/json", b"application/vnd.livechat+json", b"application/+json",
    b"+json", b"multipart/form-data; boundary=----x", b"text/plain", b"", b";", b";;;", b"application/json;",
    b"APPLICATION/JSON", b"Application/X-WWW-Form-Urlencoded", b"application/x-www-form-urlencoded\xff",
    b"*/*", b"application/json, text/plain", b"a" * 5000, b"application/json; charset=" + b"x" * 1000,
    b" application/json ", b"application/json\x00", b"application/json; charset=\xff",
]


def create_model(ctx):
    rng = ctx.rng
    m = {"message": rng.choice([b"Hello, my shoes are broken", b"hi", b"  padded  ", b"\xc3\xa9t\xc3\xa9",
                                b"line1\nline2", b"x" * rng.choice([1, 100, 2000])]),
         "requester": {"mail": rng.choice(MAILS)}}
    if rng.random() < 0.6:
        m["requester"]["name"] = rng.choice([b"Mary Brown", b"", b"\xc5\x81ukasz", b"O'Brien"])
    if rng.random() < 0.5:
        m["subject"] = rng.choice([b"My new shoes are broken", b"", b"  ", b"Re: [#123] help"])
    if rng.random() < 0.5:
        st = rng.choice([b"lc2", b"mail", b"chat-window"])
        m["source"] = {"type": st}
        if rng.random() < 0.5:
            m["source"]["url"] = b"https://example.com/page?a=1&b=2"
    if rng.random() < 0.3:
        m["assignee"] = {"id": rng.choice([DEMO_LOGIN.encode(), b"jane.doe@mycompany.com"])}
    if rng.random() < 0.5:
        m["group"] = [rng.choice([0, 1, 2, 7, 2147483647]) for _ in range(rng.randint(1, 3))]
    return m


def scalar(v):
    if isinstance(v, Raw):
        return v.data
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if v is None:
        return b""
    return str(v).encode()


def model_to_form_pairs(ctx, m):
    rng = ctx.rng
    parts = []
    for k, v in m.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                parts.append((enc_key(ctx, "%s[%s]" % (k, k2)), scalar(v2)))
        elif isinstance(v, list):
            style = rng.choice(["[]", "[i]", "repeat", "single"] if len(v) == 1 else ["[]", "[i]", "repeat"])
            for i, item in enumerate(v):
                if style == "[]":
                    key = k.encode() + rng.choice([b"[]", b"%5B%5D", b"%5b%5d"])
                elif style == "[i]":
                    key = k.encode() + b"[%d]" % i
                else:
                    key = k.encode()
                parts.append((key, scalar(item)))
        else:
            parts.append((enc_key(ctx, k), scalar(v)))
    if rng.random() < 0.2:
        rng.shuffle(parts)
    return parts


def form_join(ctx, parts):
    return b"&".join(k + b"=" + enc_value(ctx, v) for k, v in parts)


def deep(depth, kind, inner=b"1"):
    if kind == "array":
        return b"[" * depth + inner + b"]" * depth
    return b'{"a":' * depth + inner + b"}" * depth


def hostile_form_body(ctx, parts, array_name):
    """Mutates the form pairs of a create (array_name 'group') or tags ('tag') body; returns bytes."""
    rng = ctx.rng
    choice = rng.randint(0, 15)
    if choice in (4, 10, 11, 15) and rng.random() < 0.97:  # big bodies: fewer, they are slow
        choice = rng.choice([0, 1, 2, 3, 5, 6, 7, 8, 9, 12, 13, 14])
    ctx.note("form body #%d" % choice)
    if choice == 0:   # message missing / empty / whitespace only
        parts = [(k, v) for k, v in parts if not k.endswith(b"message")]
        if rng.random() < 0.6:
            parts.append((b"message", rng.choice([b"", b"   ", b"\t\n", b"\xe2\x80\x8b", b"\xc2\xa0"])))
    elif choice == 1:  # bad mail
        parts = [(k, v) for k, v in parts if b"mail" not in k]
        parts.append((b"requester[mail]", rng.choice(BAD_MAILS)))
    elif choice == 2:  # hostile array values
        parts = [(k, v) for k, v in parts if not k.startswith(array_name)]
        n = rng.choice([1, 1, 2, 3])
        style = rng.choice([b"[]", b"", b"[0]"])
        for i in range(n):
            v = hostile_int(rng) if array_name == b"group" else hostile_str(rng)
            parts.append((array_name + (b"[%d]" % i if style == b"[0]" else style), v))
            ctx.note("%s=%s" % (array_name.decode(), short_repr(v, 40)))
    elif choice == 3:  # hostile array index keys
        idx = rng.choice([b"99999999999999", b"9223372036854775807", b"9223372036854775808", b"-1", b" 1", b"a",
                          b"", b"1e3", b"0x1", b"99999999999999999999999999", b"-9223372036854775809", b"\xff"])
        shape = rng.choice([b"[%s]", b"[%s][]", b"[][%s]", b"[%s][x]", b"[%s"])
        parts.append((array_name + shape % idx, rng.choice([b"1", b"x", b"", b"2147483648"])))
        ctx.note("%s key %r" % (array_name.decode(), shape % idx))
    elif choice == 4:  # many array entries
        n = rng.choice([100, 1000, 1000, 10000, 30000])
        ctx.note("%d %s entries" % (n, array_name.decode()))
        return form_join(ctx, parts) + b"".join([b"&" + array_name + b"%%5B%%5D=%d" % (i % 50) for i in range(n)])
    elif choice == 5:  # source type hostile
        parts.append((b"source[type]", hostile_str(rng)))
    elif choice == 6:  # hostile bracket keys
        parts.append((rng.choice([b"requester[mail", b"requester]", b"[mail]", b"requester[mail][x]", b"requester[][mail]",
                                  b"requester%5B", b"requester[mail]]", b"[]", b"[", b"]", b"a[b[c]]", b"a[]]",
                                  b"message[]", b"message[x]", b"requester", b"source", b"tag[x][y][z]"]),
                      rng.choice([b"x", b"a@b.co", b""])))
    elif choice == 7:  # broken percent-encoding in a raw key or value
        bad = rng.choice([b"%", b"%4", b"%zz", b"%%", b"%0", b"%ff", b"%00", b"%C0%AF", b"%ED%A0%80", b"%fe%ff", b"%c3"])
        body = form_join(ctx, parts)
        pos = rng.randint(0, len(body))
        return body[:pos] + bad + body[pos:]
    elif choice == 8:  # raw non-UTF-8 bytes
        body = form_join(ctx, parts)
        pos = rng.randint(0, len(body))
        return body[:pos] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe9", b"\x00", b"\x80\x80"]) + body[pos:]
    elif choice == 9:  # structure only
        return rng.choice([b"=&=&", b"&&&&", b"message", b"==", b"=", b"&", b"a", b"%", b"+", b"\x00", b" ",
                           b"message=hi&requester[mail]", b"requester[mail]=a@b.co&message"])
    elif choice == 10:  # near the body limit
        size = (1 << 20) + rng.randint(-64, 64) - 60
        parts = [(k, v) for k, v in parts if not k.endswith(b"message")]
        body = form_join(ctx, parts) + b"&message="
        return body + b"a" * max(0, size)
    elif choice == 11:  # many pairs
        return form_join(ctx, parts) + b"&" + b"a=b&" * rng.choice([100, 1000, 1000, 50000, 200000])
    elif choice == 12:  # whitespace around keys
        parts = [(rng.choice([b"++", b"%20%20", b"%09", b"%0A", b"+%0D%0A"]) + k + rng.choice([b"", b"+", b"%20"]), v)
                 for k, v in parts]
    elif choice == 13:  # duplicate keys
        parts += [(k, hostile_str(rng)) for k, v in parts[: rng.randint(1, 3)]]
    elif choice == 14:  # odd unicode
        parts.append((b"message", rng.choice([b"\xf0\x9f\x98\x80" * 100, b"\xe2\x80\xae\xe2\x80\xad", b"a\xcc\x81" * 50,
                                              b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"])))
    else:  # huge single value
        parts.append((b"subject", b"s" * rng.choice([10000, 500000])))
    return form_join(ctx, parts)


_BIG = {}


def big_array(array_name, n):
    """A JSON array of n small integers (group) or strings (tag), made once."""
    key = (array_name, n)
    if key not in _BIG:
        item = b"%d" if array_name == "group" else b'"t%d"'
        _BIG[key] = b"[" + b",".join([item % (i % 40) for i in range(n)]) + b"]"
    return _BIG[key]


def hostile_json(ctx, m, array_name):
    """Mutates a JSON model (create or tags); returns body bytes."""
    rng = ctx.rng
    choice = rng.randint(0, 15)
    if choice in (3, 8, 9) and rng.random() < 0.97:  # big bodies: fewer, they are slow
        choice = rng.choice([0, 1, 2, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15])
    ctx.note("json body #%d" % choice)
    if choice == 0:
        m["message"] = rng.choice([5, 1.5, [], {}, True, False, None, Raw(b"1e999"), b"", b"   ", [b"hi"], {"a": 1},
                                   Raw(b"-0"), Raw(b"9223372036854775808"), b"\x00", b"\\u0000"])
    elif choice == 1:
        m["requester"] = rng.choice([b"x", [], None, {"mail": 5}, {"mail": [b"a@b.co"]}, {"mail": {"x": 1}}, {},
                                     {"mail": None}, {"mail": True}, {"mail": Raw(b"1e400")}, {"mail": b"a@b.co", "name": 5},
                                     {"mail": b"a@b.co", "name": {"x": [1]}}, 0, Raw(b"[[[]]]")])
    elif choice == 2:
        v = rng.choice([
            [Raw(rng.choice(JSON_NUM_HOSTILE))], [Raw(rng.choice(JSON_NUM_HOSTILE)), 0], Raw(rng.choice(JSON_NUM_HOSTILE)),
            b"1", b"abc", [b"1"], [b""], [b" 1 "], [True], [None], [[1]], [{}], [[]], {}, {"0": 1}, True, None, [],
            [1.5], [-1], [b"2147483648"], [b"-0"], [b"0x1"], [b"1e3"], [Raw(b"1e2")], [b"\xff"],
        ])
        m[array_name] = v
        ctx.note("%s=%s" % (array_name, short_repr(jenc(v), 60)))
    elif choice == 3:  # big arrays
        n = rng.choice([100, 1000, 1000, 20000, 100000])
        m[array_name] = Raw(big_array(array_name, n))
        ctx.note("%d %s items" % (n, array_name))
    elif choice == 4:  # deep nesting
        depth = rng.choice([100, 511, 512, 513, 1000, 10000, 100000, 300000])
        kind = rng.choice(["array", "object"])
        where = rng.choice(["whole", array_name, "message", "requester"])
        ctx.note("nesting %d %s in %s" % (depth, kind, where))
        if where == "whole":
            return deep(depth, kind)
        m[where] = Raw(deep(depth, kind))
    elif choice == 5:  # broken syntax
        body = jenc(m)
        op = rng.randint(0, 9)
        ctx.note("syntax op %d" % op)
        if op == 0:
            return body[: rng.randint(0, len(body) - 1)]
        if op == 1:
            pos = rng.randint(0, len(body))
            return body[:pos] + bytes([rng.randrange(256)]) + body[pos:]
        if op == 2:
            return body.replace(b'"', b"", 1)
        if op == 3:
            return body[:-1] + b",}"
        if op == 4:
            return body.replace(b'"', b"'")
        if op == 5:
            return b"/* c */" + body
        if op == 6:
            return body + b"}"
        if op == 7:
            return body + rng.choice([b"x", b"\x00", b" {}", b"\n\n\n", b"\x0b"])
        if op == 8:
            return b"\xef\xbb\xbf" + body
        return body.replace(b":", b"", 1)
    elif choice == 6:  # not an object
        return rng.choice([b"[]", b'"x"', b"1", b"null", b"true", b"[{}]", b'["message"]', b"-0", b"1e999", b"\"\\ud800\""])
    elif choice == 7:  # bad strings
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\\ud800", b"\\udc00", b"\\ud800\\u0041",
                          b"\\u00", b"\\uZZZZ", b"\\x41", b"\\", b"\\u0000", b"\x01", b"\t", b"\\ud83d\\ude00", b"\\uDBFF\\uDFFF"])
        target = rng.choice(["message", "key"])
        if target == "message":
            m["message"] = Raw(b'"' + b"hi" + bad + b'"')
        else:
            m = Pairs(list(m.items()) + [(b"k" + bad, 1)])
            ctx.note("bad key")
            return jenc(m).replace(b"\\\\", b"\\")
        ctx.note("bad string %r" % bad)
    elif choice == 8:  # huge strings
        size = rng.choice([100000, (1 << 20) - 80, (1 << 20) + 10, 3 << 20])
        m["message"] = b"m" * size
        ctx.note("message of %d bytes" % size)
    elif choice == 9:  # many / duplicate keys
        if rng.random() < 0.5:
            n = rng.choice([100, 1000, 1000, 50000])
            return jenc(m)[:-1] + b"," + b",".join([b'"k%d":%d' % (i, i) for i in range(n)]) + b"}"
        else:
            items = list(m.items()) + [(b"message", rng.choice([b"", 5, None, b"second"]))] + list(m.items())[:1]
        return jenc(Pairs(items))
    elif choice == 10:  # whitespace and padding
        return rng.choice([b"\xef\xbb\xbf", b"\x00", b"\x0c", b"\x0b", b" " * 1000, b"\r\n"]) + jenc(m)
    elif choice == 11:  # hostile numbers in scalar fields
        key = rng.choice(["subject", "message"])
        m[key] = Raw(rng.choice(JSON_NUM_HOSTILE))
        ctx.note("%s=%r" % (key, m[key].data[:40]))
    elif choice == 12:
        return rng.choice([b"", b" ", b"\n", b"{}", b"{ }", b"null", b"{\"\":null}", b"{\"message\":null}"])
    elif choice == 13:  # source / assignee shapes
        m[rng.choice(["source", "assignee"])] = rng.choice([b"mail", [], 1, {"type": 5}, {"type": [b"mail"]}, {"id": {}},
                                                            {"type": b"chat-window", "url": [1]}, {"url": b"x"}])
    elif choice == 14:  # unicode escapes in keys (a key spelled with escapes is the same key)
        body = jenc(m)
        return body.replace(b'"message"', b'"\\u006d\\u0065ssage"', 1)
    else:  # tag values for a create, group for tags
        m["tag" if array_name == "group" else "group"] = [Raw(rng.choice(JSON_NUM_HOSTILE))]
    return jenc(m)


def tags_model(ctx):
    rng = ctx.rng
    n = rng.choice([0, 1, 1, 2, 3])
    return {"tag": [rng.choice([b"sales", b"vip", b"billing", b" spaced ", b"\xc3\xa9t\xc3\xa9"]) for _ in range(n)]}


def chunked(ctx, body):
    rng = ctx.rng
    out = bytearray()
    pos = 0
    while pos < len(body):
        size = min(len(body) - pos, rng.choice([1, 7, 100, 4096, 65536]))
        hexsize = (b"%x" if rng.random() < 0.7 else b"%X") % size
        if rng.random() < 0.1:
            hexsize = b"000" + hexsize
        ext = b";ext=1" if rng.random() < 0.05 else b""
        out += hexsize + ext + b"\r\n" + body[pos:pos + size] + b"\r\n"
        pos += size
    out += b"0\r\n"
    if rng.random() < 0.05:
        out += b"X-Trailer: 1\r\n"
    out += b"\r\n"
    return bytes(out)


def broken_framing(ctx, req, body):
    """Sets headers and body of `req` with wrong framing. Changes ctx.mode where no answer is owed."""
    rng = ctx.rng
    ctx.fresh = True
    choice = rng.randint(0, 13)
    ctx.note("framing #%d" % choice)
    set_header(req, b"Content-Length", None)
    set_header(req, b"Transfer-Encoding", None)
    if choice == 0:  # Content-Length larger than the body: the server waits; we half-close
        req.headers.append((b"Content-Length", b"%d" % (len(body) + rng.choice([1, 10, 1000]))))
        ctx.mode = "halfclose"
    elif choice == 1:  # shorter: the rest is a (garbage) next request
        req.headers.append((b"Content-Length", b"%d" % max(0, len(body) - rng.randint(1, 20))))
    elif choice == 2:  # huge or odd values
        v = rng.choice([b"9223372036854775807", b"9223372036854775808", b"99999999999999999999999", b"1e308",
                        b"18446744073709551615", b"2147483648", b"1048577", b"1048576", b"4294967296"])
        req.headers.append((b"Content-Length", v))
        ctx.note("Content-Length %s" % v.decode())
        ctx.mode = "halfclose"
    elif choice == 3:
        v = rng.choice([b"-1", b"-0", b"+5", b"0x10", b" 5", b"5 ", b"5,5", b"", b"abc", b"5\x00", b"\xef\xbc\x95", b"1.0"])
        req.headers.append((b"Content-Length", v))
        ctx.note("Content-Length %r" % v)
        ctx.mode = "halfclose"
    elif choice == 4:  # duplicated, same value
        req.headers += [(b"Content-Length", b"%d" % len(body))] * 2
    elif choice == 5:  # duplicated, different values
        req.headers += [(b"Content-Length", b"%d" % len(body)), (b"Content-Length", b"%d" % (len(body) + 5))]
        ctx.mode = "halfclose"
    elif choice == 6:  # both CL and chunked
        req.headers += [(b"Content-Length", b"%d" % len(body)), (b"Transfer-Encoding", b"chunked")]
        body = chunked(ctx, body)
    elif choice == 7:  # odd Transfer-Encoding values
        v = rng.choice([b"chunked, chunked", b"gzip", b"Chunked", b" chunked", b"chunked\x00", b"gzip, chunked",
                        b"xchunked", b"chunked;q=1", b"identity, chunked", b"CHUNKED"])
        req.headers.append((b"Transfer-Encoding", v))
        ctx.note("TE %r" % v)
        body = chunked(ctx, body)
        ctx.mode = "halfclose"
    elif choice == 8:  # broken chunk sizes
        req.headers.append((b"Transfer-Encoding", b"chunked"))
        size = rng.choice([b"zz", b"-1", b"ffffffffffffffffff", b"7fffffffffffffff", b"8000000000000000",
                           b"5 ", b" 5", b"0x5", b"", b"5;" + b"e" * 10000, b"100000"])
        body = size + b"\r\n" + body[:5] + b"\r\n0\r\n\r\n"
        ctx.note("chunk size %r" % size[:20])
        ctx.mode = "halfclose"
    elif choice == 9:  # chunk data shorter than its size, or no CRLF after it
        req.headers.append((b"Transfer-Encoding", b"chunked"))
        body = b"%x\r\n" % (len(body) + 3) + body + rng.choice([b"\r\n0\r\n\r\n", b"0\r\n\r\n", b""])
        ctx.mode = "halfclose"
    elif choice == 10:  # missing last chunk
        req.headers.append((b"Transfer-Encoding", b"chunked"))
        body = chunked(ctx, body)[:-5]
        ctx.mode = "halfclose"
    elif choice == 11:  # bare LF in chunks
        req.headers.append((b"Transfer-Encoding", b"chunked"))
        body = chunked(ctx, body).replace(b"\r\n", b"\n")
        ctx.mode = "halfclose"
    elif choice == 12:  # malformed trailers
        req.headers.append((b"Transfer-Encoding", b"chunked"))
        body = chunked(ctx, body)[:-2] + rng.choice([b"bad trailer\r\n\r\n", b"Content-Length: 5\r\n\r\n",
                                                      b"X: " + b"t" * 100000 + b"\r\n\r\n"])
        ctx.mode = "halfclose"
    else:  # no Content-Length and a body: the body is the next request
        pass
    req.body = body


def hostile_line(ctx, req):
    rng = ctx.rng
    ctx.fresh = True
    choice = rng.randint(0, 7)
    ctx.note("request line #%d" % choice)
    if choice == 0:
        req.version = rng.choice([b"HTTP/1.0", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1.10", b"http/1.1",
                                  b"HTTP/1", b"HTTP/", b"HTTP/1.1 extra", b"HTTP/0.9", b"HTTP/1.1\x00", b"HTTP/-1.1",
                                  b"HTTP/99999999999999999999.1"])
        if req.version == b"HTTP/1.0":
            ctx.close = True
    elif choice == 1:
        req.version = None
        ctx.mode = "halfclose"
    elif choice == 2:
        req.eol = b"\n"
    elif choice == 3:
        req.eol = b"\r"
        ctx.mode = "halfclose"
    elif choice == 4:
        req.method = req.method + b" "
    elif choice == 5:
        req.target = req.target + b" "
    elif choice == 6:
        req.method = b"\r\n" + req.method  # a leading empty line
    else:
        req.target = b"\t" + req.target


GARBAGE_METHODS = [b"get", b"GETT", b"G ET", b"", b"\x00GET", b"TRACE", b"PRI", b"PROPFIND",
                   b"M-SEARCH", b"X" * 300, b"GET\xff", b"\xc3\xa9", b"1", b"-", b"POST\t", b"BREW", b"SOURCE"]


def build(ctx, endpoint=None, framing_ok=False):
    """One request: mostly authenticated and valid-ish, with one thing wrong (the focus)."""
    rng = ctx.rng
    if endpoint is None:
        endpoint = weighted(rng, [("list", 32), ("ticket", 10), ("create", 25), ("tags", 15), ("health", 3), ("other", 5)])
    if endpoint == "list":
        table = [("query", 55), ("path", 5), ("method", 4), ("auth", 8), ("version", 8), ("headers", 6), ("none", 6),
                 ("framing", 4), ("line", 4)]
    elif endpoint == "ticket":
        table = [("path", 40), ("method", 8), ("auth", 12), ("version", 10), ("headers", 10), ("none", 10),
                 ("framing", 5), ("line", 5)]
    elif endpoint in ("create", "tags"):
        table = [("body", 45), ("ctype", 12), ("auth", 6), ("version", 6), ("headers", 6), ("method", 3),
                 ("path", 6 if endpoint == "create" else 10), ("none", 8), ("framing", 6), ("line", 4)]
    else:
        table = [("path", 50), ("method", 20), ("headers", 10), ("line", 10), ("none", 10)]
    if framing_ok:
        table = [(f, w) for f, w in table if f not in ("framing", "line", "headers")]
    focus = weighted(rng, table)
    ctx.note("%s/%s" % (endpoint, focus))
    req = Req()
    req.method = {"list": b"GET", "ticket": b"GET", "create": b"POST", "tags": b"PUT"}.get(endpoint, b"GET")
    if endpoint == "tags" and rng.random() < 0.1:
        req.method = b"POST"
    if endpoint in ("list", "ticket", "health") and rng.random() < 0.03:
        req.method = b"HEAD"
    if focus == "method":
        if rng.random() < 0.75:
            req.method = rng.choice([b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"OPTIONS", b"PATCH"])
        else:
            req.method = rng.choice(GARBAGE_METHODS) if rng.random() < 0.97 else b"CONNECT"
            ctx.fresh = True
        ctx.note("method %r" % req.method)
    path = gen_path(ctx, endpoint, focus == "path")
    query = b""
    if endpoint == "list":
        query = gen_query(ctx, (1 if rng.random() < 0.8 else rng.randint(2, 4)) if focus == "query" else 0)
    elif rng.random() < 0.05:
        query = gen_query(ctx, rng.randint(0, 1))
    req.target = path + query
    if len(req.target) > 8000:
        ctx.fresh = True
    std_headers(ctx, req)

    # body
    body = b""
    kind = None
    if endpoint in ("create", "tags"):
        kind = "json" if rng.random() < 0.5 else "form"
        if endpoint == "create":
            m = create_model(ctx)
            array_name = "group"
        else:
            m = tags_model(ctx)
            array_name = "tag"
        if kind == "json":
            body = hostile_json(ctx, m, array_name) if focus == "body" else jenc(m)
        else:
            parts = model_to_form_pairs(ctx, m)
            body = hostile_form_body(ctx, parts, array_name.encode()) if focus == "body" else form_join(ctx, parts)
        if endpoint == "tags" and rng.random() < 0.05:
            body = b""
            ctx.note("empty body")
        ct = rng.choice(CT_JSON if kind == "json" else CT_FORM)
        if focus == "ctype":
            r = rng.random()
            ct = rng.choice(CT_HOSTILE) if r < 0.6 else (None if r < 0.8 else rng.choice(CT_FORM if kind == "json" else CT_JSON))
            ctx.note("content-type %s" % short_repr(ct or b"<none>", 60))
            if ct and any(c >= 0x7F or c == 0 for c in ct):
                ctx.fresh = True
        elif rng.random() < 0.1:
            ct = None
        if ct is not None:
            req.headers.append((b"Content-Type", ct))
    elif rng.random() < 0.03:
        body = rng.choice([b"{}", b"page=2", b"x" * 100])
        req.headers.append((b"Content-Type", rng.choice(CT_JSON + CT_FORM)))
        ctx.note("body on %s" % req.method.decode("latin-1"))
    elif rng.random() < 0.03:
        req.headers.append((b"Content-Type", b"application/json"))

    # framing
    if focus == "framing":
        broken_framing(ctx, req, body)
    else:
        if body or req.method in (b"POST", b"PUT", b"PATCH") or rng.random() < 0.02:
            if rng.random() < 0.92:
                req.headers.append((b"Content-Length", b"%d" % len(body)))
            else:
                req.headers.append((b"Transfer-Encoding", rng.choice([b"chunked", b"Chunked"])))
                body = chunked(ctx, body)
                ctx.note("chunked")
        req.body = body

    if focus == "auth":
        hostile_auth(ctx, req)
    elif focus == "version":
        hostile_version(ctx, req)
    elif focus == "headers":
        hostile_headers(ctx, req)
    elif focus == "line":
        hostile_line(ctx, req)
    if rng.random() < 0.03 and not framing_ok:
        req.headers.append((b"Connection", b"close"))
        ctx.close = True
    if rng.random() < 0.2:
        rng.shuffle(req.headers)
    return req


# ---- contract checks (the spec's numeric bounds) ----

CANONICAL_INT = re.compile(rb"(?:0|-?[1-9][0-9]*)\Z")
NOT_INTEGERS = {b"1.5", b"0.5", b"2.", b".5", b"1e3", b"1E2", b"1e308", b"1e309", b"-1e308", b"NaN", b"nan", b"-nan",
                b"inf", b"-inf", b"Infinity", b"0x10", b"0X7fffffffffffffff", b"0b101", b"0o17", b"1_000", b"1,000",
                b"true", b"null", b"[]", b"abc", b"1;2", b"--1", b"1-", b"-", b"+"}


def expected_status(field, v):
    if CANONICAL_INT.match(v):
        n = int(v)
        lo, hi = (1, 1_000_000) if field == "page" else (0, 2**31 - 1)
        return 200 if lo <= n <= hi else 400
    if v in NOT_INTEGERS:
        return 400
    return None


def gen_oracle(ctx, case):
    rng = ctx.rng
    field = rng.choice(["page", "group", "create-group-json", "create-group-form"])
    for _ in range(20):
        if rng.random() < 0.5:
            v = str(rng.choice(BOUNDARIES + [5, 100, 999_999, 1_000_001]) + rng.randint(-2, 2)).encode()
        else:
            v = hostile_int(rng)
        if field == "create-group-json" and not (CANONICAL_INT.match(v) or v in (b"1.5", b"0.5")):
            continue
        exp = expected_status("page" if field == "page" else "group", v)
        if exp is not None:
            break
    else:
        v, exp = b"1", 200
    req = Req()
    login, key = ctx.auth
    req.headers = [(b"Host", b"127.0.0.1"), (b"Authorization", ctx.good_auth()), (b"X-API-Version", b"2")]
    prefix = rng.choice([b"", b"/v2"])
    if field in ("page", "group"):
        req.target = prefix + b"/tickets?" + field.encode() + b"=" + pct(v)
    else:
        req.method = b"POST"
        req.target = prefix + b"/tickets"
        if field == "create-group-json":
            req.body = b'{"message":"contract check","requester":{"mail":"oracle@example.com"},"group":[' + v + b"]}"
            req.headers.append((b"Content-Type", b"application/json"))
        else:
            req.body = b"message=contract+check&requester%5Bmail%5D=oracle%40example.com&group%5B%5D=" + pct(v)
            req.headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
        req.headers.append((b"Content-Length", b"%d" % len(req.body)))
    case.oracle = (exp, "%s=%s" % (field, v.decode("latin-1")))
    ctx.note("contract %s=%s expects %d" % (field, v.decode("latin-1")[:40], exp))
    return req


def gen_case(seed, no, ids, auth):
    rng = random.Random(seed * 10_000_019 + no)
    ctx = Ctx(rng, ids, auth)
    case = Case(no)
    kind = weighted(rng, [("single", 82), ("pipeline", 5), ("truncate", 4), ("expect", 3), ("garbage", 2), ("oracle", 4)])
    if kind == "single":
        req = build(ctx)
        case.raw = req.bytes()
        case.methods = [req.method.strip()]
    elif kind == "oracle":
        req = gen_oracle(ctx, case)
        case.raw = req.bytes()
        case.methods = [req.method]
    elif kind == "pipeline":
        n = rng.randint(2, 6)
        ctx.note("pipeline of %d" % n)
        reqs = []
        for _ in range(n):
            sub = Ctx(rng, ids, auth)
            r = build(sub, framing_ok=True)
            if sub.fresh or sub.close:
                r = Req()
                r.target = rng.choice([b"/tickets", b"/v2/tickets?page=2", b"/health"])
                std_headers(sub, r)
            reqs.append(r)
            ctx.notes += sub.notes
        case.raw = b"".join(r.bytes() for r in reqs)
        case.methods = [r.method.strip() for r in reqs]
    elif kind == "truncate":
        req = build(ctx, framing_ok=True)
        full = req.bytes()
        head_end = full.find(b"\r\n\r\n")
        if rng.random() < 0.5 or head_end < 0 or head_end + 4 >= len(full):
            cut = rng.randint(1, max(1, head_end if head_end > 0 else len(full) - 1))
            ctx.note("truncated in the head at %d of %d" % (cut, len(full)))
        else:
            cut = rng.randint(head_end + 4, len(full) - 1)
            ctx.note("truncated in the body at %d of %d" % (cut, len(full)))
        case.raw = full[:cut]
        case.methods = [req.method.strip()]
        case.mode = rng.choice(["abort", "halfclose"])
        case.fresh = True
        ctx.note(case.mode)
    elif kind == "expect":
        endpoint = rng.choice(["create", "tags"])
        req = build(ctx, endpoint=endpoint, framing_ok=True)
        set_header(req, b"Expect", rng.choice([b"100-continue", b"100-Continue"]))
        head = req.bytes()[: len(req.bytes()) - len(req.body)]
        case.chunks = [head, req.body]
        case.raw = head + req.body
        case.methods = [req.method.strip()]
        case.mode = "expect"
        case.fresh = True
        ctx.note("expect 100-continue")
    else:  # garbage
        choice = rng.randint(0, 9)
        ctx.note("garbage #%d" % choice)
        case.fresh = True
        case.methods = [b"GET"]
        if choice == 0:
            case.raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
            case.mode = "halfclose"
        elif choice == 1:
            case.raw = b"GET /tickets\r\n\r\n"
            case.mode = "halfclose"
        elif choice == 2:
            case.raw = b"GET /tickets HTTP/1.1\r\nHost: x\r\n"
            case.mode = "halfclose"
        elif choice == 3:
            case.raw = b"GET  /tickets  HTTP/1.1\r\nHost: x\r\n\r\n"
        elif choice == 4:
            case.raw = b"\r\n\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        elif choice == 5:
            case.raw = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
            case.mode = "halfclose"
        elif choice == 6:
            case.raw = bytes.fromhex("16030100a5010000a10303") + bytes(rng.randrange(256) for _ in range(160))
            case.mode = "halfclose"
        elif choice == 7:
            case.raw = b"GET /tickets HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 200000 + b"\r\n\r\n"
        elif choice == 8:
            case.raw = b"GET /health HTTP/1.1\r\n" + b"Host: x\r\n" * 5000 + b"\r\n"
        else:
            case.raw = b"\x00" * rng.randint(1, 100) + b"GET /health HTTP/1.1\r\n\r\n"
            case.mode = "halfclose"
    if not case.chunks:
        case.chunks = [case.raw]
    if kind in ("single", "oracle"):
        case.mode = ctx.mode
        case.fresh = case.fresh or ctx.fresh or ctx.close or ctx.mode != "normal" or case.methods[0] == b"HEAD"
    if kind == "pipeline":
        case.fresh = any(m == b"HEAD" for m in case.methods) or case.fresh
    case.desc = "; ".join(ctx.notes)
    return case


# ---------------------------------------------------------------------------------------------
# HTTP client side: connections and a strict response reader
# ---------------------------------------------------------------------------------------------

STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?\Z")


class BadResponse(Exception):
    pass


class NoResponse(Exception):
    """The connection ended (EOF or reset) before a response began."""


class Conn:
    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.partial = None  # the status line of a response whose body is still being read

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(262144)
        except (ConnectionResetError, BrokenPipeError):
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_response(self, method, deadline):
        """Returns (status, headers, body). 1xx answers are returned too (the caller skips them)."""
        self.partial = None
        result = self._read_response(method, deadline)
        self.partial = None
        return result

    def _read_response(self, method, deadline):
        while True:
            idx = self.buf.find(b"\r\n\r\n")
            if idx >= 0:
                break
            if len(self.buf) > (1 << 20):
                raise BadResponse("response head over 1 MiB")
            if not self.fill(deadline):
                if self.buf:
                    raise BadResponse("connection closed inside a response head: %r" % bytes(self.buf[:200]))
                raise NoResponse()
        head = bytes(self.buf[:idx])
        del self.buf[: idx + 4]
        self.partial = head.split(b"\r\n", 1)[0]
        lines = head.split(b"\r\n")
        m = STATUS_LINE.match(lines[0])
        if not m:
            raise BadResponse("malformed status line: %r" % lines[0][:200])
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            k, sep, v = line.partition(b":")
            if not sep or not k or k != k.strip():
                raise BadResponse("malformed response header: %r" % line[:200])
            headers.setdefault(k.lower(), []).append(v.strip())
        if 100 <= status < 200 or status in (204, 304) or method == b"HEAD":
            return status, headers, b""
        te = b",".join(headers.get(b"transfer-encoding", [])).lower()
        if b"chunked" in te:
            body = bytearray()
            while True:
                while b"\r\n" not in self.buf:
                    if not self.fill(deadline):
                        raise BadResponse("connection closed inside a chunked body")
                line, _, rest = bytes(self.buf).partition(b"\r\n")
                self.buf = bytearray(rest)
                try:
                    size = int(line.split(b";")[0], 16)
                except ValueError:
                    raise BadResponse("malformed chunk size %r" % line[:50])
                while len(self.buf) < size + 2:
                    if not self.fill(deadline):
                        raise BadResponse("connection closed inside a chunk")
                if size == 0:
                    # trailers until an empty line
                    while not self.buf.startswith(b"\r\n") and b"\r\n\r\n" not in self.buf:
                        if not self.fill(deadline):
                            break
                    end = 2 if self.buf.startswith(b"\r\n") else self.buf.find(b"\r\n\r\n") + 4
                    del self.buf[:end]
                    return status, headers, bytes(body)
                body += self.buf[:size]
                del self.buf[: size + 2]
        lengths = headers.get(b"content-length")
        if lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit():
                raise BadResponse("bad response Content-Length %r" % lengths)
            n = int(lengths[0])
            while len(self.buf) < n:
                if not self.fill(deadline):
                    raise BadResponse("connection closed inside a body (%d of %d bytes)" % (len(self.buf), n))
            body = bytes(self.buf[:n])
            del self.buf[:n]
            return status, headers, body
        while self.fill(deadline):
            pass
        body = bytes(self.buf)
        self.buf.clear()
        return status, headers, body


SLOW_GRACE = 4  # after --timeout without an answer, wait this many timeouts more before calling it a hang


class Outcome:
    __slots__ = ("kind", "responses", "detail", "close", "slow", "nonjson")

    def __init__(self, kind, responses=None, detail=""):
        self.kind = kind            # answered | closed | timeout | refused | bad | noreply
        self.responses = responses or []  # [(status, body prefix)]
        self.detail = detail
        self.close = False
        self.slow = None  # seconds, when the answer came only after --timeout
        self.nonjson = []  # (status, content type, body length) of answers that are not JSON


def not_json(method, status, headers, body):
    """(status, content type, body length) when an answer that should be JSON is not, else None."""
    if method == b"HEAD" or status in (204, 304) or status < 200:
        return None
    ct = b",".join(headers.get(b"content-type", []))
    if ct.lower().startswith(b"application/json") and body[:1] in (b"{", b"["):
        return None
    return (status, ct.decode("latin-1")[:60], len(body))


def wants_close(status, headers):
    return any(b"close" in v.lower() for v in headers.get(b"connection", []))


def run_on(conn, case, timeout):
    deadline = time.monotonic() + timeout
    responses = []
    if case.mode == "abort":
        try:
            if case.no % 2:
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.sock.sendall(case.raw)
        except OSError:
            pass
        out = Outcome("noreply")
        out.close = True
        return out
    if case.mode == "expect":
        try:
            conn.sock.sendall(case.chunks[0])
            status, headers, body = conn.read_response(case.methods[0], deadline)
            if status == 100:
                conn.sock.sendall(case.chunks[1])
                while status == 100:
                    status, headers, body = conn.read_response(case.methods[0], deadline)
            out = Outcome("answered", [(status, body[:300])])
            odd = not_json(case.methods[0], status, headers, body)
            if odd:
                out.nonjson.append(odd)
        except socket.timeout:
            out = Outcome("timeout", detail="no answer to a request with Expect: 100-continue within %g s" % timeout)
        except NoResponse:
            out = Outcome("closed")
        except BadResponse as e:
            out = Outcome("bad", detail=str(e))
        except OSError as e:
            out = Outcome("closed", detail=str(e))
        out.close = True
        return out
    sent_all = True
    try:
        for chunk in case.chunks:
            conn.sock.sendall(chunk)
        if case.mode == "halfclose":
            conn.sock.shutdown(socket.SHUT_WR)
    except OSError:
        sent_all = False  # the server may have answered and closed early: read what it said
    close = False
    started = time.monotonic()
    extended = False
    nonjson = []
    want = len(case.methods) if case.mode == "normal" else 64
    methods = list(case.methods) + [b"GET"] * 64
    try:
        while len(responses) < want:
            try:
                status, headers, body = conn.read_response(methods[len(responses)], deadline)
            except socket.timeout:
                if conn.partial is not None or extended:
                    raise
                # nothing yet: give a slow server (debug build, big body, busy machine) more time before
                # calling it a hang
                extended = True
                deadline = time.monotonic() + SLOW_GRACE * timeout
                continue
            if 100 <= status < 200 and status != 101:
                continue
            responses.append((status, body[:300]))
            odd = not_json(methods[len(responses) - 1], status, headers, body)
            if odd:
                nonjson.append(odd)
            if wants_close(status, headers) or status == 101:
                close = True
                break
    except socket.timeout:
        waited = time.monotonic() - started
        if conn.partial is not None:
            detail = ("%r came, but its body did not end within %.0f s (no Content-Length, connection left open)"
                      % (conn.partial[:80], waited))
        elif case.mode == "halfclose":
            detail = "a half-closed connection was neither answered nor closed within %.0f s" % waited
        else:
            detail = "no answer within %.0f s (%d of %d answers came)" % (waited, len(responses), len(case.methods))
        out = Outcome("timeout", responses, detail)
        out.close = True
        return out
    except NoResponse:
        if not responses:
            out = Outcome("noreply" if case.mode == "halfclose" else "closed",
                          detail="" if sent_all else "send failed")
            out.close = True
            return out
        close = True
    except BadResponse as e:
        out = Outcome("bad", responses, str(e))
        out.close = True
        return out
    except OSError as e:
        out = Outcome("closed", responses, str(e))
        out.close = True
        return out
    out = Outcome("answered", responses)
    out.nonjson = nonjson
    if extended:
        out.slow = time.monotonic() - started
    out.close = close or case.mode != "normal" or not sent_all
    return out


def execute(case, port, timeout, keep=None):
    """Runs a case on `keep` (a kept-alive Conn) or a new connection. Returns (outcome, conn to keep)."""
    if case.fresh and keep is not None:
        keep.close()
        keep = None
    for attempt in range(2):
        reused = keep is not None
        if keep is None:
            try:
                keep = Conn(port, timeout)
            except OSError as e:
                return Outcome("refused", detail=str(e)), None
        out = run_on(keep, case, timeout)
        if reused and out.kind == "closed" and not out.responses:
            keep.close()  # a kept-alive connection the server had closed: send again on a new one
            keep = None
            continue
        break
    if out.close or case.fresh:
        keep.close()
        keep = None
    return out, keep


def health(port, auth=None, timeout=5.0):
    """True when GET /health (or, without that route, an authenticated GET /tickets) answers 200."""
    try:
        conn = Conn(port, timeout)
    except OSError:
        return False
    try:
        conn.sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, _, _ = conn.read_response(b"GET", time.monotonic() + timeout)
        if status == 404 and auth:
            conn.close()
            conn = Conn(port, timeout)
            login, key = auth
            conn.sock.sendall(b"GET /tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic "
                              + base64.b64encode(login + b":" + key) + b"\r\nConnection: close\r\n\r\n")
            status, _, _ = conn.read_response(b"GET", time.monotonic() + timeout)
        return status == 200
    except (OSError, BadResponse, NoResponse):
        return False
    finally:
        conn.close()


def fetch_ids(port, auth, timeout=5.0):
    ids = []
    login, key = auth
    for page in (1, 2):
        try:
            conn = Conn(port, timeout)
            conn.sock.sendall(b"GET /tickets?page=%d&date_from=2000-01-01&order=asc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Authorization: Basic %s\r\nConnection: close\r\n\r\n"
                              % (page, base64.b64encode(login + b":" + key)))
            status, _, body = conn.read_response(b"GET", time.monotonic() + timeout)
            conn.close()
        except (OSError, BadResponse, NoResponse):
            break
        if status != 200:
            break
        found = re.findall(rb'"id"\s*:\s*"([A-Z0-9]{5})"', body)
        ids += [i for i in found if i not in ids]
    return ids


# ---------------------------------------------------------------------------------------------
# The server under test
# ---------------------------------------------------------------------------------------------

class ServerProcess:
    def __init__(self, binary, backtrace=True, start_timeout=120.0):
        self.binary = binary
        self.backtrace = backtrace
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.login = DEMO_LOGIN.encode()
        self.errfile = None

    def start(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECHAT_SANDBOX_")}
        if "SWIFT_BACKTRACE" not in env:
            env["SWIFT_BACKTRACE"] = ("enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none"
                                      if self.backtrace else "enable=no")
        self.errfile = tempfile.TemporaryFile()
        if not getattr(self, "_atexit", False):
            atexit.register(lambda: self.kill())  # never leave a server behind
            self._atexit = True
        self.proc = subprocess.Popen([self.binary, "serve", "--host", "127.0.0.1", "--port", "0", "--seed-tickets", "30"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.errfile, env=env)
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.start_timeout
        data = b""
        url = login = None
        while time.monotonic() < deadline and (url is None or login is None):
            if self.proc.poll() is not None:
                break
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
                for line in data.split(b"\n"):
                    line = line.strip()
                    if line.startswith(b"url:"):
                        url = line[4:].strip().decode()
                    elif line.startswith(b"login:"):
                        login = line[6:].strip()
        if url is None:
            self.kill()
            raise RuntimeError("the server did not print its url: stdout %r, stderr %r" % (data[-500:], self.stderr_tail(500)))
        parts = urlsplit(url)
        if parts.hostname != "127.0.0.1":
            self.kill()
            raise RuntimeError("the server listens on %s, not 127.0.0.1" % url)
        self.port = parts.port
        if login:
            self.login = login
        # keep draining stdout so that a later print never blocks or breaks the server
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        return self.port

    @staticmethod
    def _drain(pipe):
        try:
            while pipe.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def finish(self, wait):
        """After a crash: waits up to `wait` s for the process to end (the backtracer may run), kills it if it
        does not, and describes how it ended."""
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "stopped answering (killed by the fuzzer)"
        return describe_exit(self.proc.returncode)

    def stderr_tail(self, limit=6000):
        if not self.errfile:
            return b""
        try:
            self.errfile.flush()
            size = self.errfile.seek(0, os.SEEK_END)
            self.errfile.seek(max(0, size - limit))
            return self.errfile.read()
        except (OSError, ValueError):
            return b""


def describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return "killed by signal %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exited with status %d" % code


def crash_signature(exit_text, stderr):
    """A short text that tells crashes apart: the failure message and the first frame in the project's code,
    without addresses (they change from run to run)."""
    text = stderr.decode("utf-8", "replace")
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    clean = lambda l: re.sub(r"\s+", " ", re.sub(r"0x[0-9a-fA-F]+|\+ \d+ ", "", l)).strip()[:220]
    parts = []
    message = next((l for l in lines if re.search(r"Swift runtime failure:|Fatal error|fatal error|precondition failed", l)), None)
    if message is None:
        message = next((l for l in lines if re.search(r"Program crashed|Crash:|Illegal instruction|Segmentation", l)), None)
    if message:
        m = re.search(r"(Swift runtime failure: [^\n]*|Fatal error:.*|fatal error:.*)", message)
        parts.append(clean(m.group(1) if m else message))
    frame = next((l for l in lines if "/Sources/" in l and ".swift" in l and "Swift runtime failure" not in l), None)
    if frame:
        parts.append(clean(frame))
    if not parts:
        parts.append(exit_text)
    return " | ".join(parts)


# ---------------------------------------------------------------------------------------------
# The fuzzing run
# ---------------------------------------------------------------------------------------------

class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.timeout = args.timeout
        self.allowed_5xx = set(args.allow_status)
        self.server = ServerProcess(args.binary, backtrace=not args.no_backtrace) if args.binary else None
        self.lock = threading.Lock()         # crash handling, one at a time
        self.events_lock = threading.Lock()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.gen = 0
        self.port = None
        self.auth = (args.login.encode(), args.api_key.encode())
        self.ids = []
        self.next_no = 0
        self.no_lock = threading.Lock()
        self.deadline = None
        self.timed_out = False
        self.workers = []
        self.crashes = []
        self.hangs = []
        self.slow = []
        self.server_errors = collections.OrderedDict()  # signature -> [count, first case, detail]
        self.bad = collections.OrderedDict()
        self.contract = collections.OrderedDict()
        self.nonjson = collections.OrderedDict()  # "status content-type" -> [count, first case, body length]
        self.server_error_count = 0
        self.bad_count = 0
        self.contract_count = 0

    # ---- server lifecycle ----

    def start_server(self):
        if self.server:
            self.port = self.server.start()
            self.auth = (self.server.login, self.auth[1])
        else:
            parts = urlsplit(self.args.url)
            if parts.hostname not in ("127.0.0.1", "localhost") or parts.scheme != "http":
                raise SystemExit("fuzz_http: --url must be http://127.0.0.1:PORT (traffic goes to 127.0.0.1 only)")
            self.port = parts.port or 80
            if not health(self.port, self.auth):
                raise SystemExit("fuzz_http: nothing answers at %s" % self.args.url)
        return self.port

    def server_ok(self, port=None):
        port = port or self.port
        for attempt in range(3):
            if self.server and not self.server.alive():
                return False
            if health(port, self.auth, timeout=self.timeout):
                return True
            time.sleep(0.3 * (attempt + 1))
        return False

    def next_case(self):
        with self.no_lock:
            if self.stop.is_set() or self.next_no >= self.args.cases:
                return None
            if time.monotonic() > self.deadline:
                self.timed_out = True
                self.stop.set()
                return None
            no = self.next_no
            self.next_no += 1
            return no

    # ---- events ----

    def emit(self, text):
        with self.events_lock:
            print(text, flush=True)

    def record_response_events(self, case, out):
        for status, body in out.responses:
            if status >= 500 and status not in self.allowed_5xx:
                sig = "%d %s" % (status, re.sub(rb"[0-9]+", b"N", body[:160]).decode("utf-8", "replace"))
                with self.events_lock:
                    self.server_error_count += 1
                    entry = self.server_errors.get(sig)
                    if entry:
                        entry[0] += 1
                        continue
                    self.server_errors[sig] = [1, case.no, body]
                self.emit("SERVER ERROR %d: seed=%d case=%d (%s)\n  body: %r\n  request: %s"
                          % (status, self.seed, case.no, case.desc, body[:300], short_repr(case.raw)))
        if out.kind == "bad":
            sig = re.sub(r"[0-9]+", "N", out.detail)[:100]
            with self.events_lock:
                self.bad_count += 1
                if sig in self.bad:
                    self.bad[sig][0] += 1
                    return
                self.bad[sig] = [1, case.no, out.detail]
            self.emit("MALFORMED RESPONSE: seed=%d case=%d: %s (%s)\n  request: %s"
                      % (self.seed, case.no, out.detail, case.desc, short_repr(case.raw)))
        for status, ct, length in out.nonjson:
            sig = "%d %s" % (status, ct or "(no Content-Type)")
            with self.events_lock:
                entry = self.nonjson.setdefault(sig, [0, case.no, length])
                entry[0] += 1
        if case.oracle and out.kind == "answered" and out.responses:
            expected, label = case.oracle
            got = out.responses[0][0]
            if got != expected and got not in self.allowed_5xx and got != 429 and got < 500:
                field = label.split("=")[0]
                sig = "%s expects %d, got %d" % (field, expected, got)
                with self.events_lock:
                    self.contract_count += 1
                    entry = self.contract.setdefault(sig, [0, []])
                    entry[0] += 1
                    if len(entry[1]) < 6 and label not in entry[1]:
                        entry[1].append(label)

    def record_slow(self, case, seconds):
        with self.events_lock:
            self.slow.append((seconds, case.no, case.desc, case.raw))
        self.emit("SLOW: seed=%d case=%d answered after %.1f s (over --timeout %g s) (%s, %d bytes)"
                  % (self.seed, case.no, seconds, self.timeout, case.desc, len(case.raw)))

    def record_hang(self, case, out):
        with self.events_lock:
            self.hangs.append((case.no, out.detail, case.desc, case.raw))
        self.emit("HANG: seed=%d case=%d: %s (%s)\n  request: %s"
                  % (self.seed, case.no, out.detail, case.desc, short_repr(case.raw)))

    # ---- crash handling ----

    def trouble(self, gen, worker, case):
        """Called by a worker that saw something off. Returns 'alive', 'stale' (already handled) or 'crash'."""
        with self.lock:
            if gen != self.gen:
                return "stale"
            if self.server_ok():
                return "alive"
            self.ready.clear()
            candidates = sorted(set(n for w in self.workers for n in list(w.recent)) | {case.no})
            if self.server:
                how = self.server.finish(wait=30)
                stderr = self.server.stderr_tail()
                self.handle_own_crash(case, how, stderr, candidates)
            else:
                self.emit("CRASH: the server at %s stopped answering; seed=%d, case %d (cases in flight: %s)\n  request: %s"
                          % (self.args.url, self.seed, case.no, candidates, short_repr(case.raw)))
                self.crashes.append({"case": case.no, "how": "stopped answering", "signature": "server stopped answering",
                                     "raw": case.raw, "desc": case.desc, "confirmed": False, "stderr": b""})
                # cannot restart someone else's server: wait a little for it to come back
                back = False
                until = time.monotonic() + 30
                while not back and time.monotonic() < until:
                    time.sleep(1)
                    back = health(self.port, self.auth, timeout=2)
                if not back:
                    self.emit("the server did not come back: stopping")
                    self.stop.set()
            for w in self.workers:
                w.recent.clear()  # those cases ran against the server that is gone
            self.gen += 1
            self.ready.set()
            return "crash"

    def handle_own_crash(self, trigger, how, stderr, candidates):
        culprit = None
        culprit_how, culprit_stderr = how, stderr
        if len(candidates) > 1:
            # pin the crash on one case: replay the candidates alone, in order, on a fresh server
            self.emit("server %s; replaying %d candidate cases one at a time to find the culprit..." % (how, len(candidates)))
            need_start = True
            for no in candidates:
                if need_start:
                    try:
                        self.start_server()
                    except RuntimeError as e:
                        self.emit("fuzz_http: cannot restart the server: %s" % e)
                        self.stop.set()
                        return
                    need_start = False
                case = gen_case(self.seed, no, self.ids, self.auth)
                out, _ = execute(case, self.port, self.timeout)
                if not self.server_ok():
                    culprit = case
                    culprit_how = self.server.finish(wait=30)
                    culprit_stderr = self.server.stderr_tail()
                    break
            if culprit is None:
                self.server.kill()
        else:
            culprit = trigger
        confirmed = culprit is not None
        if culprit is None:
            culprit = trigger
        sig = crash_signature(culprit_how, culprit_stderr)
        record = {"case": culprit.no, "how": culprit_how, "signature": sig, "raw": culprit.raw, "desc": culprit.desc,
                  "confirmed": confirmed or len(candidates) == 1, "stderr": culprit_stderr,
                  "candidates": candidates if not confirmed else []}
        self.crashes.append(record)
        lines = ["CRASH #%d: seed=%d case=%d: server %s%s" % (len(self.crashes), self.seed, culprit.no, culprit_how,
                                                              "" if record["confirmed"] else
                                                              " (not reproduced alone; cases in flight: %s)" % candidates),
                 "  signature: %s" % sig,
                 "  case: %s" % culprit.desc,
                 "  replay: python3 %s --binary %s --seed %d --replay %d" % (sys.argv[0], self.args.binary, self.seed, culprit.no),
                 "  request: %s" % short_repr(culprit.raw)]
        tail = culprit_stderr.decode("utf-8", "replace").strip().splitlines()[-12:]
        if tail:
            lines.append("  server stderr (last lines):")
            lines += ["    " + l[:300] for l in tail]
        self.emit("\n".join(lines))
        if self.args.save_dir:
            os.makedirs(self.args.save_dir, exist_ok=True)
            path = os.path.join(self.args.save_dir, "crash-seed%d-case%d.bin" % (self.seed, culprit.no))
            with open(path, "wb") as f:
                f.write(culprit.raw)
        try:
            self.start_server()
        except RuntimeError as e:
            self.emit("fuzz_http: cannot restart the server: %s" % e)
            self.stop.set()

    # ---- main loop ----

    def run(self):
        args = self.args
        self.start_server()
        self.ids = fetch_ids(self.port, self.auth)
        if not self.ids:
            self.emit("warning: could not read ticket ids from GET /tickets; using made-up ids")
        self.ready.set()
        started = time.monotonic()
        self.deadline = started + args.time_limit
        self.workers = [Worker(self, i) for i in range(args.threads)]
        for w in self.workers:
            w.start()
        last_progress = started
        try:
            while any(w.is_alive() for w in self.workers):
                for w in self.workers:
                    w.join(0.5)
                now = time.monotonic()
                if not args.quiet and now - last_progress >= 10:
                    last_progress = now
                    done = sum(w.done for w in self.workers)
                    print("... %d cases, %d crashes, %d hangs, %d server errors, %.0f cases/s"
                          % (done, len(self.crashes), len(self.hangs), self.server_error_count, done / (now - started)),
                          file=sys.stderr, flush=True)
        except KeyboardInterrupt:
            self.stop.set()
            self.ready.set()
            for w in self.workers:
                w.join(self.timeout + 1)
            print("interrupted", file=sys.stderr)
        elapsed = max(time.monotonic() - started, 1e-9)
        done = sum(w.done for w in self.workers)
        kinds = collections.Counter()
        statuses = collections.Counter()
        for w in self.workers:
            kinds.update(w.kinds)
            statuses.update(w.statuses)
        answering = self.server_ok()
        self.print_report(done, elapsed, kinds, statuses, answering)
        if self.server:
            self.server.kill()
        return 1 if self.crashes else 0

    def print_report(self, done, elapsed, kinds, statuses, answering):
        args = self.args
        print()
        print("outcomes: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
        print("statuses: " + ", ".join("%d: %d" % kv for kv in sorted(statuses.items())))
        if self.crashes:
            print("distinct crashes:")
            groups = collections.OrderedDict()
            for c in self.crashes:
                groups.setdefault(c["signature"], []).append(c)
            for sig, cs in groups.items():
                first = min(cs, key=lambda c: len(c["raw"]))
                print("  %dx %s\n     e.g. case %d (%s): %s" % (len(cs), sig, first["case"], first["desc"],
                                                                short_repr(first["raw"], 400)))
        if self.hangs:
            print("distinct hangs:")
            groups = collections.OrderedDict()
            for no, detail, desc, raw in self.hangs:
                method = raw.split(b" ", 1)[0].strip()[:20]
                groups.setdefault((method, re.sub(r"[0-9]+", "N", detail)), []).append((no, detail, desc, raw))
            for (method, _), hs in groups.items():
                no, detail, desc, raw = min(hs, key=lambda h: len(h[3]))
                print("  %dx %s: %s\n     e.g. case %d (%s): %s" % (len(hs), method.decode("latin-1"), detail, no, desc,
                                                                    short_repr(raw, 300)))
        if self.slow:
            print("slow answers (after more than %g s, not counted as hangs): %d" % (self.timeout, len(self.slow)))
            for seconds, no, desc, raw in sorted(self.slow, reverse=True)[:5]:
                print("  %.1f s: case %d (%s, %d bytes)" % (seconds, no, desc, len(raw)))
        if self.server_errors:
            print("distinct server errors:")
            for sig, (count, no, body) in self.server_errors.items():
                print("  %dx %s (first: case %d)" % (count, sig[:200], no))
        if self.bad:
            print("distinct malformed responses:")
            for sig, (count, no, detail) in self.bad.items():
                print("  %dx %s (first: case %d)" % (count, detail[:200], no))
        if self.nonjson:
            print("answers that are not JSON (the spec wants JSON for every answer; informational):")
            for sig, (count, no, length) in self.nonjson.items():
                print("  %dx %s, body %d bytes (first: case %d)" % (count, sig, length, no))
        if self.contract:
            print("contract checks failed (%d; spec: page 1..1000000, group 0..2147483647, else 400):" % self.contract_count)
            for sig, (count, labels) in self.contract.items():
                print("  %dx %s, e.g. %s" % (count, sig, ", ".join(labels)))
        if self.timed_out:
            print("stopped early: the time limit of %g s ran out after %d of %d cases" % (args.time_limit, done, args.cases))
        print("http fuzz: %d cases, %d crashes, %d hangs, %d server errors, %.0f cases/s"
              % (done, len(self.crashes), len(self.hangs), self.server_error_count, done / elapsed))
        print("server still answering: %s" % ("yes" if answering else "no"), flush=True)


class Worker(threading.Thread):
    CHECK_EVERY = 50

    def __init__(self, fz, wid):
        super().__init__(daemon=True, name="fuzz-%d" % wid)
        self.fz = fz
        self.recent = collections.deque(maxlen=6)
        self.done = 0
        self.kinds = collections.Counter()
        self.statuses = collections.Counter()

    def run(self):
        fz = self.fz
        conn = None
        conn_gen = -1
        since_check = 0
        while True:
            no = fz.next_case()
            if no is None:
                break
            fz.ready.wait()
            if fz.stop.is_set():
                break
            gen, port = fz.gen, fz.port
            if conn is not None and conn_gen != gen:
                conn.close()
                conn = None
            case = gen_case(fz.seed, no, fz.ids, fz.auth)
            self.recent.append(no)
            out, conn = execute(case, port, fz.timeout, conn)
            conn_gen = gen
            self.done += 1
            self.kinds[out.kind] += 1
            for status, _ in out.responses:
                self.statuses[status] += 1
            fz.record_response_events(case, out)
            if out.slow:
                fz.record_slow(case, out.slow)
            since_check += 1
            suspicious = out.kind in ("refused", "closed", "timeout") or (fz.server is not None and not fz.server.alive())
            if not suspicious and since_check >= self.CHECK_EVERY:
                since_check = 0
                suspicious = not health(port, fz.auth, timeout=fz.timeout)
            if suspicious:
                since_check = 0
                verdict = fz.trouble(gen, self, case)
                if verdict == "alive" and out.kind == "timeout":
                    fz.record_hang(case, out)
            if fz.stop.is_set():
                break
        if conn is not None:
            conn.close()


# ---------------------------------------------------------------------------------------------
# Replay and dump
# ---------------------------------------------------------------------------------------------

def replay(args):
    fz = Fuzzer(args)
    fz.start_server()
    fz.ids = fetch_ids(fz.port, fz.auth)
    crashed = False
    for no in parse_case_list(args.replay):
        case = gen_case(args.seed, no, fz.ids, fz.auth)
        started = time.monotonic()
        out, _ = execute(case, fz.port, args.timeout)
        took = time.monotonic() - started
        print("case %d: %s" % (no, case.desc))
        print("  request: %s" % short_repr(case.raw, 4000))
        print("  outcome: %s %s %s (%.3f s)" % (out.kind, [s for s, _ in out.responses], out.detail, took))
        for status, body in out.responses:
            print("  %d %r" % (status, body[:300]))
        if not fz.server_ok():
            how = fz.server.finish(wait=30) if fz.server else "stopped answering"
            print("  SERVER DIED: %s" % how)
            if fz.server:
                tail = fz.server.stderr_tail().decode("utf-8", "replace").strip().splitlines()[-30:]
                print("\n".join("    " + l for l in tail))
            crashed = True
            if not fz.server:
                break
            fz.start_server()
    if fz.server:
        fz.server.kill()
    return 1 if crashed else 0


def dump(args):
    fz = Fuzzer(args)
    fz.start_server()
    ids = fetch_ids(fz.port, fz.auth)
    if fz.server:
        fz.server.kill()
    case = gen_case(args.seed, args.dump, ids, fz.auth)
    sys.stdout.buffer.write(case.raw)
    sys.stdout.buffer.flush()
    print("\ncase %d (%s, %d bytes, mode %s)" % (args.dump, case.desc, len(case.raw), case.mode), file=sys.stderr)
    return 0


def parse_case_list(text):
    out = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            out += range(int(a), int(b) + 1)
        elif part:
            out.append(int(part))
    return out


def main():
    p = argparse.ArgumentParser(description="HTTP fuzzer for `livechat-lua serve` (127.0.0.1 only).",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--binary", help="the livechat-lua binary: started as `serve --port 0 --seed-tickets 30`")
    target.add_argument("--url", help="fuzz an already running server instead (http://127.0.0.1:PORT)")
    p.add_argument("--cases", type=int, default=10000, help="how many cases (default 10000)")
    p.add_argument("--seed", type=int, default=None, help="the seed (default: from the clock, printed)")
    p.add_argument("--time-limit", type=float, default=600, help="stop after this many seconds (default 600)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer (default 5)")
    p.add_argument("--threads", type=int, default=8, help="concurrent connections (default 8)")
    p.add_argument("--login", default=DEMO_LOGIN, help="Basic auth user (default: the demo login)")
    p.add_argument("--api-key", default=DEMO_KEY, help="Basic auth password (default: the demo key)")
    p.add_argument("--allow-status", type=int, action="append", default=[],
                   help="a 5xx status the server is configured to inject (not counted); repeatable")
    p.add_argument("--replay", help="send only these cases (e.g. 12,40-45), one at a time, and show what happens")
    p.add_argument("--dump", type=int, help="write the raw bytes of this case to stdout and exit")
    p.add_argument("--save-dir", help="write the raw bytes of each crashing request into this folder")
    p.add_argument("--no-backtrace", action="store_true", help="start the server with SWIFT_BACKTRACE=enable=no")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args()
    if args.seed is None:
        args.seed = int(time.time()) % 1_000_000
    if args.threads < 1 or args.cases < 0:
        p.error("--threads must be at least 1 and --cases not negative")
    if args.binary and not os.path.exists(args.binary):
        p.error("no such binary: %s" % args.binary)
    if args.dump is not None:
        return dump(args)
    if args.replay:
        return replay(args)
    print("http fuzz: seed %d, %d cases, %d threads, time limit %g s, target %s"
          % (args.seed, args.cases, args.threads, args.time_limit, args.binary or args.url), flush=True)
    return Fuzzer(args).run()


if __name__ == "__main__":
    sys.exit(main())
