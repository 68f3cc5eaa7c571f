/*
 * cb_lua: the sandboxed interpreter (see cb_lua.h).
 *
 * {=== state and limits ===} the allocator with its cap, the count hook
 * {=== the sandbox ===}      which libraries and functions plugins see
 * {=== errors ===}           the message handler and the diagnostics it makes
 * {=== running code ===}     cb_lua_run and friends
 */
#include "cb_lua_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"

/* {=================================================================
 * state and limits
 * ================================================================== */

cb_lua *cb_lua__from(lua_State *L)
{
	return *(cb_lua **)lua_getextraspace(L);
}

const char *const cb_lua__type_names[CB_LUA_NTYPES] = {
    "casebook.null", "casebook.date", "casebook.frozen", "casebook.doc",
    "casebook.section", "casebook.site", "casebook.buf", "casebook.index"};

void cb_lua__newmetatable(lua_State *L, int t)
{
	luaL_newmetatable(L, cb_lua__type_names[t]);
	cb_lua__from(L)->mt[t] = lua_topointer(L, -1);
}

void cb_lua__setmetatable(lua_State *L, int t)
{
	luaL_setmetatable(L, cb_lua__type_names[t]);
}

/* The address of the metatable of the value at idx, or NULL. [-0, +0, -] */
static const void *metatable_of(lua_State *L, int idx)
{
	const void *mt;

	if (!lua_getmetatable(L, idx))
		return NULL;
	mt = lua_topointer(L, -1);
	lua_pop(L, 1);
	return mt;
}

int cb_lua__udtype(lua_State *L, int idx)
{
	const cb_lua *lua = cb_lua__from(L);
	const void *mt;
	int t;

	if (lua_type(L, idx) != LUA_TUSERDATA || !(mt = metatable_of(L, idx)))
		return -1;
	for (t = 0; t < CB_LUA_NTYPES; t++)
		if (lua->mt[t] == mt)
			return t;
	return -1;
}

void *cb_lua__testudata(lua_State *L, int idx, int t)
{
	void *p = lua_touserdata(L, idx);

	return p && metatable_of(L, idx) == cb_lua__from(L)->mt[t] ? p : NULL;
}

void *cb_lua__checkudata(lua_State *L, int idx, int t)
{
	void *p = cb_lua__testudata(L, idx, t);

	if (!p)
		luaL_typeerror(L, idx, cb_lua__type_names[t]);
	return p;
}

/* Where the running plugin code is: the first frame from `level` up that
 * runs a Lua function of a file ("@..." chunk). Sets *path to NULL when there
 * is none. Never raises, never allocates. */
void cb_lua__where(lua_State *L, int level, const char **path, int *line)
{
	lua_Debug ar;

	*path = NULL;
	*line = 0;
	for (; lua_getstack(L, level, &ar); level++) {
		if (!lua_getinfo(L, "Sl", &ar))
			continue;
		if (ar.source && ar.source[0] == '@' && ar.currentline > 0) {
			*path = ar.source + 1;
			*line = ar.currentline;
			return;
		}
	}
}

static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	cb_lua *lua = ud;
	size_t old = ptr ? osize : 0;
	void *p;

	if (nsize == 0) {
		free(ptr);
		lua->mem_used -= old;
		return NULL;
	}
	if (nsize > old && !lua->closing) {
		lua->alloc_count++;
		if (lua->fail_after > 0 && lua->alloc_count > lua->fail_after)
			return NULL;
		if (lua->mem_cap && lua->mem_used + (nsize - old) > lua->mem_cap) {
			if (!lua->mem_hit && lua->L) {
				/* Reading the stack allocates nothing. */
				const char *path;
				int line;
				cb_lua__where(lua->L, 0, &path, &line);
				if (path) {
					snprintf(lua->mem_src, sizeof lua->mem_src, "%s", path);
					lua->mem_line = line;
				}
			}
			lua->mem_hit = 1;
			return NULL;
		}
	}
	/* Most blocks are new: malloc is a shorter path than realloc(NULL). */
	p = ptr ? realloc(ptr, nsize) : malloc(nsize);
	if (!p)
		return NULL; /* Lua raises a memory error */
	lua->mem_used = lua->mem_used - old + nsize;
	if (lua->mem_used > lua->mem_peak)
		lua->mem_peak = lua->mem_used;
	return p;
}

