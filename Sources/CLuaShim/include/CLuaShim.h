/*
 * CLuaShim: the one place where the Lua C API's dangers meet Swift.
 *
 * Lua reports errors with longjmp. A longjmp across a Swift frame is undefined behaviour, so the
 * rule for Swift callers is simple: call a function of this header, or a Lua API function that
 * is documented never to raise (lua_type, lua_toboolean, lua_tointegerx, lua_tonumberx,
 * lua_tolstring on a string value, lua_rawlen, lua_rawgeti, lua_settop within the stack,
 * lua_pushnil/boolean/integer/number/lightuserdata/value, lua_checkstack, lua_gettop, lua_absindex,
 * lua_pcallk, lua_resume, luaL_loadbufferx). Everything that allocates or can run a metamethod
 * goes through a protected helper here, which returns a Lua status code instead of raising.
 *
 * Swift functions are called from Lua through one C trampoline: Swift returns a status code and
 * the trampoline, a C frame, does the raising (or yielding).
 */
#ifndef CLUASHIM_H
#define CLUASHIM_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* ---- Macro wrappers: the C API's function-like macros, as functions Swift can call. ---- */

static inline void clshim_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline int clshim_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int clshim_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int clshim_isnoneornil(lua_State *L, int i) { return lua_isnoneornil(L, i); }
static inline int clshim_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline void clshim_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline int clshim_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT); }
static inline const char *clshim_copyright(void) { return LUA_COPYRIGHT; }
static inline const char *clshim_release(void) { return LUA_RELEASE; }
/* Turns warnings on or off, as `-W` and warn("@on") do (never raises: the control message is
 * handled by the auxiliary library's warning function without allocating). */
static inline void clshim_warnings(lua_State *L, int on) { lua_warning(L, on ? "@on" : "@off", 0); }
static inline void clshim_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void clshim_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void clshim_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline const char *clshim_tostring_raw(lua_State *L, int idx, size_t *len) {
    /* Only for values whose lua_type is LUA_TSTRING: then no conversion, no allocation. */
    return lua_tolstring(L, idx, len);
}

/* ---- States ---- */

/* Creates a state with the standard auxiliary panic and warning functions and an allocator that
 * counts bytes; limit 0 means no memory cap. Returns NULL when memory runs out. */
lua_State *clshim_newstate(size_t limit);
/* Closes a state made by clshim_newstate and frees its accounting. */
void clshim_close(lua_State *L);
/* Bytes currently allocated by the state. */
size_t clshim_memory_used(lua_State *L);
/* Changes the cap (0: none). A state already above it fails its next allocations. */
void clshim_set_memory_limit(lua_State *L, size_t limit);
/* The cap, 0 when none. */
size_t clshim_memory_limit(lua_State *L);

/* ---- Protected helpers ----
 * Each returns LUA_OK, or an error status with the error object on top in place of the values it
 * consumed, or CLSHIM_ERRSTACK when the stack cannot grow: then the consumed values are popped and
 * nothing is pushed. */
enum { CLSHIM_ERRSTACK = 100 };

/* Opens the standard libraries. */
int clshim_openlibs(lua_State *L);
/* Compiles the file at path (NULL: standard input; a leading # line skipped) and pushes the
 * chunk; a syntax or file error is the status and message luaL_loadfilex gives. */
int clshim_loadfile(lua_State *L, const char *path);
/* Pushes a string of len bytes (any bytes, NULs included). */
int clshim_pushlstring(lua_State *L, const char *s, size_t len);
/* Pushes a new table sized for narr sequence items and nrec other fields. */
int clshim_createtable(lua_State *L, int narr, int nrec);
/* Pushes an array of `rows` arrays of strings taken from one block of bytes (see shim.c). */
int clshim_pushstringrows(lua_State *L, const char *bytes, const size_t *ends, const int *counts, int rows);
/* t[k] = v without metamethods: t at idx, k and v on top (popped). */
int clshim_rawset(lua_State *L, int idx);
/* t[n] = v without metamethods: t at idx, v on top (popped). */
int clshim_rawseti(lua_State *L, int idx, lua_Integer n);
/* Pushes _G[name] (metamethods of _G apply). */
int clshim_getglobal(lua_State *L, const char *name);
/* _G[name] = the value on top (popped). */
int clshim_setglobal(lua_State *L, const char *name);
/* Pushes t[k] for the table at idx (metamethods apply). */
int clshim_getfield(lua_State *L, int idx, const char *k);
/* t[k] = the value on top (popped), for the table at idx (metamethods apply). */
int clshim_setfield(lua_State *L, int idx, const char *k);
/* Pushes luaL_tolstring of the value at idx (honours __tostring and __name). */
int clshim_tolstring(lua_State *L, int idx);
/* Pops a value and stores it in the registry; *ref receives the reference. */
int clshim_ref(lua_State *L, int *ref);
/* Releases a registry reference. */
int clshim_unref(lua_State *L, int ref);
/* Pushes a new coroutine; *thread receives it. */
int clshim_newthread(lua_State *L, lua_State **thread);
/* Pushes the traceback of thread L1 (message msg, may be NULL) onto L. */
int clshim_traceback(lua_State *L, lua_State *L1, const char *msg, int level);
/* Sets the metatable of the value at idx to the registry's metatable named tname. */
int clshim_setmetatable_named(lua_State *L, int idx, const char *tname);
/* Pushes a new sequence holding the keys of the table at idx, in traversal order (raw: no
 * __pairs, no metamethods). Readers then reach each value with lua_rawget, which never raises,
 * instead of walking the table with lua_next between calls that may run Lua code. */
