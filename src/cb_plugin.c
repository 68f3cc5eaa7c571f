/*
 * cb_plugin: the plugin stage (see cb_plugin.h).
 *
 * Each configured plugin gets its own sandboxed state (cb_lua), so its
 * globals, memory cap and instruction budget are its own. The stage:
 *   1. loads every plugin (so that all broken plugins are reported at once);
 *   2. runs each plugin's `case` hook over every case, each plugin on a
 *      thread of its own, pipelined: plugin p takes case i once the plugins
 *      before it are done with it. Their changes to cases are kept per
 *      plugin (cb_stage) and applied in plugin order at the end, and each
 *      plugin reports to a list of its own, merged in plugin order, so what
 *      every plugin sees and what the build reports are those of running
 *      one plugin after another;
 *   3. runs the `site` hooks side by side, each plugin on a thread of its
 *      own, through a stage of their own: a site hook's changes to cases
 *      wait in its layers, its reads of cases and free pages and its changes
 *      to the site wait until the site hooks before it have returned, so it
 *      sees what running them in plugin order would show. A plugin's site
 *      hook starts once its own case hooks are done; until every case hook
 *      is done and their changes are applied, the site hooks' stage is held,
 *      so only what never changes is read meanwhile (crosslink ranks its
 *      related cases while lessons still reads the cases).
 * A plugin that fails stops there (a limit, or too many errors); the other
 * plugins still run so one build reports everything. A plugin whose case
 * hook failed does not get its site hook (it would work on half the data).
 */
#include "cb_plugin.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cb_lua_priv.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_pool.h"
#include "cb_stage.h"
#include "cb_text.h"

/* A plugin that reports this many errors from its hooks is stopped. */
#define MAX_ERRORS 20

/* What the plugins' threads share while their hooks run. */
typedef struct hooks_run {
	cb_site *site;
	cb_stage *cases; /* the case hooks' stage */
	cb_stage *sites; /* the site hooks', held until `cases` is committed */
	size_t left;     /* plugins whose case hooks have not all run */
	double t0, t_cases; /* when the hooks started, when the case hooks were done */
	pthread_mutex_t lock;
} hooks_run;

typedef struct plugin {
	char *name, *path;
	cb_lua *lua;
	cb_lua_host host;
	int case_ref, site_ref;
	size_t errors;
	int stopped;
	int failed;          /* a hook call failed */
	cb_diag_list *case_diags, *site_diags; /* what its hooks report, while they run */
	hooks_run *run;      /* while its hooks run */
	pthread_t thread;
	int threaded;
	int loaded;           /* it had a Lua state (the stats are reported) */
	size_t mem_peak;      /* its state's, once closed */
	double seconds, cpu;  /* in all: loading, case hooks, site hook */
	double case_cpu, site_cpu;
} plugin;


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: each plugin's case hooks run on a thread of their
 * own (and the stages of several editions may run at once). */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where plugin i is named in casebook.yml. */
static void config_pos(const cb_config *cfg, size_t i, unsigned *line, unsigned *col)
{
	const cb_value *list = cb_value_getc(cb_config_value(cfg), "plugins");
	const cb_value *v = NULL;
	size_t k, seen = 0;

	/* cb_config skips entries that are not names: count the names. */
	for (k = 0; k < cb_value_len(list); k++) {
		const cb_value *e = cb_value_at(list, k);
		if (cb_value_type(e) != CB_STRING || !cb_value_cstr(e)[0])
			continue;
		if (seen++ == i) {
			v = e;
			break;
		}
	}
	*line = v ? cb_value_line(v) : 0;
	*col = v ? cb_value_col(v) : 0;
}

static int valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int open_api(lua_State *L)
{
	cb_lua__open_api(L);
	return 0;
}

/* Check what the plugin's chunk returned (below the light userdata) and
 * keep its hooks. Runs protected. */
