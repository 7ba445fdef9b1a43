/*
 * CLuaShim: see the header for the rules. Every function here is either a protected wrapper
 * (push a light C function and its arguments, then lua_pcall it, so an error becomes a status)
 * or a frame that raises on Swift's behalf.
 */
#include "CLuaShim.h"

#include <stdlib.h>
#include <string.h>
#include <signal.h>

/* ---- The counting allocator ---- */

typedef struct {
    size_t used;
    size_t limit; /* 0: no cap */
} Budget;

/* A realloc that refuses to grow past the budget's limit. Lua turns NULL into "not enough
 * memory", which unwinds to the nearest protected call; the host lives on. */
static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    Budget *b = (Budget *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        b->used -= old;
        return NULL;
    }
    if (b->limit != 0 && nsize > old && b->used - old + nsize > b->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p != NULL) b->used = b->used - old + nsize;
    return p;
}

static Budget *budget_of(lua_State *L) {
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    return f == budget_alloc ? (Budget *)ud : NULL;
}

lua_State *clshim_newstate(size_t limit) {
    /* luaL_newstate installs the auxiliary library's panic and warning functions (the warning
     * switch that -W and warn("@on") use); its allocator is realloc/free, so blocks it made are
     * compatible with ours and the allocator can be swapped right away. */
    lua_State *L = luaL_newstate();
    if (L == NULL) return NULL;
    Budget *b = (Budget *)malloc(sizeof(Budget));
    if (b == NULL) {
        lua_close(L);
        return NULL;
    }
    b->used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    b->limit = limit;
    lua_setallocf(L, budget_alloc, b);
    return L;
}

void clshim_close(lua_State *L) {
    Budget *b = budget_of(L);
    lua_close(L);
    free(b);
}

size_t clshim_memory_used(lua_State *L) {
    Budget *b = budget_of(L);
    return b ? b->used : 0;
}

void clshim_set_memory_limit(lua_State *L, size_t limit) {
    Budget *b = budget_of(L);
    if (b) b->limit = limit;
}

size_t clshim_memory_limit(lua_State *L) {
    Budget *b = budget_of(L);
    return b ? b->limit : 0;
}

/* ---- Protected helpers ---- */

/* Runs f with the n values on top of the stack as arguments under lua_pcall, leaving nres
 * results, or the error object and an error status. Needs room for one more slot. */
static int protect(lua_State *L, lua_CFunction f, int n, int nres) {
    if (!lua_checkstack(L, 2)) {
        lua_pop(L, n);
        return CLSHIM_ERRSTACK;
    }
    lua_pushcfunction(L, f);
    lua_insert(L, -(n + 1));
    return lua_pcall(L, n, nres, 0);
}

static int p_openlibs(lua_State *L) {
    luaL_openlibs(L);
    return 0;
}
int clshim_openlibs(lua_State *L) { return protect(L, p_openlibs, 0, 0); }

/* luaL_loadfilex reports file and syntax errors as a status, but can still raise (memory): it
 * runs protected like every other helper, its own status passed back. */
static int p_loadfile(lua_State *L) {
    const char *path = (const char *)lua_touserdata(L, 1);
    int status = luaL_loadfilex(L, path, NULL);
    lua_pushinteger(L, status);
    return 2;
}
int clshim_loadfile(lua_State *L, const char *path) {
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushlightuserdata(L, (void *)path);
    int status = protect(L, p_loadfile, 1, 2);
    if (status != LUA_OK) return status;
    int loaded = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return loaded;  /* the chunk, or luaL_loadfilex's message, is on top */
}

static int p_pushlstring(lua_State *L) {
    const char *s = (const char *)lua_touserdata(L, 1);
    size_t len = (size_t)lua_tointeger(L, 2);
    lua_pushlstring(L, s, len);
    return 1;
}
int clshim_pushlstring(lua_State *L, const char *s, size_t len) {
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushlightuserdata(L, (void *)s);
    lua_pushinteger(L, (lua_Integer)len);
    return protect(L, p_pushlstring, 2, 1);
}

/* A table of `rows` arrays of strings, from one block of bytes: string k is
 * bytes[ends[k-1]..ends[k]) (ends[-1] = 0); row i has counts[i] strings. One protected call for
 * the whole table instead of one per string: csv.read builds tens of thousands of strings. */
