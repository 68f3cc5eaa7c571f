/*
 * cb_lua_value: values between cb_value trees and Lua (see cb_lua_priv.h).
 *
 *   cb_value            Lua
 *   null                nil in a map (the key is left out); casebook.null in a list
 *   boolean             boolean
 *   integer / float     integer / float (math.type tells them apart)
 *   string              string
 *   date                a date object: d.year, d.month, d.day, tostring(d) = "2016-05-01"
 *   list                a sequence 1..n
 *   map                 a table with string keys
 *
 * Back from Lua, a table whose keys are exactly 1..n is a list; an empty
 * table is a list unless casebook.map{} marked it; any other table is a map
 * whose keys (strings, or integers written in decimal) are sorted, so that
 * output does not depend on Lua's table order.
 */
#include "cb_lua_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"
#include "cb_text.h"
#include "cb_utf8.h"

#define SHAPE_KEY "__casebook_shape"
#define STRINGS_KEY "casebook.strings"
#define NULL_VALUE "casebook.null.value" /* casebook.null, in the registry */

typedef struct date {
	int y, m, d;
} date;

/* {=================================================================
 * null and dates
 * ================================================================== */

static void push_null(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, NULL_VALUE);
}

static int null_tostring(lua_State *L)
{
	lua_pushliteral(L, "null");
	return 1;
}

void cb_lua__push_date(lua_State *L, int y, int m, int d)
{
	date *dt = lua_newuserdatauv(L, sizeof *dt, 0);

	dt->y = y;
	dt->m = m;
	dt->d = d;
	cb_lua__setmetatable(L, CB_LUA_DATE);
}

static int date_index(lua_State *L)
{
	const date *dt = cb_lua__checkudata(L, 1, CB_LUA_DATE);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "year") == 0)
		lua_pushinteger(L, dt->y);
	else if (strcmp(k, "month") == 0)
		lua_pushinteger(L, dt->m);
	else if (strcmp(k, "day") == 0)
		lua_pushinteger(L, dt->d);
	else
		return luaL_error(L, "dates have year, month and day, not '%s'", k);
	return 1;
}

static int date_tostring(lua_State *L)
{
	const date *dt = cb_lua__checkudata(L, 1, CB_LUA_DATE);

	lua_pushfstring(L, "%d-%s%d-%s%d", dt->y, dt->m < 10 ? "0" : "", dt->m, dt->d < 10 ? "0" : "",
	                dt->d);
	return 1;
}

static long date_key(const date *dt) { return (long)dt->y * 10000 + dt->m * 100 + dt->d; }

static int date_eq(lua_State *L)
{
	const date *a = cb_lua__checkudata(L, 1, CB_LUA_DATE), *b = cb_lua__checkudata(L, 2, CB_LUA_DATE);

	lua_pushboolean(L, date_key(a) == date_key(b));
	return 1;
}

static int date_lt(lua_State *L)
{
	const date *a = cb_lua__checkudata(L, 1, CB_LUA_DATE), *b = cb_lua__checkudata(L, 2, CB_LUA_DATE);

	lua_pushboolean(L, date_key(a) < date_key(b));
	return 1;
}

static int date_le(lua_State *L)
{
	const date *a = cb_lua__checkudata(L, 1, CB_LUA_DATE), *b = cb_lua__checkudata(L, 2, CB_LUA_DATE);

	lua_pushboolean(L, date_key(a) <= date_key(b));
	return 1;
}

static int date_concat(lua_State *L)
{
	luaL_tolstring(L, 1, NULL);
	luaL_tolstring(L, 2, NULL);
	lua_concat(L, 2);
	return 1;
}

/* casebook.date(y, m, d) or casebook.date("YYYY-MM-DD"); nil, msg when it is
 * not a calendar date. */
static int l_date(lua_State *L)
{
	int y, m, d;
	cb_value *v;

	if (lua_type(L, 1) == LUA_TSTRING) {
		const char *s = lua_tostring(L, 1);
		char tail;
		if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || strlen(s) != 10) {
			luaL_pushfail(L);
			lua_pushfstring(L, "'%s' is not a date (write YYYY-MM-DD)", s);
			return 2;
		}
	} else {
		y = (int)luaL_checkinteger(L, 1);
		m = (int)luaL_checkinteger(L, 2);
		d = (int)luaL_checkinteger(L, 3);
	}
	v = cb_value_new_date(y, m, d);
	if (!v) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%d-%d-%d is not a calendar date", y, m, d);
		return 2;
	}
	cb_value_unref(v);
	cb_lua__push_date(L, y, m, d);
	return 1;
}

