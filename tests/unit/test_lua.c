/* Unit tests for cb_lua: the sandbox, the limits, error reports and values
 * between YAML, Lua and templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_diag.h"
#include "cb_lua.h"
#include "cb_lua_priv.h"
#include "cb_template.h"
#include "cb_yaml.h"

#define PATH "plugins/t.lua"

static cb_lua *mk(cb_diag_list *d, long long budget, size_t mem)
{
	cb_lua_opts o = CB_LUA_OPTS_INIT;
	cb_lua *lua;

	o.name = "t";
	o.path = PATH;
	o.instructions = budget;
	o.memory = mem;
	o.diags = d;
	lua = cb_lua_new(&o);
	assert_non_null(lua);
	return lua;
}

static int run(cb_lua *lua, const char *code)
{
	return cb_lua_run(lua, code, strlen(code), "while processing content/cases/y.md", NULL);
}

/* The only error in d (there must be exactly one). */
static const cb_diag *the_error(cb_diag_list *d)
{
	const cb_diag *found = NULL;
	size_t i;

	for (i = 0; i < cb_diag_count(d); i++) {
		const cb_diag *x = cb_diag_at(d, i);
		if (x->severity != CB_ERROR)
			continue;
		if (found)
			fail_msg("more than one error: '%s' and '%s'", found->msg, x->msg);
		found = x;
	}
	if (!found)
		fail_msg("expected an error");
	return found;
}

static void expect_error(const char *code, unsigned line, const char *want)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 1000000, 32 << 20);
	const cb_diag *e;

	assert_int_equal(run(lua, code), -1);
	e = the_error(d);
	if (!strstr(e->msg, want))
		fail_msg("for `%s`: expected '%s' in '%s'", code, want, e->msg);
	assert_string_equal(e->path, PATH);
	if (line)
		assert_int_equal(e->line, line);
	/* Every error names what was being processed. */
	assert_non_null(strstr(e->msg, "(while processing content/cases/y.md)"));
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void expect_ok(const char *code)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 100000000, 32 << 20);

	if (run(lua, code) != 0)
		fail_msg("failed: %s", cb_diag_at(d, 0)->msg);
	assert_int_equal(cb_diag_errors(d), 0);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* The same with a larger budget and cap, and `threads` threads for helpers
 * such as idx:rank_all (as the plugin stage gives). */
static void expect_ok_threaded(int threads, const char *code)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 2000000000, 256 << 20);
	cb_lua_host host;

	memset(&host, 0, sizeof host);
	host.threads = threads;
	lua->host = &host;
	if (run(lua, code) != 0)
		fail_msg("failed: %s", cb_diag_at(d, 0)->msg);
	assert_int_equal(cb_diag_errors(d), 0);
	lua->host = NULL;
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* ---- the sandbox --------------------------------------------------------- */

static void test_escapes(void **state)
{
	(void)state;
	expect_error("local f = io.open('/etc/passwd')", 1, "'io' is not available to plugins");
	expect_error("os.execute('touch /tmp/casebook-escaped')", 1,
	             "'os.execute' is not available to plugins");
	expect_error("return os.getenv('HOME')", 1, "'os.getenv' is not available");
	expect_error("os.remove('/tmp/x')", 1, "'os.remove' is not available");
	expect_error("os.exit(1)", 1, "'os.exit' is not available");
	expect_error("local os2 = require('os')", 1, "'require' is not available");
	expect_error("dofile('/etc/passwd')", 1, "'dofile' is not available");
	expect_error("loadfile('/etc/passwd')", 1, "'loadfile' is not available");
	expect_error("return package.loadlib", 1, "'package' is not available");
	expect_error("return debug.getregistry()", 1, "'debug' is not available");
	expect_error("return string.dump(print)", 1, "'string.dump' is not available");
	expect_error("local s = ''\nreturn s:dump()", 2, "'string.dump' is not available");
	expect_error("collectgarbage('stop')", 1, "collectgarbage('stop') is not available");
	expect_error("load('return 1', 'x', 'b')", 1, "binary chunks are not allowed");
	/* A binary chunk given to load in text mode is refused, not run. */
	expect_ok("local f, err = load('\\27Lua\\84\\0\\25\\147\\r\\n\\26\\n')\n"
	          "assert(f == nil and err:find('binary'), err)");
	/* What is gone is really gone, not only hidden behind the metatables. */
	expect_ok("assert(rawget(_G, 'io') == nil and rawget(_G, 'debug') == nil)\n"
	          "assert(rawget(os, 'execute') == nil and rawget(string, 'dump') == nil)\n"
	          "assert(rawget(_G, 'require') == nil and rawget(_G, 'package') == nil)");
	/* The libraries plugins need are there. */
	expect_ok("assert(string.format('%d-%s', 3, 'x') == '3-x')\n"
	          "assert(table.concat({1, 2}, ',') == '1,2' and math.floor(2.5) == 2)\n"
	          "assert(utf8.len('Łódź') == 4)\n"
	          "assert(type(os.time()) == 'number' and os.date('!%Y', 0) == '1970')\n"
	          "assert(type(os.clock()) == 'number')\n"
	          "local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)\n"
	          "assert(co(1) == 2 and co(5) == 10)\n"
	          "local f = load('return x + 1', 'chunk', 't', {x = 41})\n"
	          "assert(f() == 42)\n"
	          "assert(casebook.slug('Co-design & more') == 'co-design-more')\n"
	          "assert(casebook.fold('Łódź') == 'lodz')\n"
	          "assert(casebook.escape('<a href=\"x\">') == '&lt;a href=&quot;x&quot;&gt;')\n"
	          "assert(#casebook.hash('x', 6) == 6 and casebook.hash('x') == casebook.hash('x'))\n"
	          "assert(casebook.suggest('co-designing', {'co-design', 'co-delivery'}) == "
	          "'co-design')\n"
	          "assert(casebook.suggest('zzz', {'co-design'}) == nil)");
	/* Undefined globals are errors, not a silent nil. */
	expect_error("local x = 1\nlocal y = undefined_thing", 2, "undefined variable 'undefined_thing'");
}