struct string_rows {
    const char *bytes;
    const size_t *ends;
    const int *counts;
    int rows;
};
static int p_pushstringrows(lua_State *L) {
    const struct string_rows *in = (const struct string_rows *)lua_touserdata(L, 1);
    size_t k = 0, start = 0;
    lua_createtable(L, in->rows, 0);
    for (int i = 0; i < in->rows; i++) {
        lua_createtable(L, in->counts[i], 0);
        for (int j = 0; j < in->counts[i]; j++, k++) {
            lua_pushlstring(L, in->bytes + start, in->ends[k] - start);
            lua_rawseti(L, -2, j + 1);
            start = in->ends[k];
        }
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}
int clshim_pushstringrows(lua_State *L, const char *bytes, const size_t *ends, const int *counts, int rows) {
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    struct string_rows in = { bytes, ends, counts, rows };
    lua_pushlightuserdata(L, &in);
    return protect(L, p_pushstringrows, 1, 1);
}

static int p_createtable(lua_State *L) {
    lua_createtable(L, (int)lua_tointeger(L, 1), (int)lua_tointeger(L, 2));
    return 1;
}
int clshim_createtable(lua_State *L, int narr, int nrec) {
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushinteger(L, narr);
    lua_pushinteger(L, nrec);
    return protect(L, p_createtable, 2, 1);
}

static int p_rawset(lua_State *L) {
    lua_rawset(L, 1);
    return 0;
}
int clshim_rawset(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 2)) { lua_pop(L, 2); return CLSHIM_ERRSTACK; }
    lua_pushvalue(L, idx);
    lua_insert(L, -3);
    return protect(L, p_rawset, 3, 0);
}

static int p_rawseti(lua_State *L) {
    lua_rawseti(L, 1, lua_tointeger(L, 2));
    return 0;
}
int clshim_rawseti(lua_State *L, int idx, lua_Integer n) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 3)) { lua_pop(L, 1); return CLSHIM_ERRSTACK; }
    lua_pushvalue(L, idx);
    lua_insert(L, -2);
    lua_pushinteger(L, n);
    lua_insert(L, -2);
    return protect(L, p_rawseti, 3, 0);
}

static int p_getglobal(lua_State *L) {
    lua_getglobal(L, (const char *)lua_touserdata(L, 1));
    return 1;
}
int clshim_getglobal(lua_State *L, const char *name) {
    if (!lua_checkstack(L, 3)) return CLSHIM_ERRSTACK;
    lua_pushlightuserdata(L, (void *)name);
    return protect(L, p_getglobal, 1, 1);
}

static int p_setglobal(lua_State *L) {
    /* 1: value, 2: name */
    lua_pushvalue(L, 1);
    lua_setglobal(L, (const char *)lua_touserdata(L, 2));
    return 0;
}
int clshim_setglobal(lua_State *L, const char *name) {
    if (!lua_checkstack(L, 3)) { lua_pop(L, 1); return CLSHIM_ERRSTACK; }
    lua_pushlightuserdata(L, (void *)name);
    return protect(L, p_setglobal, 2, 0);
}

static int p_getfield(lua_State *L) {
    lua_getfield(L, 1, (const char *)lua_touserdata(L, 2));
    return 1;
}
int clshim_getfield(lua_State *L, int idx, const char *k) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, (void *)k);
    return protect(L, p_getfield, 2, 1);
}

static int p_setfield(lua_State *L) {
    /* 1: table, 2: value, 3: key */
    lua_pushvalue(L, 2);
    lua_setfield(L, 1, (const char *)lua_touserdata(L, 3));
    return 0;
}
int clshim_setfield(lua_State *L, int idx, const char *k) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4)) { lua_pop(L, 1); return CLSHIM_ERRSTACK; }
    lua_pushvalue(L, idx);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, (void *)k);
    return protect(L, p_setfield, 3, 0);
}

static int p_tolstring(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}
int clshim_tolstring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 3)) return CLSHIM_ERRSTACK;
    lua_pushvalue(L, idx);
    return protect(L, p_tolstring, 1, 1);
}