/* casebook.map(t) / casebook.list(t): mark t so that an empty (or any)
 * table converts to a map or a list. Returns t. */
static int mark(lua_State *L, const char *shape)
{
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	else
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	if (!lua_getmetatable(L, 1)) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, -1);
		lua_setmetatable(L, 1);
	}
	lua_pushstring(L, shape);
	lua_setfield(L, -2, SHAPE_KEY);
	lua_settop(L, 1);
	return 1;
}

static int l_map(lua_State *L) { return mark(L, "map"); }
static int l_list(lua_State *L) { return mark(L, "list"); }

/* casebook.freeze(v): v converted once into a value that pages, data and
 * c:set can share without copying it again (a userdata holding a reference).
 * Reading a field of it (f.title) gives a Lua copy of that field. */
static int l_freeze(lua_State *L)
{
	cb_value **box;
	char err[256];

	luaL_checkany(L, 1);
	box = lua_newuserdatauv(L, sizeof *box, 0); /* empty first, then fill */
	*box = NULL;
	cb_lua__setmetatable(L, CB_LUA_FROZEN);
	*box = cb_lua__to_value(L, 1, err, sizeof err);
	if (!*box)
		return luaL_error(L, "casebook.freeze: %s", err);
	return 1;
}

static int frozen_gc(lua_State *L)
{
	cb_value **box = cb_lua__checkudata(L, 1, CB_LUA_FROZEN);

	cb_value_unref(*box);
	*box = NULL;
	return 0;
}

static int frozen_index(lua_State *L)
{
	cb_value **box = cb_lua__checkudata(L, 1, CB_LUA_FROZEN);
	const cb_value *v = *box;

	if (cb_value_type(v) == CB_LIST && lua_isinteger(L, 2)) {
		lua_Integer i = lua_tointeger(L, 2);
		v = i >= 1 && (size_t)i <= cb_value_len(v) ? cb_value_at(v, (size_t)i - 1) : NULL;
	} else if (lua_type(L, 2) == LUA_TSTRING) {
		size_t len;
		const char *k = lua_tolstring(L, 2, &len);
		v = cb_value_get(v, k, len);
	} else {
		v = NULL;
	}
	if (!v || cb_value_type(v) == CB_NULL)
		lua_pushnil(L);
	else
		cb_lua__push_value(L, v);
	return 1;
}

static int frozen_len(lua_State *L)
{
	cb_value **box = cb_lua__checkudata(L, 1, CB_LUA_FROZEN);

	lua_pushinteger(L, cb_value_type(*box) == CB_LIST ? (lua_Integer)cb_value_len(*box) : 0);
	return 1;
}

/* {=================================================================
 * The strings a state has made into values
 *
 * Plugins hand the same strings over again and again: a case's title and
 * url in every related list and backlink, a lesson's text in the case and
 * in the lessons page. Each state keeps the string values it made in a hash
 * set, and equal strings become one shared value. The set lives in a
 * userdata in the registry and goes (dropping its references) with the
 * state.
 * ================================================================== */

typedef struct strings {
	cb_value **slot; /* open addressing; NULL = empty */
	uint32_t *hash;  /* each slot's string's hash: most probes stop here */
	size_t cap, len;
} strings;

static int strings_gc(lua_State *L)
{
	strings *st = lua_touserdata(L, 1);
	size_t i;

	for (i = 0; i < st->cap; i++)
		cb_value_unref(st->slot[i]);
	free(st->slot);
	free(st->hash);
	st->slot = NULL;
	st->hash = NULL;
	st->cap = st->len = 0;
	return 0;
}