static int inspect(lua_State *L)
{
	plugin *p = lua_touserdata(L, 2);
	cb_diag_list *diags = cb_site_diags(p->host.site);
	static const char *const known[] = {"name", "description", "version", "case", "site", NULL};

	if (lua_type(L, 1) != LUA_TTABLE)
		return luaL_error(L, "a plugin must return a table {name = ..., case = function(c, "
		                     "site) ... end, site = function(site) ... end}, not %s",
		                  luaL_typename(L, 1));
	lua_getfield(L, 1, "case");
	if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
		return luaL_error(L, "the plugin's 'case' must be a function(c, site)");
	p->case_ref = lua_isfunction(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
	lua_getfield(L, 1, "site");
	if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
		return luaL_error(L, "the plugin's 'site' must be a function(site)");
	p->site_ref = lua_isfunction(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
	lua_getfield(L, 1, "name");
	if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
		return luaL_error(L, "the plugin's 'name' must be a string");
	lua_pop(L, 1);
	/* Unknown fields are probably misspelt hooks. */
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		size_t i;
		int ok = 0;
		for (i = 0; k && known[i]; i++)
			ok |= strcmp(known[i], k) == 0;
		if (k && !ok) {
			const char *s = cb_text_suggest(k, known, 5);
			lua_Debug ar;
			int line = 0;
			if (lua_isfunction(L, -1)) {
				lua_pushvalue(L, -1);
				if (lua_getinfo(L, ">S", &ar))
					line = ar.linedefined;
			}
			cb_diag_add(diags, CB_WARNING, "plugin-field", p->path, (unsigned)line, 0,
			            s ? "did you mean one of: name, case, site?" : NULL,
			            "the plugin's table has an unknown field '%s'%s%s%s (it is ignored)", k,
			            s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* Load plugin p from src. Returns 0 or -1 (reported). */
static int load_plugin(cb_site *site, plugin *p, cb_source *src, const cb_config *cfg)
{
	cb_diag_list *diags = cb_site_diags(site);
	cb_lua_opts o = CB_LUA_OPTS_INIT;
	char *code = NULL;
	size_t len;
	int rc;
	lua_State *L;

	rc = cb_source_read(src, p->path, 4 << 20, &code, &len);
	if (rc < 0) {
		cb_diag_error(diags, "io", p->path, 0, 0, "cannot read: %s", cb_fs_strerror(rc));
		return -1;
	}
	o.name = p->name;
	o.path = p->path;
	o.instructions = cb_config_plugin_instructions(cfg);
	o.memory = (size_t)cb_config_plugin_memory(cfg);
	o.diags = diags;
	p->lua = cb_lua_new(&o);
	p->loaded = p->lua != NULL;
	if (!p->lua) {
		free(code);
		return -1;
	}
	p->lua->host = &p->host;
	L = p->lua->L;
	lua_pushcfunction(L, open_api);
	if (cb_lua__call(p->lua, 0, 0, "while setting up the plugin API") < 0)
		goto fail;
	rc = cb_lua__load(p->lua, code, len, "while loading the plugin");
	free(code);
	code = NULL;
	if (rc < 0)
		goto fail;
	if (cb_lua__call(p->lua, 0, 1, "while loading the plugin") < 0)
		goto fail;
	lua_pushcfunction(L, inspect);
	lua_insert(L, -2);
	lua_pushlightuserdata(L, p);
	if (cb_lua__call(p->lua, 2, 0, "while loading the plugin") < 0)
		goto fail;
	cb_lua__end_call(L);
	return 0;
fail:
	free(code);
	p->stopped = 1;
	p->errors++;
	return -1;
}

/* The protected body of one case hook call: hook(c, site). */
static int call_case(lua_State *L)
{
	const plugin *p = lua_touserdata(L, 1);
	lua_Integer i = lua_tointeger(L, 2);

	lua_rawgeti(L, LUA_REGISTRYINDEX, p->case_ref);
	cb_lua__push_case(L, (size_t)i);
	cb_lua__push_site(L);
	lua_call(L, 2, 0);
	return 0;
}

static int call_site(lua_State *L)
{
	const plugin *p = lua_touserdata(L, 1);

	lua_rawgeti(L, LUA_REGISTRYINDEX, p->site_ref);
	cb_lua__push_site(L);
	lua_call(L, 1, 0);
	return 0;
}

/* After a failed hook call: stop the plugin on a limit or too many errors. */
static void failed(cb_diag_list *diags, plugin *p)
{
	p->errors++;
	if (cb_lua_killed(p->lua)) {
		p->stopped = 1;
	} else if (p->errors >= MAX_ERRORS) {
		cb_diag_error(diags, "plugin-error", p->path, 0, 0, "plugin '%s' stopped after %d errors",
		              p->name, MAX_ERRORS);
		p->stopped = 1;
	}
}

/* Plugin p's case hook over every case, each case once the plugins before
 * it are done with it. Tells the stage when p is done with each case (with
 * all of them when it stops early). */
static void run_cases(plugin *p)
{
	hooks_run *run = p->run;
	cb_site *site = run->site;
	size_t k, n = cb_site_case_count(site), rank = p->host.rank;
	double t0 = now(), c0 = cpu();

	p->lua->diags = p->host.diags = p->case_diags;
	p->host.stage = run->cases;
	p->host.site_hooks = 0;

	for (k = 0; k < n && !p->stopped; k++) {
		lua_State *L = p->lua->L;
		char *context = cb_xasprintf("while processing %s", cb_doc_path(cb_site_case(site, k)));
		cb_stage_wait(run->cases, rank, k);
		p->host.current = k;
		lua_pushcfunction(L, call_case);
		lua_pushlightuserdata(L, p);
		lua_pushinteger(L, (lua_Integer)k);
		if (cb_lua__call(p->lua, 2, 0, context) < 0) {
			failed(p->case_diags, p);
			p->failed = 1;
		}
		cb_lua__end_call(L);
		free(context);
		cb_stage_done(run->cases, rank, k + 1);
	}
	cb_stage_finish(run->cases, rank);
	p->seconds += now() - t0;
	p->case_cpu = cpu() - c0;
	p->cpu += p->case_cpu;
}

/* Plugin p's site hook. Tells the stage when it has returned. */
static void run_site(plugin *p)
{
	lua_State *L = p->lua->L;
	double t0 = now(), c0 = cpu();

	p->lua->diags = p->host.diags = p->site_diags;
	p->host.stage = p->run->sites;
	p->host.site_hooks = 1;
	p->host.current = (size_t)-1; /* a site hook is given no case */
	lua_pushcfunction(L, call_site);
	lua_pushlightuserdata(L, p);
	if (cb_lua__call(p->lua, 1, 0, "in the site hook") < 0) {
		failed(p->site_diags, p);
		p->failed = 1;
	}
	cb_lua__end_call(L);
	cb_stage_finish(p->run->sites, p->host.rank);
	p->seconds += now() - t0;
	p->site_cpu = cpu() - c0;
	p->cpu += p->site_cpu;
}

/* Does plugin p have hooks of this kind to run? A plugin whose earlier
 * hooks failed gets no site hook. */
static int has_hooks(const plugin *p, int site_hooks)
{
	if (p->stopped || !p->lua)
		return 0;
	if (site_hooks)
		return !p->errors && p->site_ref != LUA_NOREF;
	return p->case_ref != LUA_NOREF;
}

/* Apply the changes kept in st to the site's cases. */
static void commit(cb_stage *st, cb_site *site)
{
	size_t i, n = cb_site_case_count(site);
	cb_doc **cases = cb_xcalloc(n + 1, sizeof *cases);

	for (i = 0; i < n; i++)
		cases[i] = cb_site_case(site, i);
	cb_stage_commit(st, cases);
	free(cases);
}

/* Plugin p is done with its case hooks (or has none). The last plugin to be
 * done applies the case hooks' changes and lets the site hooks read. */
static void cases_done(hooks_run *run)
{
	size_t left;

	pthread_mutex_lock(&run->lock);
	left = --run->left;
	pthread_mutex_unlock(&run->lock);
	if (left)
		return;
	commit(run->cases, run->site);
	run->t_cases = now() - run->t0;
	cb_stage_open(run->sites);
}

/* Close plugin p's state once its hooks are done (on its own thread, beside
 * the hooks still running), keeping what the stats need. */
static void close_state(plugin *p)
{
	if (!p->lua)
		return;
	p->mem_peak = cb_lua_memory_peak(p->lua);
	cb_lua_free(p->lua);
	p->lua = NULL;
}

/* Plugin p's case hooks (if any); then it is done with the case hooks. */
static void case_part(plugin *p)
{
	if (has_hooks(p, 0))
		run_cases(p);
	cases_done(p->run);
}

/* Plugin p's site hook (if any); then it is done with the site hooks and
 * its state is closed. */
static void site_part(plugin *p)
{
	if (has_hooks(p, 1))
		run_site(p);
	else
		cb_stage_finish(p->run->sites, p->host.rank);
	close_state(p);
}

/* Plugin p's case hooks, then its site hook, on its own thread. */
static void *hooks_thread(void *arg)
{
	plugin *p = arg;

	case_part(p);
	site_part(p);
	return NULL;
}

/* Every plugin's case hooks over every case, then every plugin's site hook:
 * on a thread per plugin, each going on to its site hook once its case
 * hooks are done (cb_stage.h), or one after another when threads is 1;
 * then the changes applied and the reports merged in plugin order, the case
 * hooks' first. Returns 0, or -1 when a hook call failed. */
static int run_all(cb_site *site, plugin *ps, size_t n, int threads, double *t_cases)
{
	hooks_run run;
	size_t i, first = n;
	int rc = 0;

	run.site = site;
	run.cases = cb_stage_new(n, cb_site_case_count(site));
	run.sites = cb_stage_new(n, cb_site_case_count(site));
	cb_stage_hold(run.sites);
	run.left = n;
	run.t0 = now();
	run.t_cases = 0;
	pthread_mutex_init(&run.lock, NULL);
	for (i = 0; i < n; i++) {
		plugin *p = &ps[i];
		p->host.rank = i;
		p->failed = 0;
		p->run = &run;
		if (!has_hooks(p, 0) && !has_hooks(p, 1)) {
			cb_stage_finish(run.cases, i);
			cb_stage_finish(run.sites, i);
			cases_done(&run);
			p->run = NULL;
			continue;
		}
		if (first == n)
			first = i;
		p->case_diags = cb_diag_list_new();
		p->site_diags = cb_diag_list_new();
		/* The first plugin runs on this thread (its case hooks never
		 * wait), whose memory the later stages reuse once its state is
		 * closed. */
		if (threads != 1 && i > first)
			p->threaded = pthread_create(&p->thread, NULL, hooks_thread, p) == 0;
	}
	/* What could not have a thread runs here, in plugin order: the case
	 * hooks of each, then the site hooks (which wait for every case hook). */
	for (i = 0; i < n; i++)
		if (ps[i].run && !ps[i].threaded)
			case_part(&ps[i]);
	for (i = 0; i < n; i++)
		if (ps[i].run && !ps[i].threaded)
			site_part(&ps[i]);
	for (i = 0; i < n; i++) {
		plugin *p = &ps[i];
		if (p->threaded)
			pthread_join(p->thread, NULL);
		p->threaded = 0;
	}
	for (i = 0; i < 2 * n; i++) {
		plugin *p = &ps[i % n];
		cb_diag_list **l = i < n ? &p->case_diags : &p->site_diags;
		if (*l) {
			cb_diag_list_merge(cb_site_diags(site), *l);
			cb_diag_list_free(*l);
			*l = NULL;
		}
	}
	for (i = 0; i < n; i++) {
		plugin *p = &ps[i];
		if (p->lua)
			p->lua->diags = cb_site_diags(site);
		p->host.diags = cb_site_diags(site);
		p->host.stage = NULL;
		p->host.site_hooks = 0;
		p->run = NULL;
		if (p->failed)
			rc = -1;
	}
	commit(run.sites, site);
	*t_cases = run.t_cases;
	cb_stage_free(run.cases);
	cb_stage_free(run.sites);
	pthread_mutex_destroy(&run.lock);
	return rc;
}

int cb_plugin_run(cb_site *site, int threads)
{
	const cb_config *cfg = cb_site_config(site);
	cb_diag_list *diags = cb_site_diags(site);
	size_t n = cb_config_plugin_count(cfg), i, k;
	plugin *ps;
	double t_cases, t_sites;
	int rc = 0;

	if (n == 0)
		return 0;
	threads = cb_pool_threads(threads);
	ps = cb_xcalloc(n, sizeof *ps);
	for (i = 0; i < n; i++) {
		const char *name = cb_config_plugin(cfg, i);
		cb_source *src;
		unsigned line, col;
		double t0 = now(), c0 = cpu();

		ps[i].name = cb_xstrdup(name);
		ps[i].case_ref = ps[i].site_ref = LUA_NOREF;
		ps[i].host.site = site;
		ps[i].host.plugin = ps[i].name;
		ps[i].host.diags = diags;
		ps[i].host.threads = threads;
		config_pos(cfg, i, &line, &col);
		if (!valid_name(name)) {
			cb_diag_error(diags, "plugin-name", CB_CONFIG_FILE, line, col,
			              "plugin name '%s' may only use a-z, 0-9, '-' and '_'", name);
			ps[i].stopped = 1;
			rc = -1;
			continue;
		}
		for (k = 0; k < i; k++)
			if (strcmp(ps[k].name, name) == 0)
				break;
		if (k < i) {
			cb_diag_error(diags, "plugin-name", CB_CONFIG_FILE, line, col,
			              "plugin '%s' is listed twice", name);
			ps[i].stopped = 1;
			rc = -1;
			continue;
		}
		ps[i].path = cb_xasprintf("plugins/%s.lua", name);
		ps[i].host.path = ps[i].path;
		src = cb_site_lookup(site, ps[i].path);
		if (!src) {
			cb_diag_add(diags, CB_ERROR, "plugin-missing", CB_CONFIG_FILE, line, col,
			            "the default plugins are classify, crosslink and lessons",
			            "plugin '%s' not found (looked for %s in the source and in the "
			            "installed plugins)",
			            name, ps[i].path);
			ps[i].stopped = 1;
			rc = -1;
			continue;
		}
		if (load_plugin(site, &ps[i], src, cfg) < 0)
			rc = -1;
		ps[i].seconds += now() - t0;
		ps[i].cpu += cpu() - c0;
	}

	t_sites = now(); /* the start, then the site hooks' time after the case hooks' */
	if (run_all(site, ps, n, threads, &t_cases) < 0)
		rc = -1;
	t_sites = now() - t_sites - t_cases;
	cb_diag_add(diags, CB_NOTE, "plugin-stats", NULL, 0, 0, NULL,
	            "plugins: case hooks %.2f s, then site hooks %.2f s (%s)", t_cases, t_sites,
	            threads == 1 ? "one plugin after another" : "side by side");

	for (i = 0; i < n; i++) {
		close_state(&ps[i]);
		if (ps[i].loaded)
			cb_diag_add(diags, CB_NOTE, "plugin-stats", ps[i].path, 0, 0, NULL,
			            "plugin '%s': %.3f s (%.3f s of CPU: case hooks %.3f s, site hook "
			            "%.3f s), at most %.1f MB of Lua memory",
			            ps[i].name, ps[i].seconds, ps[i].cpu, ps[i].case_cpu, ps[i].site_cpu,
			            (double)ps[i].mem_peak / (1024.0 * 1024.0));
		free(ps[i].name);
		free(ps[i].path);
	}
	free(ps);
	return rc < 0 || cb_diag_errors(diags) ? -1 : 0;
}