static void test_random_is_deterministic(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *a = mk(d, 0, 0), *b = mk(d, 0, 0);
	cb_value *va = NULL, *vb = NULL;
	const char *code = "return math.random(1, 1000000)";

	(void)state;
	assert_int_equal(cb_lua_run(a, code, strlen(code), NULL, &va), 0);
	assert_int_equal(cb_lua_run(b, code, strlen(code), NULL, &vb), 0);
	assert_true(cb_value_equal(va, vb));
	cb_value_unref(va);
	cb_value_unref(vb);
	cb_lua_free(a);
	cb_lua_free(b);
	cb_diag_list_free(d);
}

static void test_print_is_a_note(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);

	(void)state;
	assert_int_equal(run(lua, "local x = 1\nprint('hello', 42, nil)"), 0);
	assert_int_equal(cb_diag_count(d), 1);
	assert_int_equal(cb_diag_at(d, 0)->severity, CB_NOTE);
	assert_string_equal(cb_diag_at(d, 0)->msg, "hello\t42\tnil");
	assert_int_equal(cb_diag_at(d, 0)->line, 2);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* ---- limits -------------------------------------------------------------- */

static void expect_limit(const char *code, long long budget, size_t mem, int kill,
                         const char *want, unsigned line)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, budget, mem);
	const cb_diag *e;

	assert_int_equal(run(lua, code), -1);
	e = the_error(d);
	if (cb_lua_killed(lua) != kill)
		fail_msg("for `%s`: stopped by %d, not %d: %s", code, cb_lua_killed(lua), kill, e->msg);
	if (!strstr(e->msg, want))
		fail_msg("for `%s`: expected '%s' in '%s'", code, want, e->msg);
	/* The message names the plugin and the setting. */
	assert_non_null(strstr(e->msg, "plugin 't'"));
	assert_non_null(strstr(e->msg, "plugin_limits"));
	if (line)
		assert_int_equal(e->line, line);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void test_instruction_budget(void **state)
{
	(void)state;
	expect_limit("local n = 0\nwhile true do n = n + 1 end", 100000, 0, 1, "instruction budget", 2);
	/* pcall cannot swallow the kill: once spent, every instruction raises. */
	expect_limit("while true do\n  pcall(function() while true do end end)\nend", 100000, 0, 1,
	             "instruction budget", 0);
	expect_limit("local ok = true\nwhile ok do ok = pcall(error, 'x') or true end", 100000, 0, 1,
	             "instruction budget", 0);
	/* Nor can a coroutine or a metamethod hide a loop. */
	expect_limit("local co = coroutine.wrap(function() while true do end end)\nco()", 100000, 0, 1,
	             "instruction budget", 0);
	expect_limit("local t = setmetatable({}, {__index = function() while true do end end})\n"
	             "return t.x",
	             100000, 0, 1, "instruction budget", 0);
	expect_limit("local t = {}\nfor i = 1, 1e9 do t[#t % 10 + 1] = i end", 100000, 0, 1,
	             "instruction budget", 0);
}

