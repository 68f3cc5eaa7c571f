/*
 * cb_lua: one sandboxed Lua 5.4 interpreter, as each plugin gets.
 *
 * The sandbox opens the base library (without dofile, loadfile, warn, and
 * with load limited to text chunks), coroutine, string (without dump), table,
 * math, utf8, and an `os` holding only time, date and clock; no io, package,
 * debug or require. Reading an undefined global is an error. `print` becomes
 * a note diagnostic at the calling line. A `casebook` table holds casebook's
 * helpers (docs/plugins.md).
 *
 * Limits: every protected call gets an instruction budget (counted by a Lua
 * count hook; once it is spent every further instruction raises, so a pcall
 * in the plugin cannot swallow it), and the state has a memory cap enforced by
 * its allocator. Either one stops the call with an error that names the
 * plugin.
 *
 * Errors are diagnostics, never printed: a failed call is reported as
 * `plugins/x.lua:LINE: message (context)` with a short traceback as the hint,
 * whatever the error object is (a string, a table, nil) and wherever it was
 * raised (a coroutine, a metamethod, a __gc finaliser).
 *
 * This header does not include the Lua headers; cb_lua_priv.h (for cb_lua*.c
 * and cb_plugin.c only) does.
 */
#ifndef CB_LUA_H
#define CB_LUA_H

#include <stddef.h>

#include "cb_diag.h"
#include "cb_value.h"

typedef struct cb_lua cb_lua;

typedef struct cb_lua_opts {
	const char *name;       /* the plugin's name, for messages ("classify") */
	const char *path;       /* its file, as diagnostics show it ("plugins/classify.lua") */
	long long instructions; /* budget of one call; 0 = unlimited */
	size_t memory;          /* bytes the state may hold; 0 = unlimited */
	cb_diag_list *diags;    /* borrowed; errors, warnings and print() notes go here */
	long fail_alloc_after;  /* tests: fail every allocation after this many; 0 = never */
} cb_lua_opts;

#define CB_LUA_OPTS_INIT { NULL, NULL, 0, 0, NULL, 0 }

/* Why the last call was stopped (see cb_lua_killed). */
#define CB_LUA_KILL_BUDGET 1
#define CB_LUA_KILL_MEMORY 2

/* A new sandboxed state. Returns NULL after reporting to opts->diags when
 * the state cannot be set up (only when the memory cap is too small for
 * Lua's own libraries). Caller frees with cb_lua_free. */
cb_lua *cb_lua_new(const cb_lua_opts *opts);
/* Close the state (running pending finalisers; their errors are reported)
 * and free it. NULL is fine. */
void cb_lua_free(cb_lua *lua);

/*
 * Load `len` bytes of Lua source as a text chunk named after opts->path and
 * run it under the limits. When out is not NULL, the chunk's first result is
 * converted to a value in *out (caller unrefs; NULL when the chunk returns
 * nothing or something that is not a plain value). `context` ends error
 * messages in parentheses ("while processing content/cases/a.md"), or NULL.
 * Returns 0, or -1 after reporting the error.
 */
int cb_lua_run(cb_lua *lua, const char *code, size_t len, const char *context, cb_value **out);

/* Set global `name` to a Lua copy of v (borrowed). Returns 0, or -1 after
 * reporting (out of Lua memory). */
int cb_lua_set_global(cb_lua *lua, const char *name, const cb_value *v);
/* Convert global `name` into *out (caller unrefs). Returns 0, or -1 after
 * reporting why it cannot be converted (a function, a cycle, ...). */
int cb_lua_get_global(cb_lua *lua, const char *name, cb_value **out);

/* Bytes the state holds now, and at most so far. */
size_t cb_lua_memory(const cb_lua *lua);
size_t cb_lua_memory_peak(const cb_lua *lua);
/* Instructions used by the last call (in steps of the hook's granularity). */
long long cb_lua_instructions(const cb_lua *lua);
/* Non-zero (CB_LUA_KILL_*) when the last call was stopped by a limit. */
int cb_lua_killed(const cb_lua *lua);

#endif