/* Counts instructions. Once the budget is spent, or the memory cap was hit
 * (even if the plugin caught that error), raises on every hook call and then
 * on every instruction of this thread, so that pcall cannot swallow it. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
	cb_lua *lua = cb_lua__from(L);

	(void)ar;
	if (!lua->killed) {
		lua->used += CB_LUA_HOOK_STEP;
		if (lua->mem_hit)
			lua->killed = CB_LUA_KILL_MEMORY;
		else if (lua->budget > 0 && lua->used > lua->budget)
			lua->killed = CB_LUA_KILL_BUDGET;
		else
			return;
	}
	lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
	lua_pushliteral(L, "stopped");
	lua_error(L);
}

static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	/* An error outside any protected call is a bug in casebook's glue. */
	fprintf(stderr, "casebook: unprotected Lua error: %s\n", msg ? msg : "?");
	abort();
	return 0;
}

/* Lua's warnings: the runtime's own (errors in __gc finalisers, which Lua
 * turns into warnings) become diagnostics. */
static void report_warning(cb_lua *lua, const char *text);

static void warnf(void *ud, const char *msg, int tocont)
{
	cb_lua *lua = ud;

	cb_buf_puts(&lua->warn, msg);
	if (tocont)
		return;
	if (lua->warn.ptr[0] != '@') /* "@on", "@off": control messages */
		report_warning(lua, lua->warn.ptr);
	cb_buf_clear(&lua->warn);
}

/* }================================================================= */

/* {=================================================================
 * the sandbox
 * ================================================================== */

/* print(...): a note at the calling line (shown by `casebook build -v`). */
static int sandbox_print(lua_State *L)
{
	cb_lua *lua = cb_lua__from(L);
	int n = lua_gettop(L), i, line;
	const char *path;
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b); /* -- args..., text */
	cb_lua__where(L, 1, &path, &line);
	cb_diag_add(lua->diags, CB_NOTE, "plugin-print", path ? path : lua->path,
	            (unsigned)line, 0, NULL, "%s", lua_tostring(L, -1));
	return 0;
}

/* load(chunk [, chunkname [, mode [, env]]]) for text chunks only. */
static int sandbox_load(lua_State *L)
{
	int n = lua_gettop(L);
	const char *mode = luaL_optstring(L, 3, "t");

	if (!strchr(mode, 't'))
		return luaL_error(L, "load: binary chunks are not allowed (mode '%s')", mode);
	lua_pushvalue(L, lua_upvalueindex(1)); /* -- args..., load */
	lua_pushvalue(L, 1);
	if (n >= 2)
		lua_pushvalue(L, 2);
	else
		lua_pushnil(L);
	lua_pushliteral(L, "t"); /* -- args..., load, chunk, name, "t" */
	if (n >= 4) {
		lua_pushvalue(L, 4);
		lua_call(L, 4, LUA_MULTRET);
	} else {
		lua_call(L, 3, LUA_MULTRET);
	}
	return lua_gettop(L) - n;
}

/* collectgarbage: the harmless options only ("stop" would let a plugin
 * hold memory the collector never frees). */
static int sandbox_collectgarbage(lua_State *L)
{
	static const char *const ok[] = {"collect", "count", "step", "isrunning", NULL};
	const char *opt = luaL_optstring(L, 1, "collect");
	int i, n = lua_gettop(L);

	for (i = 0; ok[i]; i++)
		if (strcmp(ok[i], opt) == 0)
			break;
	if (!ok[i])
		return luaL_error(L, "collectgarbage('%s') is not available to plugins", opt);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1); /* -- collectgarbage, args... */
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

/* Reading a global that does not exist. */
static int undefined_global(lua_State *L)
{
	static const char *const gone[] = {"io", "package", "debug", "require", "dofile",
	                                   "loadfile", "warn", NULL};
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
	int i;

	for (i = 0; gone[i]; i++)
		if (strcmp(gone[i], k) == 0)
			return luaL_error(L, "'%s' is not available to plugins (they run sandboxed: "
			                     "see docs/plugins.md)", k);
	return luaL_error(L, "undefined variable '%s'", k);
}