static void test_budget_is_per_call(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 200000, 0);
	const char *code = "local n = 0 for i = 1, 20000 do n = n + i end return n";
	int i;

	(void)state;
	/* Each call gets the whole budget again. */
	for (i = 0; i < 5; i++)
		assert_int_equal(run(lua, code), 0);
	assert_true(cb_lua_instructions(lua) > 0);
	assert_int_equal(cb_diag_errors(d), 0);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void test_memory_cap(void **state)
{
	(void)state;
	expect_limit("local s = string.rep('x', 1 << 30)", 0, 16 << 20, 2, "memory limit (16 MB", 0);
	expect_limit("local s = ('x'):rep(1 << 28)", 0, 16 << 20, 2, "memory limit", 0);
	expect_limit("local t = {}\nfor i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end", 0, 16 << 20, 2,
	             "memory limit", 0);
	expect_limit("local s = 'x'\nwhile true do s = s .. s end", 0, 16 << 20, 2, "memory limit", 0);
	/* A memory error caught by pcall still stops the plugin. */
	expect_limit("local ok = pcall(string.rep, 'x', 1 << 30)\nassert(not ok)\n"
	             "local n = 0\nfor i = 1, 100000 do n = n + i end\nerror('carried on')",
	             0, 16 << 20, 2, "memory limit", 0);
	/* A memory bomb inside pcall: still reported as the limit. */
	expect_limit("local ok = pcall(string.rep, 'x', 1 << 30)\nlocal t = {}\n"
	             "for i = 1, 1e8 do t[i] = {} end",
	             0, 16 << 20, 2, "memory limit", 0);
}

/* Every allocation may fail: the runtime reports, never crashes or leaks. */
static void test_allocation_failures(void **state)
{
	const char *code = "local t = {}\nfor i = 1, 50 do t[i] = {n = i, s = ('x'):rep(i)} end\n"
	                   "local ok, err = pcall(error, {code = 1})\n"
	                   "local co = coroutine.wrap(function() coroutine.yield(1) end)\n"
	                   "co()\nreturn #t";
	long n;
	int succeeded = 0;

	(void)state;
	for (n = 1; n < 1500; n += 7) {
		cb_diag_list *d = cb_diag_list_new();
		cb_lua_opts o = CB_LUA_OPTS_INIT;
		cb_lua *lua;

		o.name = "t";
		o.path = PATH;
		o.diags = d;
		o.fail_alloc_after = n;
		lua = cb_lua_new(&o);
		if (lua) {
			if (run(lua, code) == 0)
				succeeded++;
			else
				assert_true(cb_diag_errors(d) > 0);
			cb_lua_free(lua);
		} else {
			assert_true(cb_diag_errors(d) > 0);
		}
		cb_diag_list_free(d);
	}
	assert_true(succeeded > 0);
}

/* ---- errors -------------------------------------------------------------- */

