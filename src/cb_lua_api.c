/*
 * cb_lua_api: the objects plugins see (docs/plugins.md): cases and free
 * pages (`c`), their sections, and the site.
 *
 * Case and page objects are small userdata (a pointer to the cb_doc), one per
 * document for the life of the state, so they can be compared and used as
 * table keys. What they show is made on first access: meta, sections and
 * links are built when a plugin reads them and cached in the object's user
 * value until the hook call ends (cb_lua__end_call), so a plugin that reads
 * 10,000 cases holds one case's worth at a time. Section objects read their
 * text and HTML from the cb_md on each access.
 *
 * Everything a plugin changes goes to the site model through cb_doc and
 * cb_site (vars, facets, omitted sections, pages, data, diagnostics).
 */
#include "cb_lua_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_render.h"
#include "cb_site.h"
#include "cb_stage.h"
#include "cb_text.h"

#define REG_DOCS "casebook.api.docs"        /* cb_doc* -> object */
#define REG_CASES "casebook.api.cases"      /* site.cases */
#define REG_PAGES "casebook.api.pages"      /* site.pages */
#define REG_CONFIG "casebook.api.config"    /* site.config */
#define REG_TAXES "casebook.api.taxes"      /* site.taxonomies */
#define REG_TAXMAP "casebook.api.taxmap"    /* name -> vocabulary */
#define REG_SITE "casebook.api.site"

/* Objects with a cache made in this call. A light userdata key: reading it
 * allocates nothing, so cb_lua__end_call can run outside a protected call. */
static const char touched_key = 0;

typedef struct docud {
	cb_doc *doc;
	long index; /* position in site.cases, or -1 for a free page */
} docud;

typedef struct sectionud {
	cb_doc *doc;
	long index; /* its document's position in site.cases, or -1 */
	size_t i;
} sectionud;

static cb_lua_host *host_of(lua_State *L)
{
	return cb_lua__from(L)->host;
}

static cb_site *site_of(lua_State *L)
{
	return host_of(L)->site;
}

/* While hooks run side by side (cb_stage.h): the stage through which this
 * plugin sees and changes case `index`, or NULL when the document is read
 * and changed directly (hooks one after another; free pages, which have no
 * layers). Waits until the plugins before this one are done with the
 * document. */
static cb_stage *staged(lua_State *L, long index)
{
	cb_lua_host *h = host_of(L);

	if (!h->stage)
		return NULL;
	if (index < 0) {
		/* Case hooks cannot change free pages; site hooks can. */
		if (h->site_hooks)
			cb_stage_wait_all(h->stage, h->rank);
		return NULL;
	}
	if ((size_t)index != h->current)
		cb_stage_wait(h->stage, h->rank, (size_t)index);
	return h->stage;
}

/* A case hook changes only its own case: raise for any other document. */
static void check_own(lua_State *L, const cb_doc *doc, long index, const char *fn)
{
	cb_lua_host *h = host_of(L);

	if (h->stage && !h->site_hooks && (index < 0 || (size_t)index != h->current))
		luaL_error(L, "%s: a case hook may change only the case it was given, not %s (change "
		              "other cases and pages from the site hook)",
		           fn, cb_doc_path(doc));
}

/* A hook that adds to the site (pages, data, site values) waits until the
 * plugins before it are done, so the site gets them in plugin order. */
static void site_change(lua_State *L)
{
	cb_lua_host *h = host_of(L);

	if (h->stage)
		cb_stage_wait_all(h->stage, h->rank);
}

/* {=================================================================
 * small helpers
 * ================================================================== */

static int buf_gc(lua_State *L)
{
	cb_buf *b = cb_lua__checkudata(L, 1, CB_LUA_BUF);

	cb_buf_dispose(b);
	return 0;
}

/* A cb_buf inside a userdata on the stack: if Lua raises while it holds
 * memory, the collector frees it. [-0, +1, m] */
static cb_buf *push_box(lua_State *L)
{
	cb_buf *b = lua_newuserdatauv(L, sizeof *b, 0);
	cb_buf init = CB_BUF_INIT;

	*b = init;
	cb_lua__setmetatable(L, CB_LUA_BUF);
	return b;
}

/* Replace the box on top with the string it holds. [-1, +1, m] */
static void box_to_string(lua_State *L, cb_buf *b)
{
	lua_pushlstring(L, b->ptr, b->len);
	cb_buf_dispose(b);
	lua_remove(L, -2);
}

/* Raise "<what> has no field 'k'", with a suggestion from names. */
static int no_field(lua_State *L, const char *what, const char *k, const char *const *names)
{
	size_t n = 0;
	const char *s;

	while (names[n])
		n++;
	s = cb_text_suggest(k, names, n);
	if (s)
		return luaL_error(L, "%s has no field '%s' (did you mean '%s'?)", what, k, s);
	return luaL_error(L, "%s has no field '%s'", what, k);
}

static int read_only(lua_State *L)
{
	return luaL_error(L, "%s objects are read-only (use c:set(key, value) for values "
	                     "templates show)",
	                  luaL_typename(L, 1));
}

/* Convert argument idx to a value or raise naming the call. Caller unrefs.
 * The value must be unref'd before anything that can raise. */
static cb_value *check_value(lua_State *L, int idx, const char *fn, const char *key)
{
	char err[256];
	cb_value *v = cb_lua__to_value(L, idx, err, sizeof err);

	if (!v)
		luaL_error(L, "%s('%s'): %s", fn, key, err);
	return v;
}

/* Keys plugins may use for values: letters, digits, '_' and '-'. */
static int check_key(lua_State *L, int idx, const char *fn)
{
	size_t len, i;
	const char *k = luaL_checklstring(L, idx, &len);

	for (i = 0; i < len; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			break;
	}
	if (len == 0 || i < len)
		return luaL_error(L, "%s: key '%s' may only use letters, digits, '_' and '-'", fn, k);
	return 0;
}