/* Reading a field a sandboxed library lacks (os.execute, string.dump). */
static int missing_field(lua_State *L)
{
	const char *lib = lua_tostring(L, lua_upvalueindex(1));
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";

	return luaL_error(L, "'%s.%s' is not available to plugins (they run sandboxed: see "
	                     "docs/plugins.md)", lib, k);
}

static void guard_library(lua_State *L, const char *lib)
{
	/* -- lib */
	lua_createtable(L, 0, 2);
	lua_pushstring(L, lib);
	lua_pushcclosure(L, missing_field, 1);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "sandboxed");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2); /* -- lib */
}

static int setup(lua_State *L)
{
	static const luaL_Reg libs[] = {
	    {LUA_GNAME, luaopen_base},        {LUA_COLIBNAME, luaopen_coroutine},
	    {LUA_TABLIBNAME, luaopen_table},  {LUA_STRLIBNAME, luaopen_string},
	    {LUA_MATHLIBNAME, luaopen_math},  {LUA_UTF8LIBNAME, luaopen_utf8},
	    {LUA_OSLIBNAME, luaopen_os},      {NULL, NULL}};
	static const char *const os_keep[] = {"time", "date", "clock", NULL};
	static const char *const base_drop[] = {"dofile", "loadfile", "warn", NULL};
	const luaL_Reg *lib;
	int i;

	for (lib = libs; lib->func; lib++) {
		luaL_requiref(L, lib->name, lib->func, 1);
		lua_pop(L, 1);
	}
	lua_pushglobaltable(L); /* -- _G */
	for (i = 0; base_drop[i]; i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, base_drop[i]);
	}
	lua_getfield(L, -1, "load");
	lua_pushcclosure(L, sandbox_load, 1);
	lua_setfield(L, -2, "load");
	lua_getfield(L, -1, "collectgarbage");
	lua_pushcclosure(L, sandbox_collectgarbage, 1);
	lua_setfield(L, -2, "collectgarbage");
	lua_pushcfunction(L, sandbox_print);
	lua_setfield(L, -2, "print");

	/* string without dump */
	lua_getfield(L, -1, LUA_STRLIBNAME); /* -- _G, string */
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	guard_library(L, "string");
	lua_pop(L, 1);

	/* os: time, date and clock only */
	lua_getfield(L, -1, LUA_OSLIBNAME); /* -- _G, os */
	lua_createtable(L, 0, 3);           /* -- _G, os, newos */
	for (i = 0; os_keep[i]; i++) {
		lua_getfield(L, -2, os_keep[i]);
		lua_setfield(L, -2, os_keep[i]);
	}
	guard_library(L, "os");
	lua_pushvalue(L, -1);
	lua_setfield(L, -4, LUA_OSLIBNAME); /* _G.os = newos */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, LUA_OSLIBNAME); /* the original os is gone everywhere */
	lua_pop(L, 3);                      /* -- _G */

	/* A fixed seed: the same source gives the same site. */
	lua_getfield(L, -1, LUA_MATHLIBNAME);
	lua_getfield(L, -1, "randomseed");
	lua_pushinteger(L, 0);
	lua_call(L, 1, 0);
	lua_pop(L, 1);

	/* casebook's helpers */
	lua_createtable(L, 0, 16); /* -- _G, casebook */
	cb_lua__open_values(L);
	cb_lua__open_lib(L);
	lua_setfield(L, -2, "casebook");

	/* Undefined globals are errors, not nil. */
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, undefined_global);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
	lua_pop(L, 1);
	return 0;
}

/* }================================================================= */

/* {=================================================================
 * errors
 * ================================================================== */

/* Parse one "source:line: " prefix at s. On success sets the source span
 * and line and returns the text after the prefix; else NULL. */