static void test_error_objects(void **state)
{
	cb_diag_list *d;
	cb_lua *lua;
	const cb_diag *e;

	(void)state;
	expect_error("local x = 1\nerror('plain')", 2, "plain");
	expect_error("local x = 1\nerror({code = 42, reason = 'bad'})", 2, "code = 42");
	expect_error("error({code = 42, reason = 'bad'})", 1, "reason = \"bad\"");
	expect_error("error({message = 'from a field'})", 1, "from a field");
	expect_error("local e = setmetatable({}, {__tostring = function() return 'shown' end})\n"
	             "error(e)",
	             2, "shown");
	expect_error("error()", 1, "error raised without a message");
	expect_error("error(42)", 1, "42");
	expect_error("error(true)", 1, "error object is a boolean value");
	expect_error("error('no position', 0)", 1, "no position");
	/* A runtime error: Lua's own message, at the line. */
	expect_error("local t = nil\n\nreturn t.x", 3, "attempt to index a nil value (local 't')");
	/* Syntax errors name the line too. */
	expect_error("local x = = 1", 1, "unexpected symbol near '='");

	/* The hint is a short traceback of plugin frames. */
	d = cb_diag_list_new();
	lua = mk(d, 0, 0);
	assert_int_equal(run(lua, "local function inner()\n  error('deep')\nend\n"
	                          "local function outer()\n  inner()\nend\nouter()"),
	                 -1);
	e = the_error(d);
	assert_int_equal(e->line, 2);
	assert_non_null(e->hint);
	assert_non_null(strstr(e->hint, "traceback: plugins/t.lua:2 (upvalue 'inner')"));
	assert_non_null(strstr(e->hint, "plugins/t.lua:5 (local 'outer')"));
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void test_errors_in_coroutines(void **state)
{
	(void)state;
	/* coroutine.wrap prefixes its own position: the innermost one wins. */
	expect_error("local function inner()\n  error('boom')\nend\n"
	             "local co = coroutine.wrap(inner)\nco()",
	             2, "boom");
	expect_error("local co = coroutine.create(function()\n  error({code = 7})\nend)\n"
	             "local ok, err = coroutine.resume(co)\nassert(not ok)\nerror(err)",
	             6, "code = 7");
	expect_error("local co = coroutine.create(function()\n  error('inside')\nend)\n"
	             "local ok, err = coroutine.resume(co)\nerror(err)",
	             2, "inside");
	expect_error("local co = coroutine.wrap(function()\n  local t = nil\n  return t.x\nend)\nco()",
	             3, "attempt to index a nil value");
}

static void test_errors_in_metamethods(void **state)
{
	cb_diag_list *d;
	cb_lua *lua;
	const cb_diag *e;

	(void)state;
	expect_error("local t = setmetatable({}, {__index = function(_, k)\n"
	             "  error('no field ' .. k)\nend})\nreturn t.color",
	             2, "no field color");
	expect_error("local a = setmetatable({}, {__add = function()\n  error({why = 'add'})\nend})\n"
	             "return a + 1",
	             2, "why = \"add\"");
	expect_error("local a = setmetatable({}, {__tostring = function() return {} end})\n"
	             "return tostring(a)",
	             2, "'__tostring' must return a string");
	expect_error("do\n  local x <close> = setmetatable({}, {__close = function()\n"
	             "    error('closing')\n  end})\nend",
	             3, "closing");
	/* An error object whose __tostring fails: that error is reported. */
	expect_error("error(setmetatable({}, {__tostring = function()\n  error('bad')\nend}))", 2,
	             "bad");
	expect_error("local s = string.rep('x', 1 << 62)", 1, "resulting string too large");

	/* Errors in finalisers become Lua warnings; they are reported too. */
	d = cb_diag_list_new();
	lua = mk(d, 0, 0);
	assert_int_equal(run(lua, "setmetatable({}, {__gc = function()\n  error('gc boom')\nend})\n"
	                          "collectgarbage()"),
	                 0);
	e = the_error(d);
	assert_string_equal(e->path, PATH);
	assert_int_equal(e->line, 2);
	if (!strstr(e->msg, "error in __gc: gc boom"))
		fail_msg("got '%s'", e->msg);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* ---- values -------------------------------------------------------------- */

static const char yaml[] = "title: \"A case\"\n"
                           "year: 2016\n"
                           "ratio: 0.5\n"
                           "published: 2016-05-01\n"
                           "open: true\n"
                           "closed: false\n"
                           "none: null\n"
                           "country: NO\n"
                           "list: [1, two, 2016-05-02, false, null]\n"
                           "nested: {a: {b: [x, {c: 3}]}}\n";

static void test_values_yaml_lua_yaml(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);
	cb_value *v = NULL, *back = NULL, *expect;

	(void)state;
	assert_int_equal(cb_yaml_parse(&v, yaml, strlen(yaml), "x.yml", 0, d), 0);
	assert_int_equal(cb_lua_set_global(lua, "v", v), 0);
	if (run(lua, "assert(v.title == 'A case')\n"
	             "assert(math.type(v.year) == 'integer' and v.year == 2016)\n"
	             "assert(math.type(v.ratio) == 'float' and v.ratio == 0.5)\n"
	             "assert(tostring(v.published) == '2016-05-01')\n"
	             "assert(v.published.year == 2016 and v.published.month == 5)\n"
	             "assert(v.published.day == 1)\n"
	             "assert(v.published == casebook.date(2016, 5, 1))\n"
	             "assert(v.published < casebook.date('2016-05-02'))\n"
	             "assert(v.open == true and v.closed == false)\n"
	             "assert(v.none == nil, 'null map entries are left out')\n"
	             "assert(v.country == 'NO')\n"
	             "assert(#v.list == 5 and v.list[5] == casebook.null, 'null list items stay')\n"
	             "assert(v.list[1] == 1 and v.list[2] == 'two' and v.list[4] == false)\n"
	             "assert(tostring(v.list[3]) == '2016-05-02')\n"
	             "assert(v.nested.a.b[2].c == 3)\n"
	             "assert(casebook.date(2023, 2, 29) == nil)\n") != 0)
		fail_msg("%s", cb_diag_at(d, 0)->msg);
	/* Back to a value: equal, except the null map entry Lua cannot hold. */
	assert_int_equal(cb_lua_get_global(lua, "v", &back), 0);
	expect = cb_value_copy(v);
	cb_value_del(expect, "none");
	assert_true(cb_value_equal(back, expect));
	assert_int_equal(cb_value_type(cb_value_getc(back, "published")), CB_DATE);
	assert_int_equal(cb_value_type(cb_value_getc(back, "year")), CB_INT);
	assert_int_equal(cb_value_type(cb_value_getc(back, "ratio")), CB_FLOAT);
	assert_int_equal(cb_value_type(cb_value_at(cb_value_getc(back, "list"), 4)), CB_NULL);
	cb_value_unref(expect);
	cb_value_unref(back);
	cb_value_unref(v);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void test_values_lua_to_templates(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);
	cb_value *made = NULL, *ctx;
	cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
	const cb_tmpl *t;
	cb_buf out = CB_BUF_INIT;
	const char *tmpl = "{{made.d}}|{{made.n}}|{{made.f}}|{{made.b}}|{{#made.l}}{{.}}{{/made.l}}|"
	                   "{{#made.m}}{{a}}{{z}}{{/made.m}}|{{^made.empty}}none{{/made.empty}}|"
	                   "{{#made.emap}}map{{/made.emap}}|{{made.deep.x.y}}";

	(void)state;
	assert_int_equal(run(lua, "made = {n = 3, f = 1.5, d = casebook.date(2020, 2, 29), b = false,\n"
	                          "  m = {z = 1, a = 2}, l = {'x', 'y'}, empty = {},\n"
	                          "  emap = casebook.map{}, deep = {x = {y = 'z'}}}"),
	                 0);
	assert_int_equal(cb_lua_get_global(lua, "made", &made), 0);
	/* Map keys come out sorted: Lua's table order never shows. */
	assert_string_equal(cb_value_key(cb_value_getc(made, "m"), 0, NULL), "a");
	assert_string_equal(cb_value_key(made, 0, NULL), "b");
	assert_int_equal(cb_value_type(cb_value_getc(made, "empty")), CB_LIST);
	assert_int_equal(cb_value_type(cb_value_getc(made, "emap")), CB_MAP);
	ctx = cb_value_new_map();
	cb_value_setc(ctx, "made", made);
	cb_tmpl_set_add(set, "t", tmpl, strlen(tmpl), NULL);
	assert_int_equal(cb_tmpl_set_get(set, "t", &t, d), 0);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_string_equal(out.ptr, "2020-02-29|3|1.5|false|xy|21|none|map|z");
	cb_buf_dispose(&out);
	cb_value_unref(ctx);
	cb_tmpl_set_free(set);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

static void expect_bad_value(const char *code, const char *want)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);
	cb_value *v = NULL;

	assert_int_equal(run(lua, code), 0);
	assert_int_equal(cb_lua_get_global(lua, "x", &v), -1);
	assert_null(v);
	if (!strstr(the_error(d)->msg, want))
		fail_msg("for `%s`: expected '%s' in '%s'", code, want, the_error(d)->msg);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* casebook.freeze: converted once, shared (not copied) wherever it is used. */
static void test_values_frozen(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);
	cb_value *v = NULL;

	(void)state;
	assert_int_equal(run(lua, "local f = casebook.freeze{title = 'A', tags = {'x', 'y'}}\n"
	                          "assert(f.title == 'A' and f.tags[2] == 'y' and f.none == nil)\n"
	                          "local l = casebook.freeze{1, 2, 3}\n"
	                          "assert(#l == 3 and l[3] == 3 and l[4] == nil)\n"
	                          "x = {f, {inner = f}, l}"),
	                 0);
	assert_int_equal(cb_lua_get_global(lua, "x", &v), 0);
	assert_ptr_equal(cb_value_at(v, 0), cb_value_getc(cb_value_at(v, 1), "inner"));
	assert_string_equal(cb_value_cstr(cb_value_getc(cb_value_at(v, 0), "title")), "A");
	cb_value_unref(v);
	/* The state can go: the value lives on in whoever holds it. */
	assert_int_equal(cb_lua_get_global(lua, "x", &v), 0);
	cb_lua_free(lua);
	assert_int_equal(cb_value_len(cb_value_at(v, 2)), 3);
	cb_value_unref(v);
	expect_error("local f = casebook.freeze(print)", 1, "casebook.freeze: cannot use a function");
	expect_error("local b = casebook.date(2020, 1, 2) < 5", 1, "casebook.date expected, got number");
	expect_error("local ix = casebook.index()\nix.add({}, 'a', 'A', {})", 2,
	             "casebook.index expected, got table");
	cb_diag_list_free(d);
}