/* }================================================================= */

/* {=================================================================
 * documents (cases and free pages)
 * ================================================================== */

static docud *check_doc(lua_State *L, int idx)
{
	return cb_lua__checkudata(L, idx, CB_LUA_DOC);
}

/* Push the object of doc, creating it on first use. */
static void push_doc(lua_State *L, cb_doc *doc, long index)
{
	lua_getfield(L, LUA_REGISTRYINDEX, REG_DOCS); /* -- docs */
	if (lua_rawgetp(L, -1, doc) == LUA_TNIL) {
		docud *d;
		lua_pop(L, 1);
		d = lua_newuserdatauv(L, sizeof *d, 1);
		d->doc = doc;
		d->index = index;
		cb_lua__setmetatable(L, CB_LUA_DOC);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, -3, doc); /* -- docs, obj */
	}
	lua_remove(L, -2);
}

void cb_lua__push_case(lua_State *L, size_t i)
{
	push_doc(L, cb_site_case(site_of(L), i), (long)i);
}

cb_value *cb_lua__doc_value(lua_State *L, int idx)
{
	const docud *d = cb_lua__testudata(L, idx, CB_LUA_DOC);
	cb_value *m;

	if (!d)
		return NULL;
	m = cb_value_new_map();
	cb_value_set_str(m, "slug", cb_doc_slug(d->doc));
	cb_value_set_str(m, "title", cb_doc_title(d->doc));
	cb_value_set_str(m, "url", cb_doc_url(d->doc));
	cb_value_set_str(m, "path", cb_doc_path(d->doc));
	return m;
}

/* Push the object's cache table, creating it (and noting the object as
 * touched in this call) when there is none. [-0, +1, m] */
static void push_cache(lua_State *L, int obj)
{
	obj = lua_absindex(L, obj);
	if (lua_getiuservalue(L, obj, 1) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_createtable(L, 0, 4);
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, obj, 1); /* -- cache */
	lua_rawgetp(L, LUA_REGISTRYINDEX, &touched_key);
	lua_pushvalue(L, obj);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
}

void cb_lua__end_call(lua_State *L)
{
	lua_Integer i, n;

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &touched_key) != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	n = (lua_Integer)lua_rawlen(L, -1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		lua_pushnil(L);
		lua_setiuservalue(L, -2, 1);
		lua_pop(L, 1);
		lua_pushnil(L);
		lua_rawseti(L, -2, i); /* no allocation: the slot exists */
	}
	lua_pop(L, 1);
}

static void push_section(lua_State *L, int docobj, cb_doc *doc, size_t i)
{
	sectionud *s;

	docobj = lua_absindex(L, docobj);
	s = lua_newuserdatauv(L, sizeof *s, 1);
	s->doc = doc;
	s->index = check_doc(L, docobj)->index;
	s->i = i;
	cb_lua__setmetatable(L, CB_LUA_SECTION);
	lua_pushvalue(L, docobj);
	lua_setiuservalue(L, -2, 1); /* pins the document object */
}

/* Push the list of all section objects of the document at obj (cached). */
static void push_all_sections(lua_State *L, int obj)
{
	const docud *d = check_doc(L, obj);
	const cb_md *md = cb_doc_md(d->doc);
	size_t i, n = cb_md_section_count(md);

	obj = lua_absindex(L, obj);
	push_cache(L, obj);
	if (lua_getfield(L, -1, "_all") == LUA_TTABLE) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 1);
	lua_createtable(L, n > 1000000 ? 0 : (int)n, 0); /* -- cache, all */
	for (i = 0; i < n; i++) {
		push_section(L, obj, d->doc, i);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "_all");
	lua_remove(L, -2);
}

/* Push the sections whose parent is `parent` (-1: the top level). A
 * section's descendants follow it up to the next section of its level or
 * higher, so only those are looked at (linear over a whole document). */
static void push_children(lua_State *L, int obj, cb_doc *doc, int parent)
{
	const cb_md *md = cb_doc_md(doc);
	size_t i, n = cb_md_section_count(md);
	int level = parent < 0 ? 0 : cb_md_section_at(md, (size_t)parent)->level;
	lua_Integer k = 0;

	push_all_sections(L, obj); /* -- all */
	lua_newtable(L);           /* -- all, list */
	for (i = parent < 0 ? 0 : (size_t)parent + 1; i < n; i++) {
		if (parent >= 0 && cb_md_section_at(md, i)->level <= level)
			break;
		if (cb_md_section_at(md, i)->parent == parent) {
			lua_rawgeti(L, -2, (lua_Integer)i + 1);
			lua_rawseti(L, -2, ++k);
		}
	}
	lua_remove(L, -2);
}

static const char *link_kind(const cb_md_link *l, const char **target)
{
	*target = NULL;
	switch (l->kind) {
	case CB_LINK_EXTERNAL:
		return "external";
	case CB_LINK_ANCHOR:
		return "anchor";
	case CB_LINK_DOC:
		if (strncmp(l->target, "content/cases/", 14) == 0 && !strchr(l->target + 14, '/')) {
			*target = l->target + 14;
			return "case";
		}
		if (strncmp(l->target, "content/pages/", 14) == 0 && !strchr(l->target + 14, '/')) {
			*target = l->target + 14;
			return "page";
		}
		/* FALLTHROUGH */
	case CB_LINK_FILE:
		*target = l->target;
		return "file";
	}
	return "external";
}

