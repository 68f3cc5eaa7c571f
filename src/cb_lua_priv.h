/*
 * cb_lua_priv: what the Lua glue modules share (cb_lua.c, cb_lua_value.c,
 * cb_lua_api.c, cb_lua_lib.c) and cb_plugin.c uses. Includes the Lua headers:
 * nothing else may include this file.
 *
 * Stack comments follow Lua's own style: `-- what is on the stack`.
 */
#ifndef CB_LUA_PRIV_H
#define CB_LUA_PRIV_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "cb_buf.h"
#include "cb_lua.h"

/* The count hook fires every HOOK_STEP instructions. */
#define CB_LUA_HOOK_STEP 1000

/* Tables may nest this deep when converted to values (deeper: a cycle). */
#define CB_LUA_MAX_DEPTH 64

/*
 * casebook's userdata types. Each has its metatable in the registry under its
 * name (cb_lua__type_names), made once per state by cb_lua__newmetatable,
 * which also remembers it, so that a userdata's type is told by comparing
 * its metatable's address (a registry lookup by name, as luaL_testudata does,
 * costs hundreds of instructions, and values are checked this way by the
 * hundred thousand).
 */
enum {
	CB_LUA_NULL,
	CB_LUA_DATE,
	CB_LUA_FROZEN,
	CB_LUA_DOC,
	CB_LUA_SECTION,
	CB_LUA_SITE,
	CB_LUA_BUF,
	CB_LUA_INDEX,
	CB_LUA_NTYPES
};

/* The registry names of the types, by CB_LUA_* ("casebook.null", ...). */
extern const char *const cb_lua__type_names[CB_LUA_NTYPES];

struct cb_lua {
	lua_State *L;
	const void *mt[CB_LUA_NTYPES]; /* the types' metatables, by CB_LUA_* */
	char *name, *path;
	cb_diag_list *diags;
	long long budget, used;
	size_t mem_cap, mem_used, mem_peak;
	long alloc_count, fail_after;
	int killed;   /* CB_LUA_KILL_* */
	int mem_hit;  /* the allocator refused a block */
	char mem_src[128]; /* where it first did (the plugin line running then) */
	int mem_line;
	int closing;  /* lua_close is running: never refuse */
	cb_buf warn;  /* a warning being assembled (lua_WarnFunction pieces) */
	void *host;   /* the plugin stage's context (cb_lua_host), or NULL */
};

/* The cb_lua of any thread of the state. */
cb_lua *cb_lua__from(lua_State *L);

/*
 * Call the function below the nargs arguments on top of the stack under the
 * limits, with a message handler; leaves nres results (LUA_MULTRET allowed)
 * on success. On failure reports the error (with context) and leaves nothing.
 * Returns 0 or -1.
 */
int cb_lua__call(cb_lua *lua, int nargs, int nres, const char *context);

/* Load a text chunk (named "@" + the plugin's path) and leave the function
 * on the stack. Returns 0, or -1 after reporting a syntax error. */
int cb_lua__load(cb_lua *lua, const char *code, size_t len, const char *context);

/* luaL_newmetatable for type t (CB_LUA_*), remembering the metatable.
 * [-0, +1, m] */
void cb_lua__newmetatable(lua_State *L, int t);
/* Set type t's metatable on the value on top of the stack. [-0, +0, -] */
void cb_lua__setmetatable(lua_State *L, int t);
/* The type (CB_LUA_*) of the value at idx if it is one of casebook's
 * userdata, else -1. [-0, +0, -] */
int cb_lua__udtype(lua_State *L, int idx);
/* The block of the userdata at idx if it is of type t, else NULL (as
 * luaL_testudata). [-0, +0, -] */
void *cb_lua__testudata(lua_State *L, int idx, int t);
/* The block of the userdata at idx, which must be of type t: raises the
 * error luaL_checkudata raises when it is not. [-0, +0, v] */
void *cb_lua__checkudata(lua_State *L, int idx, int t);

/* Report an error at the first plugin line on the stack (or the plugin file). */
void cb_lua__where(lua_State *L, int level, const char **path, int *line);

/* ---- values (cb_lua_value.c) ---------------------------------------------- */

/* Register the null and date types, casebook.null and casebook.date in the
 * table on top of the stack. [-0, +0, m] */
void cb_lua__open_values(lua_State *L);
/* Push a Lua copy of v: maps become tables (null entries left out), lists
 * sequences (null items become casebook.null), dates date objects.
 * [-0, +1, m] */
void cb_lua__push_value(lua_State *L, const cb_value *v);
/*
 * Convert the Lua value at idx to a new value (caller unrefs). Never raises.
 * Returns NULL and writes why into err (with the path inside the value, e.g.
 * "items[3].url") when the value holds something that is not data: a
 * function, a cycle, a table mixing keys, a string that is not UTF-8.
 * [-0, +0, -]
 */
cb_value *cb_lua__to_value(lua_State *L, int idx, char *err, size_t errlen);
/* Push a date object. [-0, +1, m] */
void cb_lua__push_date(lua_State *L, int y, int m, int d);

/* ---- the plugin API (cb_lua_api.c) ----------------------------------------- */

/* What the plugin stage gives the API. Borrowed; lives as long as the state.
 * While the hooks run side by side (cb_stage.h), `stage` is set: changes to
 * cases go to the plugin's layer, reads of a case wait for the plugins
 * before this one, and changes to the site wait until they are all done.
 * In the site hooks (`site_hooks` set) any case may be changed, and reads of
 * free pages wait too (a site hook before this one may change them). */
typedef struct cb_lua_host {
	struct cb_site *site;
	const char *plugin;      /* name */
	const char *path;        /* plugins/x.lua */
	struct cb_stage *stage;  /* NULL when the hooks run one after another */
	int site_hooks;          /* stage is the site hooks' */
	size_t rank;             /* the plugin's position in `plugins:` */
	size_t current;          /* the case the running case hook was given */
	int threads;             /* threads a helper may use (-j, or the cores) */
	struct cb_diag_list *diags; /* where site:error and friends report */
} cb_lua_host;

/* Create the API's types and the site object (needs lua->host set).
 * [-0, +0, m] */
void cb_lua__open_api(lua_State *L);
/* Push the site object. [-0, +1, -] */
void cb_lua__push_site(lua_State *L);
/* Push the object of case i. [-0, +1, m] */
void cb_lua__push_case(lua_State *L, size_t i);
/* The summary of a case or page object at idx ({slug, title, url, path}),
 * or NULL when idx holds no such object. Never raises. [-0, +0, -] */
cb_value *cb_lua__doc_value(lua_State *L, int idx);
/* Forget what case and page objects materialised (meta, sections, links)
 * during the call that just ended, so memory does not grow with the site.
 * [-0, +0, -] */
void cb_lua__end_call(lua_State *L);

/* ---- helpers (cb_lua_lib.c) ------------------------------------------------ */

/* Fill the table on top of the stack with casebook's helpers (slug, lower,
 * hash, suggest, escape, index, ...). [-0, +0, m] */
void cb_lua__open_lib(lua_State *L);

#endif