static const char *parse_prefix(const char *s, size_t *src_len, long *line)
{
	const char *p;

	for (p = s; *p && *p != '\n'; p++) {
		const char *d = p + 1;
		long n = 0;

		if (*p != ':' || p == s)
			continue;
		if (*d < '0' || *d > '9')
			continue;
		while (*d >= '0' && *d <= '9' && n < 100000000)
			n = n * 10 + (*d++ - '0');
		if (d[0] == ':' && d[1] == ' ') {
			*src_len = (size_t)(p - s);
			*line = n;
			return d + 2;
		}
		/* "a:1b": not a prefix; a source name holds no ": " */
		if (p[1] == ' ')
			return NULL;
	}
	return NULL;
}

/* Push a one-line description of a table error object, e.g.
 * `error object is a table: {code = 42, reason = "bad"}`, or its message (or
 * msg) field when it has one. Uses raw access: no metamethod runs. */
static void describe_table(lua_State *L, int idx)
{
	int n = 0, acc;

	lua_pushliteral(L, "message");
	if (lua_rawget(L, idx) == LUA_TSTRING)
		return;
	lua_pop(L, 1);
	lua_pushliteral(L, "msg");
	if (lua_rawget(L, idx) == LUA_TSTRING)
		return;
	lua_pop(L, 1);
	lua_pushliteral(L, "error object is a table: {");
	acc = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) { /* -- acc, key, value */
		if (n++ == 6) {
			lua_pop(L, 2);
			lua_pushliteral(L, ", ...");
			lua_concat(L, 2);
			break;
		}
		lua_pushvalue(L, acc);
		if (n > 1)
			lua_pushliteral(L, ", ");
		else
			lua_pushliteral(L, "");
		if (lua_type(L, -4) == LUA_TSTRING)
			lua_pushvalue(L, -4);
		else
			lua_pushfstring(L, "[%s]", luaL_typename(L, -4));
		lua_pushliteral(L, " = ");
		if (lua_type(L, -5) == LUA_TSTRING)
			lua_pushfstring(L, "\"%s\"", lua_tostring(L, -5));
		else if (lua_type(L, -5) == LUA_TNUMBER || lua_type(L, -5) == LUA_TBOOLEAN)
			luaL_tolstring(L, -5, NULL);
		else
			lua_pushstring(L, luaL_typename(L, -5));
		lua_concat(L, 5);     /* -- acc, key, value, newacc */
		lua_replace(L, acc);  /* -- acc, key, value */
		lua_pop(L, 1);        /* -- acc, key */
	}
	lua_pushliteral(L, "}");
	lua_concat(L, 2);
}

/*
 * The message handler: turns any error object into {message, source, line,
 * traceback} (a sequence, so reading it needs no allocation). The location is
 * the innermost "source:line:" prefix of a string message (errors that pass
 * through coroutine.wrap gain one per level), else the first plugin frame on
 * the stack.
 */