static int p_ref(lua_State *L) {
    int r = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushinteger(L, r);
    return 1;
}
int clshim_ref(lua_State *L, int *ref) {
    int st = protect(L, p_ref, 1, 1);
    if (st == LUA_OK) {
        *ref = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    return st;
}

static int p_unref(lua_State *L) {
    luaL_unref(L, LUA_REGISTRYINDEX, (int)lua_tointeger(L, 1));
    return 0;
}
int clshim_unref(lua_State *L, int ref) {
    if (!lua_checkstack(L, 3)) return CLSHIM_ERRSTACK;
    lua_pushinteger(L, ref);
    return protect(L, p_unref, 1, 0);
}

static int p_newthread(lua_State *L) {
    lua_State **out = (lua_State **)lua_touserdata(L, 1);
    *out = lua_newthread(L);
    return 1;
}
int clshim_newthread(lua_State *L, lua_State **thread) {
    if (!lua_checkstack(L, 3)) return CLSHIM_ERRSTACK;
    lua_pushlightuserdata(L, thread);
    return protect(L, p_newthread, 1, 1);
}

static int p_traceback(lua_State *L) {
    lua_State *L1 = (lua_State *)lua_touserdata(L, 1);
    const char *msg = (const char *)lua_touserdata(L, 2);
    luaL_traceback(L, L1, msg, (int)lua_tointeger(L, 3));
    return 1;
}
int clshim_traceback(lua_State *L, lua_State *L1, const char *msg, int level) {
    if (!lua_checkstack(L, 5)) return CLSHIM_ERRSTACK;
    lua_pushlightuserdata(L, L1);
    lua_pushlightuserdata(L, (void *)msg);
    lua_pushinteger(L, level);
    return protect(L, p_traceback, 3, 1);
}

static int p_setmetatable_named(lua_State *L) {
    const char *tname = (const char *)lua_touserdata(L, 2);
    lua_settop(L, 1);
    luaL_setmetatable(L, tname);
    return 0;
}
int clshim_setmetatable_named(lua_State *L, int idx, const char *tname) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, (void *)tname);
    return protect(L, p_setmetatable_named, 2, 0);
}

static int p_rawkeys(lua_State *L) {
    lua_Integer n = 0;
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, 2, ++n);
    }
    return 1;
}
int clshim_rawkeys(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 5)) return CLSHIM_ERRSTACK;
    lua_pushvalue(L, idx);
    return protect(L, p_rawkeys, 1, 1);
}

/* ---- Calling Lua ---- */

/* The message handler of lua.c: a string message gets a traceback; any other error object keeps
 * its __tostring, or is described by its type. */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int p_errormessage(lua_State *L) {
    int *traceback = (int *)lua_touserdata(L, 2);
    *traceback = 1;
    if (lua_type(L, 1) == LUA_TSTRING) {
        lua_settop(L, 1);
        return 1;
    }
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        *traceback = 0;
        return 1;
    }
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

int clshim_errormessage(lua_State *L, int idx, int *traceback) {
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4)) return CLSHIM_ERRSTACK;
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, traceback);
    return protect(L, p_errormessage, 2, 1);
}

void clshim_pushmsghandler(lua_State *L) { lua_pushcfunction(L, msghandler); }

int clshim_docall(lua_State *L, int nargs, int nresults) {
    if (!lua_checkstack(L, 1)) { lua_pop(L, nargs + 1); return CLSHIM_ERRSTACK; }
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

/* ---- Swift functions ---- */

static clshim_dispatch_fn swift_dispatch;
static clshim_release_fn swift_release;
static const char *const BOX_METATABLE = "LuaHost.SwiftFunction";

void clshim_set_swift_bridge(clshim_dispatch_fn dispatch, clshim_release_fn release) {
    swift_dispatch = dispatch;
    swift_release = release;
}

static char raise_marker;

void clshim_pushraisemarker(lua_State *L) { lua_pushlightuserdata(L, &raise_marker); }

/* Continuation of a Swift function that yielded: `ctx` is how many values stayed below the
 * resume values. Return those values, or raise the error object that follows a raise marker. */
static int resume_k(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int base = (int)ctx;
    int n = lua_gettop(L) - base;
    if (n >= 1 && lua_touserdata(L, base + 1) == &raise_marker) {
        if (n < 2) lua_pushnil(L);
        lua_settop(L, base + 2);
        return lua_error(L);
    }
    return n;
}

static int p_newuserdata(lua_State *L) {
    size_t size = (size_t)lua_tointeger(L, 1);
    const char *tname = (const char *)lua_touserdata(L, 2);
    void **block = (void **)lua_touserdata(L, 3);
    void *p = lua_newuserdatauv(L, size, 0);
    memset(p, 0, size);
    luaL_newmetatable(L, tname);
    lua_setmetatable(L, -2);
    *block = p;
    return 1;
}

int clshim_newuserdata(lua_State *L, size_t size, const char *tname, void **block) {
    if (!lua_checkstack(L, 5)) return CLSHIM_ERRSTACK;
    lua_pushinteger(L, (lua_Integer)size);
    lua_pushlightuserdata(L, (void *)tname);
    lua_pushlightuserdata(L, block);
    return protect(L, p_newuserdata, 3, 1);
}

void *clshim_testudata(lua_State *L, int idx, const char *tname) {
    /* luaL_testudata allocates nothing and runs no metamethod, so it cannot raise. */
    return luaL_testudata(L, idx, tname);
}

/* The single C function behind every Swift function: it asks Swift for a status and does the
 * raising or yielding itself, so that no longjmp ever leaves through a Swift frame. */
static int trampoline(lua_State *L) {
    void **slot = (void **)lua_touserdata(L, lua_upvalueindex(1));
    int r = swift_dispatch(L, *slot);
    if (r >= 0) return r;
    if (r == CLSHIM_RAISE) return lua_error(L);
    if (r == CLSHIM_RAISE_WHERE) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    }
    if (r <= CLSHIM_ARGERROR_BASE) {
        return luaL_argerror(L, CLSHIM_ARGERROR_BASE - r, lua_tostring(L, -1));
    }
    /* Yield the n values on top; resume_k hands the resume values back (or raises). */
    int n = CLSHIM_YIELD_BASE - r;
    return lua_yieldk(L, n, (lua_KContext)(lua_gettop(L) - n), resume_k);
}