static void strings_grow(strings *st)
{
	size_t cap = st->cap ? st->cap * 2 : 1024, i;
	cb_value **slot = cb_xcalloc(cap, sizeof *slot);
	uint32_t *hash = cb_xcalloc(cap, sizeof *hash);

	for (i = 0; i < st->cap; i++) {
		size_t k;
		if (!st->slot[i])
			continue;
		for (k = st->hash[i] & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
			;
		slot[k] = st->slot[i];
		hash[k] = st->hash[i];
	}
	free(st->slot);
	free(st->hash);
	st->slot = slot;
	st->hash = hash;
	st->cap = cap;
}

/* A string value for s (a new reference): the state's shared one when
 * there is one. Never raises. */
static cb_value *string_value(strings *st, const char *s, size_t len)
{
	size_t k;
	uint32_t h;
	cb_value *v;

	if (!st)
		return cb_value_new_string(s, len);
	if ((st->len + 1) * 2 > st->cap)
		strings_grow(st);
	h = cb_text_hash32(s, len);
	for (k = h & (st->cap - 1); st->slot[k]; k = (k + 1) & (st->cap - 1)) {
		size_t l2;
		const char *s2;
		if (st->hash[k] != h)
			continue;
		s2 = cb_value_str(st->slot[k], &l2);
		if (l2 == len && memcmp(s, s2, len) == 0)
			return cb_value_ref(st->slot[k]);
	}
	v = cb_value_new_string(s, len);
	st->slot[k] = cb_value_ref(v);
	st->hash[k] = h;
	st->len++;
	return v;
}

/* }================================================================= */

void cb_lua__open_values(lua_State *L)
{
	static const luaL_Reg date_meta[] = {{"__index", date_index}, {"__tostring", date_tostring},
	                                      {"__eq", date_eq},       {"__lt", date_lt},
	                                      {"__le", date_le},       {"__concat", date_concat},
	                                      {NULL, NULL}};

	/* -- casebook */
	cb_lua__newmetatable(L, CB_LUA_NULL);
	lua_pushcfunction(L, null_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "null");
	lua_setfield(L, -2, "__metatable");
	lua_newuserdatauv(L, 0, 0);
	lua_pushvalue(L, -2);
	lua_setmetatable(L, -2); /* -- casebook, mt, null */
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, NULL_VALUE);
	lua_setfield(L, -3, "null");
	lua_pop(L, 1);

	cb_lua__newmetatable(L, CB_LUA_DATE);
	luaL_setfuncs(L, date_meta, 0);
	lua_pushliteral(L, "date");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	/* Keep the marker key interned, so that reading it never allocates. */
	lua_pushboolean(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, SHAPE_KEY);

	cb_lua__newmetatable(L, CB_LUA_FROZEN);
	lua_pushcfunction(L, frozen_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, frozen_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, frozen_len);
	lua_setfield(L, -2, "__len");
	lua_pushliteral(L, "frozen");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	/* The shared strings (see above), in the registry. */
	lua_newuserdatauv(L, sizeof(strings), 0); /* -- casebook, set */
	memset(lua_touserdata(L, -1), 0, sizeof(strings));
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, strings_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, STRINGS_KEY); /* -- casebook */

	lua_pushcfunction(L, l_freeze);
	lua_setfield(L, -2, "freeze");
	lua_pushcfunction(L, l_date);
	lua_setfield(L, -2, "date");
	lua_pushcfunction(L, l_map);
	lua_setfield(L, -2, "map");
	lua_pushcfunction(L, l_list);
	lua_setfield(L, -2, "list");
}

/* }================================================================= */

/* {=================================================================
 * cb_value -> Lua
 * ================================================================== */