static int msghandler(lua_State *L)
{
	cb_lua *lua = cb_lua__from(L);
	const char *msg, *rest, *src = NULL;
	size_t src_len = 0, sl;
	long line = 0, l;
	int is_string = lua_type(L, 1) == LUA_TSTRING, level, frames = 0;
	luaL_Buffer tb;
	lua_Debug ar;

	lua_settop(L, 1);
	if (lua->killed || lua->mem_hit) {
		lua_pushliteral(L, "(limit)");
	} else if (is_string) {
		lua_pushvalue(L, 1);
	} else if (luaL_callmeta(L, 1, "__tostring")) {
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
		}
	} else if (lua_type(L, 1) == LUA_TTABLE) {
		describe_table(L, 1);
	} else if (lua_isnil(L, 1)) {
		lua_pushliteral(L, "error raised without a message (error object is nil)");
	} else if (lua_type(L, 1) == LUA_TNUMBER) {
		luaL_tolstring(L, 1, NULL);
	} else {
		lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
	}
	lua_settop(L, 2); /* -- obj, msg */
	msg = lua_tostring(L, 2);

	/* Innermost location prefix of a string message. */
	if (is_string && !lua->killed && !lua->mem_hit) {
		const char *p = msg;
		while ((rest = parse_prefix(p, &sl, &l)) != NULL && p[0] != '[') {
			src = p;
			src_len = sl;
			line = l;
			p = rest;
		}
		if (src) {
			lua_pushstring(L, p);
			lua_replace(L, 2);
		}
	}
	if (src) {
		lua_pushlstring(L, src, src_len);
	} else {
		const char *path;
		int ln;
		cb_lua__where(L, 1, &path, &ln);
		if (path)
			lua_pushstring(L, path);
		else
			lua_pushnil(L);
		line = ln;
	} /* -- obj, msg, source */
	lua_pushinteger(L, line);

	/* A short traceback: the plugin frames only. */
	luaL_buffinit(L, &tb);
	for (level = 1; lua_getstack(L, level, &ar); level++) {
		if (!lua_getinfo(L, "Sln", &ar) || !ar.source || ar.source[0] != '@' ||
		    ar.currentline <= 0)
			continue;
		if (frames == 6) {
			luaL_addstring(&tb, ", ...");
			break;
		}
		lua_pushfstring(L, "%s%s:%d", frames ? ", " : "traceback: ", ar.source + 1,
		                ar.currentline);
		luaL_addvalue(&tb);
		if (ar.namewhat && *ar.namewhat)
			lua_pushfstring(L, " (%s '%s')", ar.namewhat, ar.name ? ar.name : "?");
		else if (*ar.what == 'm')
			lua_pushliteral(L, " (main chunk)");
		else
			lua_pushfstring(L, " (function at line %d)", ar.linedefined);
		luaL_addvalue(&tb);
		frames++;
	}
	luaL_pushresult(&tb); /* -- obj, msg, source, line, traceback */
	lua_createtable(L, 4, 0);
	lua_insert(L, 2); /* -- obj, t, msg, source, line, traceback */
	lua_rawseti(L, 2, 4);
	lua_rawseti(L, 2, 3);
	lua_rawseti(L, 2, 2);
	lua_rawseti(L, 2, 1);
	return 1;
}

static void report(cb_lua *lua, const char *code, const char *path, long line, const char *hint,
                   const char *msg, const char *context)
{
	if (context)
		cb_diag_add(lua->diags, CB_ERROR, code, path ? path : lua->path, (unsigned)line, 0,
		            hint && *hint ? hint : NULL, "%s (%s)", msg, context);
	else
		cb_diag_add(lua->diags, CB_ERROR, code, path ? path : lua->path, (unsigned)line, 0,
		            hint && *hint ? hint : NULL, "%s", msg);
}

/* Report the failed call whose status and error object (top) are given.
 * Reads the stack without allocating (we are outside any protected call). */
static void report_failure(cb_lua *lua, int status, const char *context)
{
	lua_State *L = lua->L;
	const char *msg = NULL, *src = NULL, *tb = NULL;
	long line = 0;
	char *kill = NULL, *src_buf = NULL;

	if (status == LUA_ERRRUN && lua_type(L, -1) == LUA_TTABLE) {
		lua_rawgeti(L, -1, 1);
		lua_rawgeti(L, -2, 2);
		lua_rawgeti(L, -3, 3);
		lua_rawgeti(L, -4, 4); /* -- t, msg, source, line, traceback */
		msg = lua_tostring(L, -4);
		src = lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : NULL;
		line = (long)lua_tointeger(L, -2);
		tb = lua_tostring(L, -1);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		/* A syntax error, or a memory error: "plugins/x.lua:3: '=' expected" */
		size_t sl;
		long l;
		const char *rest;
		msg = lua_tostring(L, -1);
		if (msg[0] != '[' && (rest = parse_prefix(msg, &sl, &l)) != NULL) {
			src_buf = cb_xstrndup(msg, sl);
			src = src_buf;
			line = l;
			msg = rest;
		}
	}
	if (lua->killed == CB_LUA_KILL_BUDGET) {
		kill = cb_xasprintf("plugin '%s' ran out of its instruction budget (%lld instructions "
		                    "per call; plugin_limits.instructions in casebook.yml)",
		                    lua->name, lua->budget);
	} else if (lua->killed == CB_LUA_KILL_MEMORY || lua->mem_hit || status == LUA_ERRMEM) {
		lua->killed = CB_LUA_KILL_MEMORY;
		if (lua->mem_src[0]) { /* where memory ran out, not where it was noticed */
			src = lua->mem_src;
			line = lua->mem_line;
		}
		if (lua->mem_hit)
			kill = cb_xasprintf("plugin '%s' exceeded its memory limit (%zu MB; "
			                    "plugin_limits.memory_mb in casebook.yml)",
			                    lua->name, lua->mem_cap >> 20);
		else
			kill = cb_xasprintf("plugin '%s' ran out of memory", lua->name);
	}
	if (kill)
		report(lua, "plugin-limit", src, line, tb, kill, context);
	else if (status == LUA_ERRERR)
		report(lua, "plugin-error", src, line, tb,
		       "error while handling an error (a __tostring metamethod that fails?)", context);
	else
		report(lua, status == LUA_ERRSYNTAX ? "plugin-syntax" : "plugin-error", src, line, tb,
		       msg ? msg : "unknown error", context);
	free(kill);
	free(src_buf);
}