static void push_links(lua_State *L, const cb_doc *doc)
{
	const cb_md *md = cb_doc_md(doc);
	size_t i, n = cb_md_link_count(md);

	lua_createtable(L, n > 1000000 ? 0 : (int)n, 0);
	for (i = 0; i < n; i++) {
		const cb_md_link *l = cb_md_link_at(md, i);
		const char *target;
		const char *kind = link_kind(l, &target);

		lua_createtable(L, 0, 10);
		lua_pushstring(L, kind);
		lua_setfield(L, -2, "kind");
		lua_pushstring(L, l->url);
		lua_setfield(L, -2, "url");
		lua_pushstring(L, l->text ? l->text : "");
		lua_setfield(L, -2, "text");
		if (target && (strcmp(kind, "case") == 0 || strcmp(kind, "page") == 0)) {
			/* the slug: the file name without ".md" */
			lua_pushlstring(L, target, strlen(target) - 3);
			lua_setfield(L, -2, "target");
			lua_pushstring(L, l->target);
			lua_setfield(L, -2, "path");
		} else if (target) {
			lua_pushstring(L, target);
			lua_setfield(L, -2, "target");
			lua_pushstring(L, target);
			lua_setfield(L, -2, "path");
		}
		if (l->anchor) {
			lua_pushstring(L, l->anchor);
			lua_setfield(L, -2, "anchor");
		}
		lua_pushinteger(L, l->line);
		lua_setfield(L, -2, "line");
		lua_pushinteger(L, l->col);
		lua_setfield(L, -2, "col");
		lua_pushboolean(L, l->image);
		lua_setfield(L, -2, "image");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static const char *const doc_names[] = {
    "slug", "title", "path", "url",   "kind",  "index", "meta",  "sections", "links", "facets",
    "text", "set",   "get",  "facet", "omit",  "section", "where", NULL};

static int doc_index(lua_State *L)
{
	docud *d = check_doc(L, 1);
	const char *k = luaL_checkstring(L, 2);
	cb_doc *doc = d->doc;

	if (lua_getfield(L, lua_upvalueindex(1), k) != LUA_TNIL) /* a method */
		return 1;
	lua_pop(L, 1);
	if (strcmp(k, "slug") == 0) {
		lua_pushstring(L, cb_doc_slug(doc));
	} else if (strcmp(k, "title") == 0) {
		lua_pushstring(L, cb_doc_title(doc));
	} else if (strcmp(k, "path") == 0) {
		lua_pushstring(L, cb_doc_path(doc));
	} else if (strcmp(k, "url") == 0) {
		lua_pushstring(L, cb_doc_url(doc));
	} else if (strcmp(k, "kind") == 0) {
		lua_pushstring(L, d->index >= 0 ? "case" : "page");
	} else if (strcmp(k, "index") == 0) {
		if (d->index >= 0)
			lua_pushinteger(L, (lua_Integer)d->index + 1);
		else
			lua_pushnil(L);
	} else if (strcmp(k, "meta") == 0 || strcmp(k, "links") == 0) {
		push_cache(L, 1); /* -- cache */
		if (lua_getfield(L, -1, k) == LUA_TNIL) {
			lua_pop(L, 1);
			if (k[0] == 'm')
				cb_lua__push_value(L, cb_doc_meta(doc));
			else
				push_links(L, doc);
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, k);
		}
	} else if (strcmp(k, "sections") == 0) {
		push_cache(L, 1);
		if (lua_getfield(L, -1, "sections") == LUA_TNIL) {
			lua_pop(L, 1);
			push_children(L, 1, doc, -1);
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, "sections");
		}
	} else if (strcmp(k, "facets") == 0) {
		cb_stage *st = staged(L, d->index);
		cb_value *made = NULL;
		cb_lua__push_value(L, st ? cb_stage_facets(st, host_of(L)->rank, (size_t)d->index, doc,
		                                           &made)
		                         : cb_doc_facets(doc));
		cb_value_unref(made);
	} else if (strcmp(k, "text") == 0) {
		lua_pushstring(L, cb_md_text(cb_doc_md(doc)));
	} else {
		return no_field(L, d->index >= 0 ? "a case" : "a page", k, doc_names);
	}
	return 1;
}

static int doc_tostring(lua_State *L)
{
	docud *d = check_doc(L, 1);

	lua_pushfstring(L, "%s %s", d->index >= 0 ? "case" : "page", cb_doc_path(d->doc));
	return 1;
}

static docud *check_case(lua_State *L, const char *fn)
{
	docud *d = check_doc(L, 1);

	if (d->index < 0)
		luaL_error(L, "%s works on cases, not on free pages (%s)", fn, cb_doc_path(d->doc));
	return d;
}

/* c:set(key, value) */
static int doc_set(lua_State *L)
{
	docud *d = check_case(L, "c:set");
	const char *key;
	size_t i;
	cb_value *v;

	check_key(L, 2, "c:set");
	key = lua_tostring(L, 2);
	for (i = 0; cb_render_case_keys[i]; i++)
		if (strcmp(cb_render_case_keys[i], key) == 0)
			return luaL_error(L, "c:set: '%s' is filled by casebook itself and cannot be set by a "
			                     "plugin (choose another key)",
			                  key);
	check_own(L, d->doc, d->index, "c:set");
	v = check_value(L, 3, "c:set", key);
	if (host_of(L)->stage)
		cb_stage_set_var(host_of(L)->stage, host_of(L)->rank, (size_t)d->index, key, v);
	else
		cb_doc_set_var(d->doc, key, v);
	return 0;
}

/* c:get(key): a value set with c:set (by any plugin), or nil. */
static int doc_get(lua_State *L)
{
	docud *d = check_doc(L, 1);
	const char *key = luaL_checkstring(L, 2);
	cb_stage *st = staged(L, d->index);
	const cb_value *v = st ? cb_stage_var(st, host_of(L)->rank, (size_t)d->index, d->doc, key)
	                       : cb_value_getc(cb_doc_vars(d->doc), key);

	cb_lua__push_value(L, v);
	return 1;
}