static void test_values_refused(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_lua *lua = mk(d, 0, 0);
	cb_value *v = NULL;

	(void)state;
	expect_bad_value("x = {items = {{url = print}}}", "items[1].url: cannot use a function");
	expect_bad_value("x = {}\nx.self = x", "nested too deeply");
	expect_bad_value("x = {v = 0/0}", "v: numbers must be finite");
	expect_bad_value("x = {s = '\\xff'}", "s: a string is not valid UTF-8");
	expect_bad_value("x = {[true] = 1}", "table keys must be strings or integers");
	expect_bad_value("x = {co = coroutine.create(print)}", "cannot use a thread");
	expect_bad_value("x = casebook.list{a = 1}", "marked as a list");
	/* casebook's userdata are told apart by their metatables. */
	expect_bad_value("x = {ix = casebook.index()}", "ix: cannot use a userdata");
	assert_int_equal(run(lua, "x = {n = casebook.null, d = casebook.date(2020, 1, 2)}"), 0);
	assert_int_equal(cb_lua_get_global(lua, "x", &v), 0);
	assert_int_equal(cb_value_type(cb_value_getc(v, "n")), CB_NULL);
	assert_int_equal(cb_value_type(cb_value_getc(v, "d")), CB_DATE);
	cb_value_unref(v);
	/* Integer keys that are not 1..n make a map, in numeric order. */
	assert_int_equal(run(lua, "x = {[10] = 'a', [9] = 'b', k = 'c'}"), 0);
	assert_int_equal(cb_lua_get_global(lua, "x", &v), 0);
	assert_int_equal(cb_value_type(v), CB_MAP);
	assert_string_equal(cb_value_key(v, 0, NULL), "9");
	assert_string_equal(cb_value_key(v, 1, NULL), "10");
	assert_string_equal(cb_value_key(v, 2, NULL), "k");
	cb_value_unref(v);
	/* Sorted at every size: 1 to 40 string keys (up to 32 sorted one way,
	 * more another), a list of 40, and 40 integer keys made in reverse. */
	assert_int_equal(run(lua, "x = {}\n"
	                          "for n = 1, 40 do\n"
	                          "  local m = {}\n"
	                          "  for i = n, 1, -1 do m[string.format('k%02d', (i * 7) % n)] = i end\n"
	                          "  x[n] = m\n"
	                          "end\n"
	                          "x.list, x.back = {}, {}\n"
	                          "for i = 1, 40 do x.list[i] = i end\n"
	                          "for i = 40, 1, -1 do x.back[i * 2] = i end"),
	                 0);
	assert_int_equal(cb_lua_get_global(lua, "x", &v), 0);
	{
		size_t n, i;
		const cb_value *l = cb_value_getc(v, "list"), *back = cb_value_getc(v, "back");
		for (n = 1; n <= 40; n++) {
			char key[16];
			const cb_value *m = cb_value_getc(v, (snprintf(key, sizeof key, "%zu", n), key));
			assert_int_equal(cb_value_type(m), CB_MAP);
			for (i = 1; i < cb_value_len(m); i++)
				assert_true(strcmp(cb_value_key(m, i - 1, NULL), cb_value_key(m, i, NULL)) < 0);
		}
		assert_int_equal(cb_value_type(l), CB_LIST);
		assert_int_equal(cb_value_len(l), 40);
		for (i = 0; i < 40; i++)
			assert_int_equal(cb_value_int(cb_value_at(l, i)), (long long)i + 1);
		assert_int_equal(cb_value_type(back), CB_MAP);
		for (i = 0; i < 40; i++) {
			char want[16];
			snprintf(want, sizeof want, "%zu", 2 * (i + 1));
			assert_string_equal(cb_value_key(back, i, NULL), want);
		}
	}
	cb_value_unref(v);
	cb_lua_free(lua);
	cb_diag_list_free(d);
}