static void report_warning(cb_lua *lua, const char *text)
{
	const char *open = strstr(text, " (");
	size_t len = strlen(text), sl = 0;
	long line = 0;

	/* "error in __gc metamethod (plugins/x.lua:5: boom)" */
	if (strncmp(text, "error in ", 9) == 0 && open && len && text[len - 1] == ')') {
		char *inner = cb_xstrndup(open + 2, (size_t)(text + len - 1 - (open + 2)));
		const char *rest = parse_prefix(inner, &sl, &line);
		char *src = rest ? cb_xstrndup(inner, sl) : NULL;

		cb_diag_add(lua->diags, CB_ERROR, "plugin-error", src ? src : lua->path,
		            (unsigned)line, 0, NULL, "%.*s: %s", (int)(open - text), text,
		            rest ? rest : inner);
		free(src);
		free(inner);
		return;
	}
	cb_diag_add(lua->diags, CB_WARNING, "plugin-warning", lua->path, 0, 0, NULL, "%s", text);
}

/* }================================================================= */

/* {=================================================================
 * running code
 * ================================================================== */

int cb_lua__call(cb_lua *lua, int nargs, int nres, const char *context)
{
	lua_State *L = lua->L;
	int base = lua_gettop(L) - nargs, status;

	lua->used = 0;
	lua->killed = 0;
	lua->mem_hit = 0;
	lua->mem_src[0] = '\0';
	lua->mem_line = 0;
	lua_sethook(L, count_hook, LUA_MASKCOUNT, CB_LUA_HOOK_STEP);
	lua_pushcfunction(L, msghandler);
	lua_insert(L, base); /* -- msgh, f, args... */
	status = lua_pcall(L, nargs, nres, base);
	if (status != LUA_OK) {
		report_failure(lua, status, context);
		lua_settop(L, base - 1);
		return -1;
	}
	lua_remove(L, base); /* -- results... */
	return 0;
}

cb_lua *cb_lua_new(const cb_lua_opts *opts)
{
	cb_lua *lua = cb_xcalloc(1, sizeof *lua);
	cb_buf init = CB_BUF_INIT;

	lua->name = cb_xstrdup(opts->name ? opts->name : "plugin");
	lua->path = cb_xstrdup(opts->path ? opts->path : "plugin");
	lua->diags = opts->diags;
	lua->budget = opts->instructions;
	lua->mem_cap = opts->memory;
	lua->fail_after = opts->fail_alloc_after;
	lua->warn = init;
	lua->L = lua_newstate(sandbox_alloc, lua);
	if (!lua->L) {
		cb_diag_error(lua->diags, "plugin-limit", lua->path, 0, 0,
		              "cannot create a Lua state for plugin '%s' (out of memory)", lua->name);
		goto fail;
	}
	*(cb_lua **)lua_getextraspace(lua->L) = lua;
	lua_gc(lua->L, LUA_GCGEN, 0, 0);
	lua_atpanic(lua->L, panic);
	lua_setwarnf(lua->L, warnf, lua);
	lua_pushcfunction(lua->L, setup);
	if (cb_lua__call(lua, 0, 0, "while setting up the sandbox") < 0)
		goto fail;
	return lua;
fail:
	cb_lua_free(lua);
	return NULL;
}