/* The vocabulary's term ids, for checks and suggestions. */
static const cb_value *find_term(const cb_value *tax, const char *term, const char ***ids,
                                 size_t *n)
{
	const cb_value *terms = cb_value_getc(tax, "terms");
	size_t i;

	*n = 0;
	if (ids)
		*ids = NULL;
	for (i = 0; i < cb_value_len(terms); i++) {
		const cb_value *t = cb_value_at(terms, i);
		const char *id = cb_value_cstr(cb_value_getc(t, "id"));
		if (id && strcmp(id, term) == 0)
			return t;
	}
	if (ids) {
		*ids = cb_xcalloc(cb_value_len(terms) + 1, sizeof(char *));
		for (i = 0; i < cb_value_len(terms); i++) {
			const char *id = cb_value_cstr(cb_value_getc(cb_value_at(terms, i), "id"));
			if (id)
				(*ids)[(*n)++] = id;
		}
	}
	return NULL;
}

/* The facet entries ({term, derived}) this state has made, shared by every
 * case given the same one (a map "derived\037term" -> entry), kept in the
 * registry and dropped with the state. Cases of 10,000 get about 60,000. */
#define FACETS_KEY "casebook.facet_entries"

static int facets_gc(lua_State *L)
{
	cb_value **box = lua_touserdata(L, 1);

	cb_value_unref(*box);
	*box = NULL;
	return 0;
}

/* A reference to the shared entry for term and derived. */
static cb_value *shared_facet_entry(lua_State *L, const char *term, int derived)
{
	cb_value **box, *e;
	char *key;

	if (lua_rawgetp(L, LUA_REGISTRYINDEX, FACETS_KEY) == LUA_TUSERDATA) { /* -- box */
		box = lua_touserdata(L, -1);
	} else {
		lua_pop(L, 1);
		box = lua_newuserdatauv(L, sizeof *box, 0); /* -- box */
		*box = cb_value_new_map();
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, facets_gc);
		lua_setfield(L, -2, "__gc");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_rawsetp(L, LUA_REGISTRYINDEX, FACETS_KEY);
	}
	lua_pop(L, 1); /* -- */
	key = cb_xasprintf("%d\037%s", derived != 0, term);
	if (!(e = cb_value_getc(*box, key))) {
		e = cb_doc_facet_entry(term, derived);
		cb_value_setc(*box, key, e);
	}
	free(key);
	return cb_value_ref(e);
}

/* c:facet(taxonomy, term [, derived]) */
static int doc_facet(lua_State *L)
{
	docud *d = check_case(L, "c:facet");
	const char *tax = luaL_checkstring(L, 2);
	const char *term = luaL_checkstring(L, 3);
	int derived = lua_toboolean(L, 4);
	const cb_value *t = cb_site_taxonomy(site_of(L), tax);
	cb_stage *st;
	const char **ids = NULL;
	const char *sugg;
	size_t n;
	char msg[512];

	if (!t) {
		size_t i, nt = cb_site_taxonomy_count(site_of(L));
		const char **names = cb_xcalloc(nt + 1, sizeof(char *));
		for (i = 0; i < nt; i++)
			cb_site_taxonomy_at(site_of(L), i, &names[i], NULL);
		sugg = cb_text_suggest(tax, names, nt);
		snprintf(msg, sizeof msg, "c:facet: no vocabulary '%s' (content/taxonomies/%s.yml)%s%s%s",
		         tax, tax, sugg ? "; did you mean '" : "", sugg ? sugg : "", sugg ? "'?" : "");
		free(names);
		return luaL_error(L, "%s", msg);
	}
	if (!find_term(t, term, &ids, &n)) {
		sugg = cb_text_suggest(term, ids, n);
		snprintf(msg, sizeof msg, "c:facet: '%s' is not a term of the vocabulary '%s'%s%s%s", term,
		         tax, sugg ? "; did you mean '" : "", sugg ? sugg : "", sugg ? "'?" : "");
		free(ids);
		return luaL_error(L, "%s", msg);
	}
	check_own(L, d->doc, d->index, "c:facet");
	if ((st = staged(L, d->index)) != NULL) /* it reads the layers before this plugin's */
		cb_stage_add_facet(st, host_of(L)->rank, (size_t)d->index, d->doc, tax,
		                   shared_facet_entry(L, term, derived));
	else
		cb_doc_add_facet_entry(d->doc, tax, shared_facet_entry(L, term, derived));
	return 0;
}

/* c:omit(section_id) */
static int doc_omit(lua_State *L)
{
	docud *d = check_doc(L, 1);
	const char *id = luaL_checkstring(L, 2);
	const cb_md *md = cb_doc_md(d->doc);
	size_t i, n = cb_md_section_count(md);

	check_own(L, d->doc, d->index, "c:omit");
	for (i = 0; i < n; i++)
		if (strcmp(cb_md_section_at(md, i)->id, id) == 0)
			break;
	if (i == n)
		return luaL_error(L, "c:omit: %s has no section with id '%s'", cb_doc_path(d->doc), id);
	if (host_of(L)->stage && d->index >= 0) {
		cb_stage_omit(host_of(L)->stage, host_of(L)->rank, (size_t)d->index, i);
	} else {
		staged(L, d->index); /* a free page in the site hooks: wait for those before */
		cb_doc_omit_section(d->doc, id);
	}
	return 0;
}

/* c:section(id): the section object with this heading id, or nil. */
static int doc_section(lua_State *L)
{
	docud *d = check_doc(L, 1);
	const char *id = luaL_checkstring(L, 2);
	const cb_md *md = cb_doc_md(d->doc);
	size_t i, n = cb_md_section_count(md);

	for (i = 0; i < n; i++)
		if (strcmp(cb_md_section_at(md, i)->id, id) == 0) {
			push_all_sections(L, 1);
			lua_rawgeti(L, -1, (lua_Integer)i + 1);
			return 1;
		}
	lua_pushnil(L);
	return 1;
}