/* ---- the related-items index ---------------------------------------------- */

static void test_index(void **state)
{
	(void)state;
	expect_ok("local ix = casebook.index()\n"
	          "ix:add('a', 'Alpha', {['phase:co-design'] = 2, ['sector:health'] = 3, tag = 1})\n"
	          "ix:add('b', 'Beta', {['phase:co-design'] = 2, ['sector:health'] = 3})\n"
	          "ix:add('c', 'Gamma', {['phase:co-design'] = 1, tag = 1})\n"
	          "ix:add('d', 'Delta', {tag = 1})\n"
	          "ix:add('e', 'Epsilon', {'other'})\n"
	          "local r = ix:related('a', 5)\n"
	          "assert(#r == 3, #r)\n"
	          "assert(r[1].key == 'b' and r[1].score == 5 and math.type(r[1].score) == 'integer')\n"
	          "assert(r[1].shared[1] == 'sector:health' and r[1].shared[2] == 'phase:co-design')\n"
	          /* a feature weighs the most it was given: c shares phase (2) and tag (1) */
	          "assert(r[2].key == 'c' and r[2].score == 3)\n"
	          "assert(r[3].key == 'd' and r[3].score == 1 and r[3].title == 'Delta')\n"
	          "assert(#ix:related('a', 1) == 1)\n"
	          "assert(#ix:related('a', 5, 2) == 2, 'min score')\n"
	          "assert(#ix:related('e', 5) == 0 and #ix:related('zz', 5) == 0)\n"
	          /* ties: by title */
	          "local t = casebook.index()\n"
	          "t:add('q', 'Q', {'f'}) t:add('z', 'Able', {'f'}) t:add('y', 'Baker', {'f'})\n"
	          "t:add('x', 'Able', {'f'})\n"
	          "local r2 = t:related('q', 3)\n"
	          "assert(r2[1].key == 'x' and r2[2].key == 'z' and r2[3].key == 'y')\n"
	          "local nd, nf = t:size()\n"
	          "assert(nd == 4 and nf == 1)");
	/* Walking the lists gives exactly what scoring every pair gives. */
	expect_ok("local ix, docs = casebook.index(), {}\n"
	          "local w = {}\n"
	          "for f = 1, 40 do w['f' .. f] = (f % 4) + 1 end\n"
	          "for d = 1, 400 do\n"
	          "  local feats = {}\n"
	          "  for _ = 1, 2 + math.random(0, 6) do\n"
	          "    local f = 'f' .. math.random(1, math.random(1, 40))\n"
	          "    feats[f] = w[f]\n"
	          "  end\n"
	          "  docs[d] = {key = 'k' .. d, title = 'T' .. (d % 37), f = feats}\n"
	          "  ix:add(docs[d].key, docs[d].title, feats)\n"
	          "end\n"
	          "for q = 1, 400 do\n"
	          "  local all = {}\n"
	          "  for d = 1, 400 do\n"
	          "    local s = 0\n"
	          "    for f, x in pairs(docs[q].f) do if docs[d].f[f] then s = s + x end end\n"
	          "    if d ~= q and s > 0 then all[#all + 1] = {d = docs[d], s = s} end\n"
	          "  end\n"
	          "  table.sort(all, function(a, b)\n"
	          "    if a.s ~= b.s then return a.s > b.s end\n"
	          "    if a.d.title ~= b.d.title then return a.d.title < b.d.title end\n"
	          "    return a.d.key < b.d.key end)\n"
	          "  local got = ix:related(docs[q].key, 5)\n"
	          "  assert(#got == math.min(5, #all))\n"
	          "  for i, h in ipairs(got) do\n"
	          "    assert(h.key == all[i].d.key and h.score == all[i].s,\n"
	          "           q .. ': ' .. h.key .. ' ' .. h.score .. ' vs ' .. all[i].d.key .. ' ' .. all[i].s)\n"
	          "  end\n"
	          "end");
	expect_error("local ix = casebook.index()\nix:add('a', 'A', {f = -1})", 2,
	             "weight of 'f' must be a positive number");
}