void cb_lua_free(cb_lua *lua)
{
	if (!lua)
		return;
	if (lua->L) {
		lua->closing = 1;
		lua_close(lua->L);
	}
	cb_buf_dispose(&lua->warn);
	free(lua->name);
	free(lua->path);
	free(lua);
}

typedef struct convert_args {
	cb_value *out;
	char err[256];
} convert_args;

/* Convert the value below the light userdata (a convert_args). Runs
 * protected, although the conversion itself never raises. */
static int convert_top(lua_State *L)
{
	convert_args *a = lua_touserdata(L, 2);

	a->out = cb_lua__to_value(L, 1, a->err, sizeof a->err);
	return 0;
}

int cb_lua__load(cb_lua *lua, const char *code, size_t len, const char *context)
{
	char *chunk = cb_xasprintf("@%s", lua->path);
	int status;

	lua->mem_hit = 0;
	lua->mem_src[0] = '\0';
	lua->killed = 0;
	status = luaL_loadbufferx(lua->L, code, len, chunk, "t");
	free(chunk);
	if (status != LUA_OK) {
		report_failure(lua, status, context);
		lua_pop(lua->L, 1);
		return -1;
	}
	return 0;
}

int cb_lua_run(cb_lua *lua, const char *code, size_t len, const char *context, cb_value **out)
{
	lua_State *L = lua->L;
	int rc;

	if (out)
		*out = NULL;
	if (cb_lua__load(lua, code, len, context) < 0)
		return -1;
	rc = cb_lua__call(lua, 0, 1, context); /* -- result */
	if (rc == 0 && out && !lua_isnil(L, -1)) {
		convert_args a;
		a.out = NULL;
		lua_pushcfunction(L, convert_top);
		lua_insert(L, -2);
		lua_pushlightuserdata(L, &a);
		if (cb_lua__call(lua, 2, 0, context) == 0)
			*out = a.out;
	} else if (rc == 0) {
		lua_pop(L, 1);
	}
	cb_lua__end_call(L);
	return rc;
}

typedef struct global_args {
	const char *name;
	const cb_value *value;
	cb_value *out;
	char err[256];
} global_args;

static int set_global(lua_State *L)
{
	const global_args *a = lua_touserdata(L, 1);

	lua_pushglobaltable(L);
	cb_lua__push_value(L, a->value);
	lua_setfield(L, -2, a->name);
	return 0;
}

int cb_lua_set_global(cb_lua *lua, const char *name, const cb_value *v)
{
	global_args a;

	memset(&a, 0, sizeof a);
	a.name = name;
	a.value = v;
	lua_pushcfunction(lua->L, set_global);
	lua_pushlightuserdata(lua->L, &a);
	return cb_lua__call(lua, 1, 0, NULL);
}

static int get_global(lua_State *L)
{
	global_args *a = lua_touserdata(L, 1);

	lua_pushglobaltable(L);
	lua_pushstring(L, a->name);
	lua_rawget(L, -2);
	a->out = cb_lua__to_value(L, -1, a->err, sizeof a->err);
	return 0;
}

int cb_lua_get_global(cb_lua *lua, const char *name, cb_value **out)
{
	global_args a;

	memset(&a, 0, sizeof a);
	a.name = name;
	*out = NULL;
	lua_pushcfunction(lua->L, get_global);
	lua_pushlightuserdata(lua->L, &a);
	if (cb_lua__call(lua, 1, 0, NULL) < 0)
		return -1;
	if (!a.out)
		return cb_diag_error(lua->diags, "plugin-value", lua->path, 0, 0,
		                     "global '%s': %s", name, a.err);
	*out = a.out;
	return 0;
}

size_t cb_lua_memory(const cb_lua *lua) { return lua->mem_used; }
size_t cb_lua_memory_peak(const cb_lua *lua) { return lua->mem_peak; }
long long cb_lua_instructions(const cb_lua *lua) { return lua->used; }
int cb_lua_killed(const cb_lua *lua) { return lua->killed; }

/* }================================================================= */