void cb_lua__push_value(lua_State *L, const cb_value *v)
{
	size_t i, n = cb_value_len(v), len;
	const char *s;
	int y, m, d;

	luaL_checkstack(L, 4, "value nested too deeply");
	switch (cb_value_type(v)) {
	case CB_NULL:
		lua_pushnil(L);
		break;
	case CB_BOOL:
		lua_pushboolean(L, cb_value_bool(v));
		break;
	case CB_INT:
		lua_pushinteger(L, (lua_Integer)cb_value_int(v));
		break;
	case CB_FLOAT:
		lua_pushnumber(L, (lua_Number)cb_value_float(v));
		break;
	case CB_STRING:
		s = cb_value_str(v, &len);
		lua_pushlstring(L, s, len);
		break;
	case CB_DATE:
		cb_value_date(v, &y, &m, &d);
		cb_lua__push_date(L, y, m, d);
		break;
	case CB_LIST:
		lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
		for (i = 0; i < n; i++) {
			const cb_value *item = cb_value_at(v, i);
			if (cb_value_type(item) == CB_NULL)
				push_null(L);
			else
				cb_lua__push_value(L, item);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case CB_MAP:
		lua_createtable(L, 0, n > INT32_MAX ? 0 : (int)n);
		for (i = 0; i < n; i++) {
			size_t kl;
			const char *k = cb_value_key(v, i, &kl);
			const cb_value *e = cb_value_entry(v, i);
			if (cb_value_type(e) == CB_NULL)
				continue;
			lua_pushlstring(L, k, kl);
			cb_lua__push_value(L, e);
			lua_rawset(L, -3);
		}
		break;
	}
}

/* }================================================================= */

/* {=================================================================
 * Lua -> cb_value (never raises: only reads the stack)
 * ================================================================== */

/* One step of the path to the value being converted: a key (k, kl; the
 * string is on the Lua stack while the step is in use) or an index i. */
typedef struct step {
	const char *k;
	size_t kl;
	long long i;
} step;

typedef struct conv {
	lua_State *L;
	strings *strings; /* the state's shared strings, or NULL */
	char *err;
	size_t errlen;
	step steps[CB_LUA_MAX_DEPTH + 2]; /* the path, spelt out only for an error */
	int depth;
} conv;

static void fail(conv *c, const char *fmt, ...) CB_PRINTF(2, 3);

/* Report why the value cannot be converted, after the path to the part
 * that cannot ("items[3].url: ..."). */
static void fail(conv *c, const char *fmt, ...)
{
	va_list ap;
	char path[192];
	size_t at = 0;
	int i;

	if (c->err[0])
		return;
	path[0] = '\0';
	for (i = 0; i < c->depth && at < sizeof path - 1; i++) {
		const step *st = &c->steps[i];
		if (st->k)
			snprintf(path + at, sizeof path - at, "%s%.*s", at ? "." : "",
			         (int)(st->kl > 40 ? 40 : st->kl), st->k);
		else
			snprintf(path + at, sizeof path - at, "[%lld]", st->i);
		at = strlen(path);
	}
	if (path[0])
		snprintf(c->err, c->errlen, "%s: ", path);
	at = strlen(c->err);
	va_start(ap, fmt);
	vsnprintf(c->err + at, c->errlen - at, fmt, ap);
	va_end(ap);
}

typedef struct entry {
	int is_int;
	lua_Integer i;
	const char *k;
	size_t kl;
	cb_value *v;
} entry;

static int cmp_entry(const void *pa, const void *pb)
{
	const entry *a = pa, *b = pb;
	int c;

	if (a->is_int != b->is_int)
		return a->is_int ? -1 : 1;
	if (a->is_int)
		return a->i < b->i ? -1 : a->i > b->i;
	c = memcmp(a->k, b->k, a->kl < b->kl ? a->kl : b->kl);
	if (c)
		return c;
	return a->kl < b->kl ? -1 : a->kl > b->kl;
}

/* Sort a table's entries by key. Small tables by insertion, and larger
 * ones only when out of order: lists come in order, and a few keys are
 * sorted faster without qsort's calls. */
static void sort_entries(entry *e, size_t n)
{
	size_t i, j;

	if (n > 32) {
		for (i = 1; i < n && cmp_entry(&e[i - 1], &e[i]) < 0; i++)
			;
		if (i < n)
			qsort(e, n, sizeof *e, cmp_entry);
		return;
	}
	for (i = 1; i < n; i++) {
		entry x = e[i];
		for (j = i; j > 0 && cmp_entry(&e[j - 1], &x) > 0; j--)
			e[j] = e[j - 1];
		e[j] = x;
	}
}

static cb_value *convert(conv *c, int idx, int depth);

/* The shape a table was marked with (casebook.map / casebook.list), or NULL. */
static const char *marked_shape(lua_State *L, int idx)
{
	const char *shape = NULL;

	if (!lua_getmetatable(L, idx))
		return NULL;
	lua_pushliteral(L, SHAPE_KEY);
	if (lua_rawget(L, -2) == LUA_TSTRING)
		shape = lua_tostring(L, -1); /* interned; the metatable keeps it alive */
	lua_pop(L, 2);
	return shape;
}

static cb_value *convert_table(conv *c, int idx, int depth)
{
	lua_State *L = c->L;
	const char *shape = marked_shape(L, idx);
	entry small[8], *e = small;
	size_t n = 0, cap = sizeof small / sizeof small[0], i;
	lua_Integer max_int = 0;
	int all_int = 1;
	cb_value *out = NULL;

	if (depth > CB_LUA_MAX_DEPTH) {
		fail(c, "%s", "tables nested too deeply (is there a cycle?)");
		return NULL;
	}
	if (!lua_checkstack(L, 4)) {
		fail(c, "%s", "tables nested too deeply");
		return NULL;
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) { /* -- key, value */
		entry en;
		step *st = &c->steps[depth];

		memset(&en, 0, sizeof en);
		if (lua_type(L, -2) == LUA_TSTRING) {
			en.k = lua_tolstring(L, -2, &en.kl);
			all_int = 0;
			st->k = en.k;
			st->kl = en.kl;
		} else if (lua_isinteger(L, -2)) {
			en.is_int = 1;
			en.i = lua_tointeger(L, -2);
			if (en.i < 1)
				all_int = 0;
			else if (en.i > max_int)
				max_int = en.i;
			st->k = NULL;
			st->i = (long long)en.i;
		} else {
			fail(c, "table keys must be strings or integers, not %s",
			     lua_typename(L, lua_type(L, -2)));
			lua_pop(L, 2);
			goto out;
		}
		c->depth = depth + 1;
		en.v = convert(c, lua_gettop(L), depth + 1);
		c->depth = depth;
		lua_pop(L, 1); /* -- key */
		if (!en.v) {
			lua_pop(L, 1);
			goto out;
		}
		if (n == cap) {
			cap *= 2;
			if (e == small) {
				e = cb_xreallocarray(NULL, cap, sizeof *e);
				memcpy(e, small, sizeof small);
			} else {
				e = cb_xreallocarray(e, cap, sizeof *e);
			}
		}
		e[n++] = en;
	}
	sort_entries(e, n);
	if ((shape && strcmp(shape, "list") == 0) ||
	    (!(shape && strcmp(shape, "map") == 0) && all_int && (size_t)max_int == n)) {
		if (!all_int || (size_t)max_int != n) {
			fail(c, "%s", "a table marked as a list must have the keys 1..n only");
			goto out;
		}
		out = cb_value_new_list();
		cb_value_reserve(out, n);
		for (i = 0; i < n; i++) {
			cb_value_push(out, e[i].v);
			e[i].v = NULL;
		}
	} else {
		out = cb_value_new_map();
		cb_value_reserve(out, n);
		for (i = 0; i < n; i++) {
			if (e[i].is_int) {
				char num[32];
				int kl = snprintf(num, sizeof num, "%lld", (long long)e[i].i);
				cb_value_set(out, num, (size_t)kl, e[i].v);
			} else {
				cb_value_set(out, e[i].k, e[i].kl, e[i].v);
			}
			e[i].v = NULL;
		}
	}
out:
	for (i = 0; i < n; i++)
		cb_value_unref(e[i].v);
	if (e != small)
		free(e);
	return out;
}

static cb_value *convert_userdata(conv *c, int idx)
{
	lua_State *L = c->L;
	const date *dt;
	cb_value **box;
	const char *name = "a userdata";

	switch (cb_lua__udtype(L, idx)) {
	case CB_LUA_NULL:
		return cb_value_new_null();
	case CB_LUA_FROZEN:
		box = lua_touserdata(L, idx);
		if (*box)
			return cb_value_ref(*box);
		break;
	case CB_LUA_DATE:
		dt = lua_touserdata(L, idx);
		return cb_value_new_date(dt->y, dt->m, dt->d);
	case CB_LUA_DOC:
		return cb_lua__doc_value(L, idx);
	case CB_LUA_SECTION:
		name = "a section object";
		break;
	case CB_LUA_SITE:
		name = "the site object";
		break;
	}
	fail(c, "cannot use %s as a value (use nil, booleans, numbers, strings, dates and tables "
	        "of them)",
	     name);
	return NULL;
}

static cb_value *convert(conv *c, int idx, int depth)
{
	lua_State *L = c->L;
	size_t len, bad;
	const char *s;
	int nul;
	lua_Number x;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
	case LUA_TNONE:
		return cb_value_new_null();
	case LUA_TBOOLEAN:
		return cb_value_new_bool(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return cb_value_new_int((long long)lua_tointeger(L, idx));
		x = lua_tonumber(L, idx);
		if (!isfinite(x)) {
			fail(c, "%s", "numbers must be finite (not inf or nan)");
			return NULL;
		}
		return cb_value_new_float((double)x);
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (!cb_utf8_check(s, len, &bad, &nul)) {
			fail(c, "%s", nul ? "strings may not contain NUL bytes" : "a string is not valid UTF-8");
			return NULL;
		}
		return string_value(c->strings, s, len);
	case LUA_TTABLE:
		return convert_table(c, idx, depth);
	case LUA_TUSERDATA:
		return convert_userdata(c, idx);
	default:
		fail(c, "cannot use a %s as a value (use nil, booleans, numbers, strings, dates and "
		        "tables of them)",
		     lua_typename(L, lua_type(L, idx)));
		return NULL;
	}
}

cb_value *cb_lua__to_value(lua_State *L, int idx, char *err, size_t errlen)
{
	conv c;

	memset(&c, 0, sizeof c);
	c.L = L;
	c.err = err;
	c.errlen = errlen;
	err[0] = '\0';
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, STRINGS_KEY) == LUA_TUSERDATA) /* -- set */
		c.strings = lua_touserdata(L, -1);
	lua_pop(L, 1); /* -- */
	return convert(&c, lua_absindex(L, idx), 0);
}

/* }================================================================= */