/* __gc of a box userdata: the Swift closure may go. Clearing the slot makes a second run (a
 * resurrected userdata) harmless. */
static int box_gc(lua_State *L) {
    void **slot = (void **)lua_touserdata(L, 1);
    if (slot != NULL && *slot != NULL) {
        void *box = *slot;
        *slot = NULL;
        swift_release(box);
    }
    return 0;
}

/* Hands a box to a new userdata; `owned` tells the caller whether the userdata took it. */
typedef struct {
    void *box;
    int owned;
} BoxTransfer;

static int p_pushswiftfunction(lua_State *L) {
    BoxTransfer *t = (BoxTransfer *)lua_touserdata(L, 1);
    void **slot = (void **)lua_newuserdatauv(L, sizeof(void *), 0);
    *slot = NULL;
    if (luaL_newmetatable(L, BOX_METATABLE)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, "SwiftFunction");
        lua_setfield(L, -2, "__name");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    /* From here the userdata owns the box: if pushing the closure fails, the userdata becomes
     * garbage and its __gc releases the box. */
    *slot = t->box;
    t->owned = 1;
    lua_pushcclosure(L, trampoline, 1);
    return 1;
}

int clshim_pushswiftfunction(lua_State *L, void *box) {
    BoxTransfer t = {box, 0};
    int st = CLSHIM_ERRSTACK;
    if (lua_checkstack(L, 3)) {
        lua_pushlightuserdata(L, &t);
        st = protect(L, p_pushswiftfunction, 1, 1);
    }
    if (st != LUA_OK && !t.owned) swift_release(box);
    return st;
}

/* ---- Interrupts ---- */

/* The hook armed by clshim_interrupt: disarm, then raise in the running Lua code. The message
 * carries no position (lua.c's usually has none either, but whether it does depends on which
 * hook event fires first; this way it never does). */
static void interrupt_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    lua_pushliteral(L, "interrupted!");
    lua_error(L);
}

void clshim_interrupt(lua_State *L) {
    int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    lua_sethook(L, interrupt_hook, flag, 1);
}

void clshim_clear_interrupt(lua_State *L) { lua_sethook(L, NULL, 0, 0); }

/* ---- Ctrl-C, as lua.c handles it ---- */

static lua_State *volatile sigint_target;
static volatile sig_atomic_t sigint_count;

/* The SIGINT handler: restore the default action (a second Ctrl-C kills, as in lua.c), count the
 * signal for the host, and arm the interrupt hook on the thread that runs Lua code. lua_sethook
 * is the one Lua API function meant to be called from a signal handler. */
static void on_sigint(int sig) {
    signal(sig, SIG_DFL);
    sigint_count++;
    lua_State *L = sigint_target;
    if (L != NULL) clshim_interrupt(L);
}

void clshim_sigint_catch(lua_State *L) {
    sigint_target = L;
    signal(SIGINT, on_sigint);
}

void clshim_sigint_retarget(lua_State *L) { sigint_target = L; }

void clshim_sigint_release(void) {
    signal(SIGINT, SIG_DFL);
    sigint_target = NULL;
}

long clshim_sigint_count(void) { return (long)sigint_count; }

/* ---- Ctrl-C at the prompt ---- */

static volatile sig_atomic_t prompt_sigint;

/* Only a flag: the prompt's read function sees EINTR, takes the flag and abandons the line. */
static void on_prompt_sigint(int sig) {
    (void)sig;
    prompt_sigint = 1;
}

void clshim_prompt_sigint_catch(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the blocking read must return EINTR */
    sigaction(SIGINT, &sa, NULL);
}

int clshim_prompt_sigint_take(void) {
    int caught = prompt_sigint != 0;
    prompt_sigint = 0;
    return caught;
}