int clshim_rawkeys(lua_State *L, int idx);

/* Pushes the message lua.c would print for the error object at idx: a string as it is, else the
 * result of its __tostring, else "(error object is a X value)". *traceback is set to whether
 * lua.c would add a traceback (not for a __tostring message). */
int clshim_errormessage(lua_State *L, int idx, int *traceback);

/* ---- Calling Lua ---- */

/* Pushes the message handler used by every protected call from Swift: it turns the error into
 * "message\nstack traceback:\n…", as lua.c's does. Not an allocation (a light C function). */
void clshim_pushmsghandler(lua_State *L);
/* lua_pcall of the function below nargs arguments, with the message handler installed under it
 * and removed afterwards. */
int clshim_docall(lua_State *L, int nargs, int nresults);

/* ---- Swift functions ---- */

/* The marker a resumed coroutine receives first when it must raise instead of returning: the
 * resume values are then (marker, error object). See clshim_pushraisemarker. */
void clshim_pushraisemarker(lua_State *L);
/* Pushes a new full userdata of `size` bytes with the registry's metatable `tname` (created
 * empty when missing); *block receives its memory. */
int clshim_newuserdata(lua_State *L, size_t size, const char *tname, void **block);
/* The memory of the userdata at idx when its metatable is the registry's `tname`, else NULL. */
void *clshim_testudata(lua_State *L, int idx, const char *tname);

/* What a Swift host function returns to the trampoline, besides a count of results (>= 0). */
enum {
    /* Raise the value on top of the stack as it is. */
    CLSHIM_RAISE = -1,
    /* Raise the string on top, prefixed with the caller's position (as luaL_error does). */
    CLSHIM_RAISE_WHERE = -2,
    /* Yield the n values on top: return CLSHIM_YIELD_BASE - n. When the coroutine is resumed, the
     * call returns the resume values, or raises when they start with the raise marker. */
    CLSHIM_YIELD_BASE = -100,
    /* "bad argument #n to 'f' (msg)" with the string on top: return CLSHIM_ARGERROR_BASE - n. */
    CLSHIM_ARGERROR_BASE = -1000,
};

/* The Swift side's dispatcher: calls the function boxed at `box` with the Lua stack as its
 * arguments; returns a result count or one of the codes above. It never raises. */
typedef int (*clshim_dispatch_fn)(lua_State *L, void *box);
/* Releases a box when its userdata is collected or its state closes. */
typedef void (*clshim_release_fn)(void *box);

/* Installs the Swift dispatcher and releaser; called once, before any Swift function is pushed. */
void clshim_set_swift_bridge(clshim_dispatch_fn dispatch, clshim_release_fn release);
/* Pushes a Lua function that calls the Swift function boxed at `box`. The box is owned by a full
 * userdata upvalue whose __gc releases it; on failure the box is released at once. */
int clshim_pushswiftfunction(lua_State *L, void *box);

/* ---- Interrupting a running state ---- */

/* Arms a hook on thread L that raises "interrupted!" at the next instruction; safe to call from
 * another thread or a signal handler, as lua.c does. */
void clshim_interrupt(lua_State *L);
/* Removes the interrupt hook from thread L (after the interrupted call has returned). */
void clshim_clear_interrupt(lua_State *L);

/* Catches SIGINT while Lua code runs, as lua.c does: the first Ctrl-C interrupts thread L (or the
 * thread set later by clshim_sigint_retarget), and restores the default action so that a second
 * one ends the process. */
void clshim_sigint_catch(lua_State *L);
/* Changes which thread a caught SIGINT interrupts (the scheduler's running coroutine). */
void clshim_sigint_retarget(lua_State *L);
/* Restores SIGINT's default action. */
void clshim_sigint_release(void);
/* How many SIGINTs have been caught so far, for the host to notice one. */
long clshim_sigint_count(void);
/* Catches SIGINT while the prompt waits for a line: the signal only raises a flag (it does not
 * count in clshim_sigint_count and interrupts no Lua thread), and is installed without
 * SA_RESTART so that the line editor's blocking read returns EINTR. */
void clshim_prompt_sigint_catch(void);
/* Whether a SIGINT arrived since the last call (clears the flag). */
int clshim_prompt_sigint_take(void);

/* ---- Coroutines ---- */

/* lua_resume (never raises); nres receives the number of values yielded or returned. */
static inline int clshim_resume(lua_State *co, lua_State *from, int narg, int *nres) {
    return lua_resume(co, from, narg, nres);
}

#endif