/* Push {line, col, key_line, key_col}: where value v was written (when
 * that is not known, where its key was), and where the key of entry `at`
 * of map was (a misspelt key is reported there). Returns 1. */
static int push_where(lua_State *L, const cb_value *v, const cb_value *map, size_t at)
{
	unsigned line = cb_value_line(v), col = cb_value_col(v), kline = 0, kcol = 0;

	if (map && at < cb_value_len(map)) {
		kline = cb_value_key_line(map, at);
		kcol = cb_value_key_col(map, at);
	}
	if (!line) {
		line = kline;
		col = kcol;
	}
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, line);
	lua_setfield(L, -2, "line");
	lua_pushinteger(L, col);
	lua_setfield(L, -2, "col");
	if (kline) {
		lua_pushinteger(L, kline);
		lua_setfield(L, -2, "key_line");
		lua_pushinteger(L, kcol);
		lua_setfield(L, -2, "key_col");
	}
	return 1;
}

/* c:where(field [, i]): {line, col} of a front-matter value (the i-th item
 * of a list), or nil when the field is absent. */
static int doc_where(lua_State *L)
{
	docud *d = check_doc(L, 1);
	const char *field = luaL_checkstring(L, 2);
	lua_Integer item = luaL_optinteger(L, 3, 0);
	const cb_value *meta = cb_doc_meta(d->doc);
	const cb_value *v = cb_value_getc(meta, field);
	size_t i;

	if (!v) {
		lua_pushnil(L);
		return 1;
	}
	if (item > 0 && cb_value_type(v) == CB_LIST && (size_t)item <= cb_value_len(v))
		v = cb_value_at(v, (size_t)item - 1);
	for (i = 0; i < cb_value_len(meta); i++)
		if (strcmp(cb_value_key(meta, i, NULL), field) == 0)
			break;
	return push_where(L, v, meta, i);
}

/* }================================================================= */

/* {=================================================================
 * sections
 * ================================================================== */

static const char *const section_names[] = {"title", "html_title", "id",       "level",
                                            "line",  "text",       "html",     "items",
                                            "children", "parent",  "omitted",  NULL};

static int section_index(lua_State *L)
{
	sectionud *su = cb_lua__checkudata(L, 1, CB_LUA_SECTION);
	const char *k = luaL_checkstring(L, 2);
	const cb_md *md = cb_doc_md(su->doc);
	const cb_md_section *s = cb_md_section_at(md, su->i);
	size_t i;

	if (strcmp(k, "title") == 0) {
		lua_pushstring(L, s->title);
	} else if (strcmp(k, "html_title") == 0) {
		lua_pushstring(L, s->html_title ? s->html_title : "");
	} else if (strcmp(k, "id") == 0) {
		lua_pushstring(L, s->id);
	} else if (strcmp(k, "level") == 0) {
		lua_pushinteger(L, s->level);
	} else if (strcmp(k, "line") == 0) {
		lua_pushinteger(L, s->line);
	} else if (strcmp(k, "text") == 0) {
		lua_pushlstring(L, s->text ? s->text : "", s->text ? s->text_len : 0);
	} else if (strcmp(k, "html") == 0) {
		cb_buf *b = push_box(L);
		cb_md_html_range(md, s->block + 1, s->end, b);
		box_to_string(L, b);
	} else if (strcmp(k, "items") == 0) {
		lua_createtable(L, (int)s->n_items, 0);
		for (i = 0; i < s->n_items; i++) {
			const cb_md_item *it = &s->items[i];

			lua_createtable(L, 0, 6);
			lua_pushlstring(L, it->text, it->text_len);
			lua_setfield(L, -2, "text");
			lua_pushlstring(L, it->html, it->html_len);
			lua_setfield(L, -2, "html");
			lua_pushinteger(L, it->line);
			lua_setfield(L, -2, "line");
			lua_pushinteger(L, it->col);
			lua_setfield(L, -2, "col");
			if (it->end_line) {
				lua_pushinteger(L, it->end_line);
				lua_setfield(L, -2, "end_line");
				lua_pushinteger(L, it->end_col);
				lua_setfield(L, -2, "end_col");
			}
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else if (strcmp(k, "children") == 0) {
		lua_getiuservalue(L, 1, 1); /* -- doc object */
		push_children(L, -1, su->doc, (int)su->i);
	} else if (strcmp(k, "parent") == 0) {
		if (s->parent < 0) {
			lua_pushnil(L);
		} else {
			lua_getiuservalue(L, 1, 1);
			push_all_sections(L, -1);
			lua_rawgeti(L, -1, s->parent + 1);
		}
	} else if (strcmp(k, "omitted") == 0) {
		cb_stage *st = staged(L, su->index);
		lua_pushboolean(L, st ? cb_stage_omitted(st, host_of(L)->rank, (size_t)su->index, su->doc,
		                                         su->i)
		                      : cb_doc_section_omitted(su->doc, su->i));
	} else {
		return no_field(L, "a section", k, section_names);
	}
	return 1;
}

static int section_tostring(lua_State *L)
{
	sectionud *su = cb_lua__checkudata(L, 1, CB_LUA_SECTION);
	const cb_md_section *s = cb_md_section_at(cb_doc_md(su->doc), su->i);

	lua_pushfstring(L, "section '%s' (%s:%d)", s->title, cb_doc_path(su->doc), (int)s->line);
	return 1;
}

/* }================================================================= */

/* {=================================================================
 * the site
 * ================================================================== */

/* Push registry[key], building it with build() on first use. */
static void push_cached(lua_State *L, const char *key, void (*build)(lua_State *L))
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TNIL)
		return;
	lua_pop(L, 1);
	build(L);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, key);
}