/* idx:rank_all ranks every document at once on several threads: related()
 * then gives exactly the lists it gives without it, for the k and min_score
 * ranked and for others; adding to the index drops the ranking. */
static void test_index_rank_all(void **state)
{
	const char *code = "local ix, keys, first = casebook.index(), {}, nil\n"
	                   "for d = 1, 3000 do\n"
	                   "  local feats = {}\n"
	                   "  for _ = 1, 2 + math.random(0, 5) do\n"
	                   "    local f = 'f' .. math.random(1, math.random(1, 60))\n"
	                   "    feats[f] = (#f % 3) + 1\n"
	                   "  end\n"
	                   "  keys[d] = 'k' .. d\n"
	                   "  ix:add(keys[d], 'T' .. (d % 97), feats)\n"
	                   "  if d == 1 then first = feats end\n"
	                   "end\n"
	                   "local function lists(k, min)\n"
	                   "  local out = {}\n"
	                   "  for i, key in ipairs(keys) do\n"
	                   "    local parts = {}\n"
	                   "    for _, h in ipairs(ix:related(key, k, min)) do\n"
	                   "      parts[#parts + 1] = h.key .. '=' .. h.score .. ':' .. table.concat(h.shared, ',')\n"
	                   "    end\n"
	                   "    out[i] = table.concat(parts, ' ')\n"
	                   "  end\n"
	                   "  return out\n"
	                   "end\n"
	                   "local walked, walked3 = lists(5, 2), lists(3, 0)\n"
	                   "ix:rank_all(5, 2)\n"
	                   "local ranked, other = lists(5, 2), lists(3, 0)\n"
	                   "for i = 1, #keys do\n"
	                   "  assert(ranked[i] == walked[i], keys[i] .. ': ' .. ranked[i] .. ' vs ' .. walked[i])\n"
	                   "  assert(other[i] == walked3[i], keys[i] .. ' (k = 3)')\n"
	                   "end\n"
	                   "assert(walked[1] ~= '' and walked[2] ~= '')\n"
	                   "local heavy = {}\n"
	                   "for f in pairs(first) do heavy[f] = 50 end\n"
	                   "ix:add('k2', 'T2', heavy) -- features added to a document already ranked\n"
	                   "assert(ix:related('k1', 5, 2)[1].key == 'k2', 'the ranking was not dropped')\n"
	                   "ix:rank_all(5, 2)\n"
	                   "ix:add('new', 'New', heavy) -- a new document\n"
	                   "local r = ix:related('k1', 5, 2) -- new and k2 tie: by title, New first\n"
	                   "assert(r[1].key == 'new' and r[2].key == 'k2', 'the ranking was not dropped')\n"
	                   "ix:rank_all(5, 2)\n"
	                   "ix:add('bare', 'Bare', {}) -- a document without features drops it too\n"
	                   "assert(#ix:related('bare', 5, 2) == 0)\n"
	                   "ix:rank_all(1)\n"
	                   "assert(ix:related('new', 1)[1].score >= 50)";

	(void)state;
	expect_ok_threaded(4, code);
	expect_error("local ix = casebook.index()\nix:rank_all(0)", 2, "between 1 and 1000");
}