static void build_cases(lua_State *L)
{
	cb_site *site = site_of(L);
	size_t i, n = cb_site_case_count(site);

	lua_createtable(L, n > 10000000 ? 0 : (int)n, 0);
	for (i = 0; i < n; i++) {
		cb_lua__push_case(L, i);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void build_pages(lua_State *L)
{
	cb_site *site = site_of(L);
	size_t i, n = cb_site_page_count(site);

	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		push_doc(L, cb_site_page(site, i), -1);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void build_config(lua_State *L)
{
	cb_lua__push_value(L, cb_config_value(cb_site_config(site_of(L))));
}

static void build_taxes(lua_State *L)
{
	cb_site *site = site_of(L);
	size_t i, n = cb_site_taxonomy_count(site);

	lua_createtable(L, (int)n, 0); /* -- list */
	lua_createtable(L, 0, (int)n); /* -- list, map */
	for (i = 0; i < n; i++) {
		const char *name, *path;
		const cb_value *t = cb_site_taxonomy_at(site, i, &name, &path);
		cb_lua__push_value(L, t);
		lua_pushstring(L, path);
		lua_setfield(L, -2, "path");
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, name);
		lua_rawseti(L, -3, (lua_Integer)i + 1);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, REG_TAXMAP);
}

static void check_site(lua_State *L)
{
	cb_lua__checkudata(L, 1, CB_LUA_SITE);
}

static const char *const site_names[] = {
    "cases", "pages", "config", "settings", "name",  "taxonomies", "case",  "doc",
    "taxonomy", "page", "data", "set",      "error", "warn",       "note",  "where", NULL};

static int site_index(lua_State *L)
{
	const char *k;

	check_site(L);
	k = luaL_checkstring(L, 2);
	if (lua_getfield(L, lua_upvalueindex(1), k) != LUA_TNIL)
		return 1;
	lua_pop(L, 1);
	if (strcmp(k, "cases") == 0) {
		push_cached(L, REG_CASES, build_cases);
	} else if (strcmp(k, "pages") == 0) {
		push_cached(L, REG_PAGES, build_pages);
	} else if (strcmp(k, "config") == 0) {
		push_cached(L, REG_CONFIG, build_config);
	} else if (strcmp(k, "settings") == 0) {
		push_cached(L, REG_CONFIG, build_config);
		if (lua_getfield(L, -1, host_of(L)->plugin) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
		}
	} else if (strcmp(k, "name") == 0) {
		lua_pushstring(L, host_of(L)->plugin);
	} else if (strcmp(k, "taxonomies") == 0) {
		push_cached(L, REG_TAXES, build_taxes);
	} else {
		return no_field(L, "the site", k, site_names);
	}
	return 1;
}

static int site_tostring(lua_State *L)
{
	lua_pushfstring(L, "site (%d cases)", (int)cb_site_case_count(site_of(L)));
	return 1;
}

/* site:case(slug): the case, or nil. */
static int site_case(lua_State *L)
{
	const char *slug;
	long i;

	check_site(L);
	slug = luaL_checkstring(L, 2);
	i = cb_site_case_index(site_of(L), slug);
	if (i < 0)
		lua_pushnil(L);
	else
		cb_lua__push_case(L, (size_t)i);
	return 1;
}

/* site:doc(path): the case or free page with this source path, or nil. */
static int site_doc(lua_State *L)
{
	cb_site *site = site_of(L);
	const char *path;
	size_t len;

	check_site(L);
	path = luaL_checklstring(L, 2, &len);
	if (len > 17 && strncmp(path, "content/cases/", 14) == 0 &&
	    strcmp(path + len - 3, ".md") == 0) {
		char *slug = cb_xstrndup(path + 14, len - 17);
		long i = cb_site_case_index(site, slug);
		free(slug);
		if (i >= 0) {
			cb_lua__push_case(L, (size_t)i);
			return 1;
		}
	} else if (len > 17 && strncmp(path, "content/pages/", 14) == 0 &&
	           strcmp(path + len - 3, ".md") == 0) {
		char *name = cb_xstrndup(path + 14, len - 17);
		cb_doc *p = cb_site_page_by_name(site, name);
		free(name);
		if (p) {
			push_doc(L, p, -1);
			return 1;
		}
	}
	lua_pushnil(L);
	return 1;
}

/* site:where(key, ...): {line, col} in casebook.yml of the plugin's setting
 * site.settings[key][...] (a string key into a map, a number into a list),
 * or nil when there is no such setting. Like c:where, the value's position,
 * else its key's, and the key's as key_line and key_col. */
static int site_where(lua_State *L)
{
	const cb_value *v, *map = NULL;
	int n = lua_gettop(L), i;
	size_t at = 0;

	check_site(L);
	v = cb_value_getc(cb_config_value(cb_site_config(site_of(L))), host_of(L)->plugin);
	for (i = 2; i <= n && v; i++) {
		map = NULL;
		if (lua_type(L, i) == LUA_TNUMBER) {
			lua_Integer item = luaL_checkinteger(L, i);
			v = cb_value_type(v) == CB_LIST && item >= 1 && (size_t)item <= cb_value_len(v)
			            ? cb_value_at(v, (size_t)item - 1)
			            : NULL;
		} else {
			size_t kl, l2;
			const char *key = luaL_checklstring(L, i, &kl);
			const cb_value *m = cb_value_type(v) == CB_MAP ? v : NULL;

			v = NULL;
			for (at = 0; m && at < cb_value_len(m); at++) {
				const char *k2 = cb_value_key(m, at, &l2);
				if (l2 == kl && memcmp(k2, key, kl) == 0) {
					v = cb_value_entry(m, at);
					map = m;
					break;
				}
			}
		}
	}
	if (!v || n < 2) {
		lua_pushnil(L);
		return 1;
	}
	return push_where(L, v, map, at);
}

/* site:taxonomy(name): the vocabulary (a table), or nil. */
static int site_taxonomy(lua_State *L)
{
	const char *name;

	check_site(L);
	name = luaL_checkstring(L, 2);
	push_cached(L, REG_TAXES, build_taxes);
	lua_getfield(L, LUA_REGISTRYINDEX, REG_TAXMAP);
	lua_getfield(L, -1, name);
	return 1;
}

/* Is path one of the pages casebook itself makes (or in a folder it owns)? */
static int core_path(cb_site *site, const char *path)
{
	size_t i;

	for (i = 0; cb_render_core_paths[i]; i++) {
		const char *c = cb_render_core_paths[i];
		size_t n = strlen(c);
		if (c[n - 1] == '/' ? strncmp(path, c, n) == 0 : strcmp(path, c) == 0)
			return 1;
	}
	for (i = 0; i < cb_site_page_count(site); i++)
		if (strcmp(cb_doc_url(cb_site_page(site, i)), path) == 0)
			return 1;
	return 0;
}

/* site:page{path=, template=, title=, data=, nav=, nav_order=} */
static int site_page(lua_State *L)
{
	cb_site *site = site_of(L);
	const char *path, *tmpl, *title = NULL, *nav_title = NULL;
	lua_Integer order = 50;
	cb_value *data;
	size_t i, tl;

	check_site(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getfield(L, 2, "path");      /* 3 */
	lua_getfield(L, 2, "template");  /* 4 */
	lua_getfield(L, 2, "title");     /* 5 */
	lua_getfield(L, 2, "data");      /* 6 */
	lua_getfield(L, 2, "nav");       /* 7 */
	lua_getfield(L, 2, "nav_order"); /* 8 */
	if (lua_type(L, 3) != LUA_TSTRING)
		return luaL_error(L, "site:page: give the page's path (path = \"x/y.html\")");
	path = lua_tostring(L, 3);
	if (lua_type(L, 4) != LUA_TSTRING)
		return luaL_error(L, "site:page: give the template (template = \"name\" for "
		                     "themes/<theme>/templates/name.mustache)");
	tmpl = lua_tolstring(L, 4, &tl);
	for (i = 0; i < tl; i++)
		if (!((tmpl[i] >= 'a' && tmpl[i] <= 'z') || (tmpl[i] >= '0' && tmpl[i] <= '9') ||
		      tmpl[i] == '-' || tmpl[i] == '_'))
			return luaL_error(L, "site:page: template name '%s' may only use a-z, 0-9, '-' and "
			                     "'_'",
			                  tmpl);
	if (cb_site_templates(site) && !cb_value_get(cb_site_templates(site), tmpl, tl)) {
		const cb_value *names = cb_site_templates(site);
		const char *theme = cb_config_theme(cb_site_config(site)), *sugg, **list;
		size_t n = cb_value_len(names);

		list = lua_newuserdatauv(L, (n ? n : 1) * sizeof *list, 0);
		for (i = 0; i < n; i++)
			list[i] = cb_value_key(names, i, NULL);
		sugg = cb_text_suggest(tmpl, list, n);
		return luaL_error(L, "site:page: the theme '%s' has no template '%s'%s%s%s (looked for "
		                     "themes/%s/templates/%s.mustache%s)",
		                  theme, tmpl, sugg ? "; did you mean '" : "", sugg ? sugg : "",
		                  sugg ? "'?" : "", theme, tmpl,
		                  strcmp(theme, "default") ? " and in the default theme" : "");
	}
	if (!lua_isnil(L, 5) && lua_type(L, 5) != LUA_TSTRING)
		return luaL_error(L, "site:page: title must be a string");
	title = lua_tostring(L, 5);
	if (lua_type(L, 7) == LUA_TSTRING)
		nav_title = lua_tostring(L, 7);
	else if (lua_toboolean(L, 7))
		nav_title = title;
	if (!lua_isnil(L, 8)) {
		if (!lua_isinteger(L, 8))
			return luaL_error(L, "site:page: nav_order must be an integer");
		order = lua_tointeger(L, 8);
	}
	site_change(L);
	if (core_path(site, path))
		return luaL_error(L, "site:page: '%s' is a page or folder casebook makes itself", path);
	if (cb_site_has_extra(site, path))
		return luaL_error(L, "site:page: another page already has the path '%s'", path);
	if (!lua_isnil(L, 6) && lua_type(L, 6) != LUA_TTABLE)
		return luaL_error(L, "site:page: data must be a table");
	data = check_value(L, 6, "site:page", path);
	if (cb_value_type(data) == CB_NULL ||
	    (cb_value_type(data) == CB_LIST && cb_value_len(data) == 0)) {
		cb_value_unref(data);
		data = cb_value_new_map();
	} else if (cb_value_type(data) != CB_MAP) {
		cb_value_unref(data);
		return luaL_error(L, "site:page: data must be a table of named values, not a list");
	}
	if (title)
		cb_value_set_str(data, "title", title);
	else if (!cb_value_cstr(cb_value_getc(data, "title"))) {
		cb_value_unref(data);
		return luaL_error(L, "site:page: give the page a title (title = \"...\")");
	}
	if (!nav_title && lua_toboolean(L, 7))
		nav_title = cb_value_cstr(cb_value_getc(data, "title"));
	/* The site takes data (and frees it on failure); nav_title may point
	 * into it, so add the navigation entry only once the page is in. */
	if (cb_site_add_page(site, path, tmpl, data, host_of(L)->plugin) < 0)
		return luaL_error(L, "site:page: '%s' is not a relative path to an .html, .xml, .txt or "
		                     ".svg file (no '..', no leading '/')",
		                  path);
	if (nav_title)
		cb_site_add_nav(site, nav_title, path, (int)order);
	return 0;
}

/* site:data(name, value): written as data/<name>.json */
static int site_data(lua_State *L)
{
	cb_site *site = site_of(L);
	const char *name;
	size_t len, i;
	cb_value *v;

	check_site(L);
	name = luaL_checklstring(L, 2, &len);
	if (!cb_path_is_slug(name, len))
		return luaL_error(L, "site:data: name '%s' may only use a-z, 0-9 and '-'", name);
	site_change(L);
	for (i = 0; i < cb_site_data_count(site); i++) {
		const char *n;
		const cb_value *old;
		cb_site_data_at(site, i, &n, &old);
		if (strcmp(n, name) == 0)
			return luaL_error(L, "site:data: data/%s.json is already written", name);
	}
	v = check_value(L, 3, "site:data", name);
	cb_site_add_data(site, name, v);
	return 0;
}

/* site:set(key, value): `site.<key>` in every template. */
static int site_set(lua_State *L)
{
	const char *key;
	size_t i;
	cb_value *v;

	check_site(L);
	check_key(L, 2, "site:set");
	key = lua_tostring(L, 2);
	for (i = 0; cb_render_site_keys[i]; i++)
		if (strcmp(cb_render_site_keys[i], key) == 0)
			return luaL_error(L, "site:set: 'site.%s' is filled by casebook itself (choose "
			                     "another key)",
			                  key);
	site_change(L);
	v = check_value(L, 3, "site:set", key);
	cb_site_set_var(site_of(L), key, v);
	return 0;
}

/* Read line/col from a position argument: nil, a line number, a section, or
 * a table with line (and col) fields such as a link or c:where(). */
static void position(lua_State *L, int idx, unsigned *line, unsigned *col)
{
	const sectionud *su;

	*line = 0;
	*col = 0;
	if (lua_isinteger(L, idx)) {
		lua_Integer l = lua_tointeger(L, idx);
		*line = l > 0 && l < 100000000 ? (unsigned)l : 0;
	} else if ((su = cb_lua__testudata(L, idx, CB_LUA_SECTION)) != NULL) {
		*line = cb_md_section_at(cb_doc_md(su->doc), su->i)->line;
		*col = 1; /* the heading, as cb_lint reports sections */
	} else if (lua_type(L, idx) == LUA_TTABLE) {
		lua_pushliteral(L, "line");
		if (lua_rawget(L, idx) == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
			*line = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
		lua_pushliteral(L, "col");
		if (lua_rawget(L, idx) == LUA_TNUMBER && lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
			*col = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
	} else if (!lua_isnoneornil(L, idx)) {
		luaL_argerror(L, idx, "expected a line number, or a table with line (and col)");
	}
}

/* site:error(where, pos, msg [, opts]) and friends. */
static int report(lua_State *L, cb_severity sev)
{
	cb_lua_host *h = host_of(L);
	const char *path = NULL, *msg, *hint = NULL, *code = h->plugin;
	unsigned line, col;
	int here_line;
	const docud *d;

	check_site(L);
	msg = luaL_checkstring(L, 4);
	position(L, 3, &line, &col);
	if ((d = cb_lua__testudata(L, 2, CB_LUA_DOC)) != NULL)
		path = cb_doc_path(d->doc);
	else if (lua_type(L, 2) == LUA_TSTRING)
		path = lua_tostring(L, 2);
	else if (!lua_isnil(L, 2))
		return luaL_argerror(L, 2, "expected a case, a page, a file path or nil");
	if (!path) {
		cb_lua__where(L, 1, &path, &here_line);
		if (!line)
			line = (unsigned)here_line;
		if (!path)
			path = h->path;
	}
	if (lua_type(L, 5) == LUA_TTABLE) {
		lua_getfield(L, 5, "hint");
		hint = lua_tostring(L, -1);
		lua_getfield(L, 5, "code");
		if (lua_type(L, -1) == LUA_TSTRING)
			code = lua_tostring(L, -1);
	} else if (!lua_isnoneornil(L, 5)) {
		return luaL_argerror(L, 5, "expected a table {hint = ..., code = ...}");
	}
	cb_diag_add(h->diags ? h->diags : cb_site_diags(h->site), sev, code, path, line, col, hint,
	            "%s", msg);
	return 0;
}

static int site_error(lua_State *L) { return report(L, CB_ERROR); }
static int site_warn(lua_State *L) { return report(L, CB_WARNING); }
static int site_note(lua_State *L) { return report(L, CB_NOTE); }

void cb_lua__push_site(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, REG_SITE);
}

/* }================================================================= */

void cb_lua__open_api(lua_State *L)
{
	static const luaL_Reg doc_methods[] = {{"set", doc_set},         {"get", doc_get},
	                                       {"facet", doc_facet},     {"omit", doc_omit},
	                                       {"section", doc_section}, {"where", doc_where},
	                                       {NULL, NULL}};
	static const luaL_Reg site_methods[] = {
	    {"case", site_case}, {"doc", site_doc},   {"taxonomy", site_taxonomy}, {"where", site_where},
	    {"page", site_page}, {"data", site_data}, {"set", site_set},
	    {"error", site_error}, {"warn", site_warn}, {"note", site_note},
	    {NULL, NULL}};

	cb_lua__newmetatable(L, CB_LUA_BUF);
	lua_pushcfunction(L, buf_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	cb_lua__newmetatable(L, CB_LUA_DOC);
	lua_newtable(L);
	luaL_setfuncs(L, doc_methods, 0);
	lua_pushcclosure(L, doc_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, read_only);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, doc_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "case");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	cb_lua__newmetatable(L, CB_LUA_SECTION);
	lua_pushcfunction(L, section_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, read_only);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, section_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "section");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	cb_lua__newmetatable(L, CB_LUA_SITE);
	lua_newtable(L);
	luaL_setfuncs(L, site_methods, 0);
	lua_pushcclosure(L, site_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, read_only);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, site_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "site");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, REG_DOCS);
	lua_newtable(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &touched_key);
	lua_newuserdatauv(L, 0, 0);
	cb_lua__setmetatable(L, CB_LUA_SITE);
	lua_setfield(L, LUA_REGISTRYINDEX, REG_SITE);
}