/* Where the best scores are high (documents with near twins) and some lists
 * long, ranking leaves the long lists out (rank_one): the lists are still
 * exactly those of scoring every pair, ties by title then key included, with
 * weights that are sums of halves and quarters (exact in any order), through
 * related() and through rank_all on several threads. */
static void test_index_pruned(void **state)
{
	const char *code = "local ix, docs = casebook.index(), {}\n"
	                   "for d = 1, 3000 do\n"
	                   "  local f = {all = 0.5, ['half' .. d % 2] = 0.25, ['third' .. d % 3] = 1,\n"
	                   "             ['group' .. d % 200] = 3}\n"
	                   "  for _ = 1, math.random(0, 3) do\n"
	                   "    local r = math.random(1, 300)\n"
	                   "    f['r' .. r] = r % 2 == 0 and 1.5 or 2\n"
	                   "  end\n"
	                   "  docs[d] = {key = 'k' .. d, title = 'T' .. d % 37, f = f}\n"
	                   "  ix:add(docs[d].key, docs[d].title, f)\n"
	                   "end\n"
	                   "local function expect(q, k, min)\n"
	                   "  local all = {}\n"
	                   "  for d = 1, #docs do\n"
	                   "    local s = 0\n"
	                   "    for f, x in pairs(docs[q].f) do if docs[d].f[f] then s = s + x end end\n"
	                   "    if d ~= q and s > 0 and s >= min then all[#all + 1] = {d = docs[d], s = s} end\n"
	                   "  end\n"
	                   "  table.sort(all, function(a, b)\n"
	                   "    if a.s ~= b.s then return a.s > b.s end\n"
	                   "    if a.d.title ~= b.d.title then return a.d.title < b.d.title end\n"
	                   "    return a.d.key < b.d.key end)\n"
	                   "  local got = ix:related(docs[q].key, k, min)\n"
	                   "  assert(#got == math.min(k, #all), docs[q].key .. ': ' .. #got .. ' hits')\n"
	                   "  for i, h in ipairs(got) do\n"
	                   "    assert(h.key == all[i].d.key and h.score == all[i].s,\n"
	                   "           docs[q].key .. ' #' .. i .. ': ' .. h.key .. ' ' .. h.score ..\n"
	                   "           ' vs ' .. all[i].d.key .. ' ' .. all[i].s)\n"
	                   "  end\n"
	                   "end\n"
	                   "for q = 1, 3000, 37 do expect(q, 5, 0) expect(q, 12, 4) end\n"
	                   "ix:rank_all(5)\n"
	                   "for q = 2, 3000, 41 do expect(q, 5, 0) end\n"
	                   "ix:rank_all(20, 3.75)\n"
	                   "for q = 3, 3000, 43 do expect(q, 20, 3.75) end";

	(void)state;
	expect_ok_threaded(3, code);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_random_is_deterministic),
	    cmocka_unit_test(test_print_is_a_note),
	    cmocka_unit_test(test_instruction_budget),
	    cmocka_unit_test(test_budget_is_per_call),
	    cmocka_unit_test(test_memory_cap),
	    cmocka_unit_test(test_allocation_failures),
	    cmocka_unit_test(test_error_objects),
	    cmocka_unit_test(test_errors_in_coroutines),
	    cmocka_unit_test(test_errors_in_metamethods),
	    cmocka_unit_test(test_values_yaml_lua_yaml),
	    cmocka_unit_test(test_values_lua_to_templates),
	    cmocka_unit_test(test_values_frozen),
	    cmocka_unit_test(test_values_refused),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_index_rank_all),
	    cmocka_unit_test(test_index_pruned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
