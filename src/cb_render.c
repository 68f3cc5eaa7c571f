/*
 * cb_render: the render stage (see cb_render.h).
 *
 * The stage runs in three steps:
 *   1. load the theme (templates through a loader over the site's sources;
 *      assets listed for copying) and build the shared contexts: `site` and
 *      one context per case, built once and shared by every page that shows
 *      the case;
 *   2. run the generators, which queue pages (path, template, context);
 *   3. render and write the queue on worker threads. Contexts are only read
 *      there (reference counts are atomic).
 */
#include "cb_render.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_export.h"
#include "cb_feed.h"
#include "cb_fs.h"
#include "cb_git.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_pool.h"
#include "cb_print.h"
#include "cb_search.h"
#include "cb_template.h"
#include "cb_utf8.h"

const char *const cb_render_case_keys[] = {
    "slug",  "title",  "summary", "url",     "path",    "meta",    "country", "countries",
    "city",  "year",   "end_year", "years",  "sector",  "tags",    "sources", "digital",
    "facts", "facets", "body",    "sections", "toc",    "blob_id", "sector_text", NULL};

const char *const cb_render_site_keys[] = {
    "title",      "subtitle", "language", "base_url", "description", "copyright", "generator",
    "case_count", "taxonomies", "pages",  "search",   "print",       "export",    "feed", NULL};

const char *const cb_render_core_paths[] = {
    "index.html", "cases/", "assets/", "data/", "search.html", "print.html", "feed.xml",
    "sitemap.xml", NULL};

typedef struct job {
	char *path;
	char *tmpl;        /* NULL for a raw file */
	cb_value *ctx;     /* root context, or NULL when built lazily */
	char *raw;
	size_t raw_len;
	/* Lazy pages: the worker builds the page's data with build(r, arg),
	 * renders it and drops it, so big contexts never pile up. */
	cb_render_builder build;
	size_t arg;
	char *title, *kind;
	/* Pages written piece by piece (cb_render_add_writer). */
	cb_render_writer writer;
	void *writer_ctx;
	char **tmpl_list; /* templates the writer renders, NULL-terminated */
} job;

typedef struct kept {
	void *ptr;
	void (*free_fn)(void *);
} kept;

struct cb_render_sink {
	cb_render *r;
	const job *j;
	cb_output_file *file;
	cb_output *out;
	const char *opath; /* the file's path in the output folder */
	FILE *from;        /* the file pieces were last copied from, and its path */
	char *from_path;
	size_t written;    /* bytes put so far */
	cb_value *root; /* site, page, nav: built on first use */
	int failed;
};

struct cb_render {
	cb_site *site;
	cb_diag_list *diags;
	cb_tmpl_set *tmpls;
	char *theme;
	cb_value *site_ctx;
	cb_value *cases; /* list of case contexts, in site (slug) order */
	cb_value *by_title; /* the same contexts in reading order (by title) */
	size_t *order;   /* case index at each reading position */
	size_t *pos;     /* reading position of each case */
	cb_value *field_tax; /* front-matter field -> taxonomy name */
	cb_value *fact_terms; /* tax -> term -> [term_ctx with text, derived 0 and 1] */
	cb_value *shared_terms; /* "tax\037term\037derived" -> term_ctx, for the summaries */
	job *jobs;
	size_t n_jobs, cap_jobs;
	atomic_size_t next, done;
	size_t *job_order; /* jobs in the order workers take them (run_queue) */
	const cb_render_opts *opts;
	pthread_mutex_t lock;
	int failed;
	kept *kept;
	size_t n_kept;
	char *prefix;        /* output folder of this site inside out ("" or "editions/x/") */
	/* Sharing pages between editions (opts->cache set). */
	cb_value *env_keys;  /* template -> the key of what its pages hold besides cases */
	char data_env[CB_OID_HEXSZ + 1]; /* the same for data derived from cases */
	char *key_tmpl;      /* the template of the case pages that are shared */
	char **doc_keys;     /* per case; NULL when the case cannot be shared */
	int switching;       /* an edition build: pages get the edition switcher */
	int has_switcher;    /* the theme has an edition-switcher template */
};

/* ---- theme ---------------------------------------------------------------- */

/* The theme chain: the configured theme, then "default" for what it lacks. */
static int find_theme_file(cb_render *r, const char *rel, cb_source **src, char **path)
{
	const char *themes[2] = {r->theme, "default"};
	int i, n = strcmp(r->theme, "default") == 0 ? 1 : 2;

	for (i = 0; i < n; i++) {
		char *p = cb_xasprintf("themes/%s/%s", themes[i], rel);
		cb_source *s = cb_site_lookup(r->site, p);
		if (s) {
			*src = s;
			*path = p;
			return 0;
		}
		free(p);
	}
	return -1;
}

static int template_loader(void *ctx, const char *name, char **data, size_t *len, char **path,
                           cb_diag_list *diags)
{
	cb_render *r = ctx;
	cb_source *src;
	char *rel = cb_xasprintf("templates/%s.mustache", name);
	int rc;

	if (strchr(name, '/') || strstr(name, "..") || find_theme_file(r, rel, &src, path) < 0) {
		free(rel);
		return CB_TMPL_NOTFOUND;
	}
	free(rel);
	rc = cb_source_read(src, *path, 4 << 20, data, len);
	if (rc < 0) {
		cb_diag_error(diags, "io", *path, 0, 0, "cannot read: %s", cb_fs_strerror(rc));
		free(*path);
		*path = NULL;
		return -1;
	}
	return 0;
}

/* Copy the theme's assets (those of "default" first, so a theme overrides
 * file by file). */
static void copy_assets_from(cb_render *r, cb_source *src, const char *dir, const char *out_dir)
{
	cb_fs_entry *e = NULL;
	size_t n = 0, i;

	if (cb_source_list(src, dir, &e, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		char *from = cb_path_join(dir, e[i].name);
		char *to = cb_path_join(out_dir, e[i].name);

		if (e[i].name[0] == '.')
			; /* hidden */
		else if (e[i].kind == CB_FS_DIR)
			copy_assets_from(r, src, from, to);
		else if (e[i].kind == CB_FS_FILE)
			cb_site_add_file(r->site, from, to);
		free(from);
		free(to);
	}
	cb_fs_list_free(e, n);
}

static void copy_assets(cb_render *r)
{
	const char *themes[2] = {r->theme, "default"};
	int i;

	/* cb_site_add_file keeps the first path given for a site path. */
	for (i = 0; i < 2; i++) {
		char *dir = cb_xasprintf("themes/%s/assets", themes[i]);
		cb_source *src = cb_site_source(r->site);
		cb_fs_kind kind;

		if (cb_source_kind(src, dir, &kind) == 0 && kind == CB_FS_DIR)
			copy_assets_from(r, src, dir, "assets");
		src = cb_site_share(r->site);
		if (src && cb_source_kind(src, dir, &kind) == 0 && kind == CB_FS_DIR)
			copy_assets_from(r, src, dir, "assets");
		free(dir);
		if (strcmp(r->theme, "default") == 0)
			break;
	}
}

/* ---- contexts ------------------------------------------------------------ */

static cb_value *str_list(const cb_value *v)
{
	cb_value *l = cb_value_new_list();
	size_t i;

	if (cb_value_type(v) == CB_STRING)
		cb_value_push(l, cb_value_ref((cb_value *)v));
	else
		for (i = 0; i < cb_value_len(v); i++)
			if (cb_value_type(cb_value_at(v, i)) == CB_STRING)
				cb_value_push(l, cb_value_ref(cb_value_at(v, i)));
	return l;
}

static cb_value *joined(const cb_value *v, const char *sep)
{
	cb_buf b = CB_BUF_INIT;
	size_t i;
	cb_value *out;

	if (cb_value_type(v) == CB_LIST) {
		for (i = 0; i < cb_value_len(v); i++) {
			if (i)
				cb_buf_puts(&b, sep);
			cb_value_text(cb_value_at(v, i), &b);
		}
	} else {
		cb_value_text(v, &b);
	}
	out = cb_value_new_string(b.ptr, b.len);
	cb_buf_dispose(&b);
	return out;
}

/* {id, label, url?, derived} for a term of a vocabulary. */
static cb_value *term_ctx(cb_render *r, const char *tax, const char *term, int derived)
{
	cb_value *t = cb_value_new_map();
	char *url = cb_xasprintf("%s/%s.html", tax, term);

	cb_value_set_str(t, "id", term);
	cb_value_set_str(t, "label", cb_site_term_label(r->site, tax, term));
	if (cb_site_has_extra(r->site, url))
		cb_value_set_str(t, "url", url);
	cb_value_set_bool(t, "derived", derived);
	free(url);
	return t;
}

/* The same as term_ctx, shared: one context per term for every summary that
 * shows it (10,000 summaries hold about 80,000 terms of a few hundred). Only
 * for contexts nothing changes afterwards (facts_ctx adds "text" to its own);
 * called before the worker threads start. The caller owns the reference
 * returned. */
static cb_value *shared_term_ctx(cb_render *r, const char *tax, const char *term, int derived)
{
	char *key = cb_xasprintf("%s\037%s\037%d", tax, term, derived != 0);
	cb_value *t = cb_value_getc(r->shared_terms, key);

	if (!t) {
		t = term_ctx(r, tax, term, derived);
		cb_value_setc(r->shared_terms, key, t);
	}
	free(key);
	return cb_value_ref(t);
}

/* A term in the facts box: term_ctx with "text" (its label). */
static cb_value *fact_term_new(cb_render *r, const char *tax, const char *term, int derived)
{
	cb_value *t = term_ctx(r, tax, term, derived);

	cb_value_setc(t, "text", cb_value_ref(cb_value_getc(t, "label")));
	return t;
}

/* The same, made once per term of every vocabulary before the workers start
 * (make_fact_terms) and shared; a term no vocabulary has (an error the build
 * reports) gets its own. The caller owns the reference returned. */
static cb_value *fact_term_ctx(cb_render *r, const char *tax, const char *term, int derived)
{
	const cb_value *pair = cb_value_getc(cb_value_getc(r->fact_terms, tax), term);

	return pair ? cb_value_ref(cb_value_at(pair, derived != 0))
	            : fact_term_new(r, tax, term, derived);
}

static void make_fact_terms(cb_render *r)
{
	size_t i, k, d;

	r->fact_terms = cb_value_new_map();
	for (i = 0; i < cb_site_taxonomy_count(r->site); i++) {
		const char *name;
		const cb_value *terms = cb_value_getc(cb_site_taxonomy_at(r->site, i, &name, NULL), "terms");
		cb_value *by_term = cb_value_new_map();

		for (k = 0; k < cb_value_len(terms); k++) {
			const char *id = cb_value_cstr(cb_value_getc(cb_value_at(terms, k), "id"));
			cb_value *pair;
			if (!id)
				continue;
			pair = cb_value_new_list();
			for (d = 0; d < 2; d++)
				cb_value_push(pair, fact_term_new(r, name, id, (int)d));
			cb_value_setc(by_term, id, pair);
		}
		cb_value_setc(r->fact_terms, name, by_term);
	}
}

/* Rows of a case's facts box, from the front matter and the facets. */
static const struct {
	const char *field, *label;
} fact_fields[] = {
    {"country", "Country"},   {"city", "City"},
    {"year", "Years"},        {"sector", "Sector"},
    {"phases", "Phases"},     {"level", "Level"},
    {"initiator", "Initiated by"}, {"role", "Citizens' role"},
    {"task", "Task"},         {"type", "Type"},
    {"coproducer_role", "Co-producers"}, {"motivations", "Motivations"},
    {"risks", "Risks"},       {"digital", "Digital"},
    {NULL, NULL},
};

static cb_value *facts_ctx(cb_render *r, const cb_doc *doc)
{
	const cb_value *meta = cb_doc_meta(doc);
	const cb_value *facets = cb_doc_facets(doc);
	cb_value *rows = cb_value_new_list();
	size_t f, i;

	for (f = 0; fact_fields[f].field; f++) {
		const char *field = fact_fields[f].field;
		const cb_value *v = cb_value_getc(meta, field);
		const char *tax = cb_value_cstr(cb_value_getc(r->field_tax, field));
		const cb_value *facet = tax ? cb_value_getc(facets, tax) : NULL;
		cb_value *row, *items;

		if (strcmp(field, "year") == 0) {
			const cb_value *end = cb_value_getc(meta, "end_year");
			cb_value *item;
			if (cb_value_type(v) != CB_INT)
				continue;
			row = cb_value_new_map();
			items = cb_value_new_list();
			item = cb_value_new_map();
			if (cb_value_type(end) == CB_INT && cb_value_int(end) != cb_value_int(v))
				cb_value_setc(item, "text", cb_value_new_printf("%lld\xE2\x80\x93%lld",
				                                                cb_value_int(v),
				                                                cb_value_int(end)));
			else
				cb_value_setc(item, "text", cb_value_new_printf("%lld", cb_value_int(v)));
			cb_value_push(items, item);
		} else if (strcmp(field, "digital") == 0) {
			cb_value *item;
			if (cb_value_type(v) != CB_BOOL)
				continue;
			row = cb_value_new_map();
			items = cb_value_new_list();
			item = cb_value_new_map();
			cb_value_set_str(item, "text", cb_value_bool(v) ? "Yes" : "No");
			cb_value_push(items, item);
		} else {
			cb_value *vals = str_list(v);
			if (!tax && cb_value_len(vals) == 0) {
				cb_value_unref(vals);
				continue;
			}
			items = cb_value_new_list();
			for (i = 0; i < cb_value_len(vals); i++) {
				const char *term = cb_value_cstr(cb_value_at(vals, i));
				if (tax) {
					/* Written in the front matter: not derived. */
					cb_value_push(items, fact_term_ctx(r, tax, term, 0));
				} else {
					cb_value *item = cb_value_new_map();
					cb_value_set_str(item, "text", term);
					cb_value_push(items, item);
				}
			}
			/* Terms a plugin derived (not written in the front matter). */
			for (i = 0; tax && i < cb_value_len(facet); i++) {
				const cb_value *e = cb_value_at(facet, i);
				const char *term = cb_value_cstr(cb_value_getc(e, "term"));
				size_t k;
				int present = 0;
				for (k = 0; k < cb_value_len(vals); k++)
					present |= strcmp(cb_value_cstr(cb_value_at(vals, k)), term) == 0;
				if (!present)
					cb_value_push(items,
					              fact_term_ctx(r, tax, term,
					                            cb_value_bool(cb_value_getc(e, "derived"))));
			}
			cb_value_unref(vals);
			if (cb_value_len(items) == 0) {
				cb_value_unref(items);
				continue;
			}
			row = cb_value_new_map();
		}
		cb_value_set_str(row, "field", field);
		cb_value_set_str(row, "label", fact_fields[f].label);
		cb_value_setc(row, "items", items);
		cb_value_push(rows, row);
	}
	return rows;
}

static cb_value *facets_ctx(cb_render *r, const cb_doc *doc)
{
	const cb_value *facets = cb_doc_facets(doc);
	cb_value *out = cb_value_new_list();
	size_t i, k;

	for (i = 0; i < cb_value_len(facets); i++) {
		const char *tax = cb_value_key(facets, i, NULL);
		const cb_value *list = cb_value_entry(facets, i);
		const cb_value *t = cb_site_taxonomy(r->site, tax);
		const char *title = cb_value_cstr(cb_value_getc(t, "title"));
		cb_value *f = cb_value_new_map(), *terms = cb_value_new_list();

		cb_value_set_str(f, "name", tax);
		cb_value_set_str(f, "title", title ? title : tax);
		for (k = 0; k < cb_value_len(list); k++) {
			const cb_value *e = cb_value_at(list, k);
			cb_value_push(terms,
			              shared_term_ctx(r, tax, cb_value_cstr(cb_value_getc(e, "term")),
			                              cb_value_bool(cb_value_getc(e, "derived"))));
		}
		cb_value_setc(f, "terms", terms);
		cb_value_push(out, f);
	}
	return out;
}

static cb_value *sections_ctx(const cb_doc *doc, cb_value **toc_out)
{
	const cb_md *md = cb_doc_md(doc);
	cb_value *list = cb_value_new_list(), *toc = cb_value_new_list();
	size_t i;

	for (i = 0; i < cb_md_section_count(md); i++) {
		const cb_md_section *s = cb_md_section_at(md, i);
		cb_value *sec = cb_value_new_map();

		cb_value_set_str(sec, "id", s->id);
		cb_value_set_str(sec, "title", s->title);
		cb_value_set_int(sec, "level", s->level);
		cb_value_set_bool(sec, "omitted", cb_doc_section_omitted(doc, i));
		if (s->level == 2 && !cb_doc_section_omitted(doc, i)) {
			cb_value *t = cb_value_new_map();
			cb_value_set_str(t, "id", s->id);
			cb_value_set_str(t, "title", s->title);
			cb_value_push(toc, t);
		}
		cb_value_push(list, sec);
	}
	*toc_out = toc;
	return list;
}

/* What lists of cases show: small, built once per case and shared. */
static cb_value *summary_ctx(cb_render *r, const cb_doc *doc)
{
	const cb_value *meta = cb_doc_meta(doc);
	cb_value *c = cb_value_new_map(), *v;
	size_t i;

	cb_value_set_str(c, "slug", cb_doc_slug(doc));
	cb_value_set_str(c, "title", cb_doc_title(doc));
	cb_value_set_str(c, "url", cb_doc_url(doc));
	if ((v = cb_value_getc(meta, "summary")) && cb_value_type(v) == CB_STRING)
		cb_value_setc(c, "summary", cb_value_ref(v));
	if ((v = cb_value_getc(meta, "country"))) {
		cb_value_setc(c, "country", joined(v, ", "));
		cb_value_setc(c, "countries", str_list(v));
	}
	if ((v = cb_value_getc(meta, "city")))
		cb_value_setc(c, "city", joined(v, ", "));
	if ((v = cb_value_getc(meta, "year")) && cb_value_type(v) == CB_INT) {
		const cb_value *end = cb_value_getc(meta, "end_year");
		cb_value_setc(c, "year", cb_value_ref(v));
		if (cb_value_type(end) == CB_INT) {
			cb_value_setc(c, "end_year", cb_value_ref((cb_value *)end));
			if (cb_value_int(end) != cb_value_int(v))
				cb_value_setc(c, "years", cb_value_new_printf("%lld\xE2\x80\x93%lld",
				                                              cb_value_int(v),
				                                              cb_value_int(end)));
		}
		if (!cb_value_getc(c, "years"))
			cb_value_setc(c, "years", cb_value_new_printf("%lld", cb_value_int(v)));
	}
	if ((v = cb_value_getc(meta, "sector"))) {
		cb_value *list = str_list(v), *sectors = cb_value_new_list();
		cb_buf b = CB_BUF_INIT;
		for (i = 0; i < cb_value_len(list); i++) {
			const char *id = cb_value_cstr(cb_value_at(list, i));
			cb_value_push(sectors, shared_term_ctx(r, "sector", id, 0));
			if (i)
				cb_buf_puts(&b, ", ");
			cb_buf_puts(&b, cb_site_term_label(r->site, "sector", id));
		}
		cb_value_setc(c, "sector", sectors);
		cb_value_setc(c, "sector_text", cb_value_new_string(b.ptr, b.len));
		cb_buf_dispose(&b);
		cb_value_unref(list);
	}
	cb_value_setc(c, "tags", str_list(cb_value_getc(meta, "tags")));
	if ((v = cb_value_getc(meta, "digital")) && cb_value_type(v) == CB_BOOL)
		cb_value_setc(c, "digital", cb_value_ref(v));
	cb_value_setc(c, "facets", facets_ctx(r, doc));
	return c;
}

cb_value *cb_render_case_full(cb_render *r, size_t i)
{
	const cb_doc *doc = cb_site_case(r->site, i);
	const cb_value *sum = cb_value_at(r->cases, i);
	const cb_value *vars = cb_doc_vars(doc);
	cb_value *c = cb_value_new_map(), *toc = NULL;
	cb_buf body = CB_BUF_INIT;
	size_t k;

	/* Made for every case page and print piece, so sized at once: the
	 * summary's entries, the eight below and the plugins' values. */
	cb_value_reserve(c, cb_value_len(sum) + 8 + cb_value_len(vars));
	for (k = 0; k < cb_value_len(sum); k++) {
		size_t kl;
		const char *key = cb_value_key(sum, k, &kl);
		cb_value_set(c, key, kl, cb_value_ref(cb_value_entry(sum, k)));
	}
	cb_value_set_str(c, "path", cb_doc_path(doc));
	cb_value_set_str(c, "blob_id", cb_doc_blob_id(doc));
	cb_value_setc(c, "meta", cb_value_ref(cb_doc_meta(doc)));
	cb_value_setc(c, "sources", str_list(cb_value_getc(cb_doc_meta(doc), "sources")));
	cb_value_setc(c, "facts", facts_ctx(r, doc));
	cb_doc_body_html(doc, &body);
	cb_value_setc(c, "body", cb_value_new_string(body.ptr, body.len));
	cb_buf_dispose(&body);
	cb_value_setc(c, "sections", sections_ctx(doc, &toc));
	cb_value_setc(c, "toc", toc);
	/* What plugins set, under their own names. */
	for (k = 0; k < cb_value_len(vars); k++) {
		size_t kl;
		const char *key = cb_value_key(vars, k, &kl);
		if (!cb_value_get(c, key, kl))
			cb_value_set(c, key, kl, cb_value_ref(cb_value_entry(vars, k)));
	}
	return c;
}

cb_value *cb_render_case_facts(cb_render *r, size_t i)
{
	return facts_ctx(r, cb_site_case(r->site, i));
}

int cb_render_threads(const cb_render *r)
{
	return cb_pool_threads(r->opts ? r->opts->threads : 0);
}

static cb_value *build_site_ctx(cb_render *r)
{
	const cb_config *cfg = cb_site_config(r->site);
	const cb_value *raw = cb_config_value(cfg);
	cb_value *s = cb_value_new_map(), *taxes = cb_value_new_list(), *pages = cb_value_new_list();
	const cb_value *vars = cb_site_vars(r->site);
	size_t i;

	cb_value_set_str(s, "title", cb_config_title(cfg));
	cb_value_set_str(s, "subtitle", cb_config_subtitle(cfg));
	cb_value_set_str(s, "language", cb_config_language(cfg));
	if (cb_config_base_url(cfg))
		cb_value_set_str(s, "base_url", cb_config_base_url(cfg));
	if (cb_value_type(cb_value_getc(raw, "description")) == CB_STRING)
		cb_value_setc(s, "description", cb_value_ref(cb_value_getc(raw, "description")));
	if (cb_value_type(cb_value_getc(raw, "copyright")) == CB_STRING)
		cb_value_setc(s, "copyright", cb_value_ref(cb_value_getc(raw, "copyright")));
	cb_value_set_str(s, "generator", "casebook " CB_VERSION);
	cb_value_set_int(s, "case_count", (long long)cb_site_case_count(r->site));
	for (i = 0; i < cb_site_taxonomy_count(r->site); i++) {
		const char *name;
		const cb_value *t = cb_site_taxonomy_at(r->site, i, &name, NULL);
		cb_value *e = cb_value_new_map();
		char *url = cb_xasprintf("%s/index.html", name);
		const char *title = cb_value_cstr(cb_value_getc(t, "title"));

		cb_value_set_str(e, "name", name);
		cb_value_set_str(e, "title", title ? title : name);
		if (cb_value_type(cb_value_getc(t, "description")) == CB_STRING)
			cb_value_setc(e, "description", cb_value_ref(cb_value_getc(t, "description")));
		if (cb_site_has_extra(r->site, url))
			cb_value_set_str(e, "url", url);
		free(url);
		cb_value_push(taxes, e);
	}
	cb_value_setc(s, "taxonomies", taxes);
	for (i = 0; i < cb_site_page_count(r->site); i++) {
		const cb_doc *p = cb_site_page(r->site, i);
		cb_value *e;
		if (strcmp(cb_doc_slug(p), "index") == 0)
			continue;
		e = cb_value_new_map();
		cb_value_set_str(e, "title", cb_doc_title(p));
		cb_value_set_str(e, "url", cb_doc_url(p));
		cb_value_push(pages, e);
	}
	cb_value_setc(s, "pages", pages);
	for (i = 0; i < cb_value_len(vars); i++) {
		size_t kl;
		const char *k = cb_value_key(vars, i, &kl);
		if (!cb_value_get(s, k, kl))
			cb_value_set(s, k, kl, cb_value_ref(cb_value_entry(vars, i)));
	}
	return s;
}

/* The navigation: Home, Cases, free pages (front matter nav_order, or
 * nav: false to leave one out), then what plugins registered. */
static void build_nav(cb_render *r)
{
	size_t i;

	cb_site_add_nav(r->site, "Home", "index.html", 0);
	cb_site_add_nav(r->site, "Cases", "cases/index.html", 10);
	for (i = 0; i < cb_site_page_count(r->site); i++) {
		const cb_doc *p = cb_site_page(r->site, i);
		const cb_value *meta = cb_doc_meta(p);
		const cb_value *nav = cb_value_getc(meta, "nav");
		const cb_value *order = cb_value_getc(meta, "nav_order");

		if (strcmp(cb_doc_slug(p), "index") == 0)
			continue;
		if (cb_value_type(nav) == CB_BOOL && !cb_value_bool(nav))
			continue;
		cb_site_add_nav(r->site, cb_doc_title(p), cb_doc_url(p),
		                cb_value_type(order) == CB_INT ? (int)cb_value_int(order) : 50);
	}
}

static cb_value *nav_ctx(cb_render *r, const char *path, const char *kind)
{
	cb_value *nav = cb_value_new_list();
	size_t i;
	char *dir = cb_path_dirname(path);

	for (i = 0; i < cb_site_nav_count(r->site); i++) {
		const char *title, *url;
		cb_value *e = cb_value_new_map();
		char *udir;
		int current;

		cb_site_nav_at(r->site, i, &title, &url);
		udir = cb_path_dirname(url);
		/* A page is in a section when it sits in that entry's folder
		 * (cases/x.html is under "Cases"). */
		current = strcmp(url, path) == 0 ||
		          (*udir && strcmp(cb_path_basename(url), "index.html") == 0 &&
		           strcmp(udir, dir) == 0);
		(void)kind;
		cb_value_set_str(e, "title", title);
		cb_value_set_str(e, "url", url);
		cb_value_set_bool(e, "current", current);
		cb_value_push(nav, e);
		free(udir);
	}
	free(dir);
	return nav;
}

/* ---- the queue ----------------------------------------------------------- */

static void push_job(cb_render *r, job j)
{
	if (r->n_jobs == r->cap_jobs) {
		r->cap_jobs = r->cap_jobs ? r->cap_jobs * 2 : 256;
		r->jobs = cb_xreallocarray(r->jobs, r->cap_jobs, sizeof(job));
	}
	r->jobs[r->n_jobs++] = j;
}

/* The root context of a page: site, page, nav, and data's keys. */
static cb_value *root_ctx(cb_render *r, const char *path, const char *title, const char *kind,
                          const cb_value *data)
{
	cb_value *ctx = cb_value_new_map(), *page = cb_value_new_map();
	cb_buf root = CB_BUF_INIT;
	char *dir = cb_path_dirname(path);
	size_t i;

	/* Sized at once: made for every page. */
	cb_value_reserve(ctx, 3 + (cb_value_type(data) == CB_MAP ? cb_value_len(data) : 1));
	cb_value_reserve(page, 5);
	cb_path_root_prefix(&root, dir);
	cb_value_set_str(page, "title", title ? title : "");
	cb_value_set_str(page, "path", path);
	cb_value_set_str(page, "url", path);
	cb_value_set_str(page, "kind", kind ? kind : "page");
	cb_value_setc(page, "root", cb_value_new_string(root.ptr, root.len));
	cb_value_setc(ctx, "site", cb_value_ref(r->site_ctx));
	cb_value_setc(ctx, "page", page);
	cb_value_setc(ctx, "nav", nav_ctx(r, path, kind));
	if (cb_value_type(data) == CB_MAP) {
		for (i = 0; i < cb_value_len(data); i++) {
			size_t kl;
			const char *k = cb_value_key(data, i, &kl);
			/* site, page and nav are casebook's own. */
			if (!cb_value_get(ctx, k, kl))
				cb_value_set(ctx, k, kl, cb_value_ref(cb_value_entry(data, i)));
		}
	} else if (data && cb_value_type(data) != CB_NULL) {
		cb_value_setc(ctx, "data", cb_value_ref((cb_value *)data));
	}
	cb_buf_dispose(&root);
	free(dir);
	return ctx;
}

void cb_render_add(cb_render *r, const char *path, const char *tmpl, const char *title,
                   const char *kind, cb_value *data)
{
	job j;

	memset(&j, 0, sizeof j);
	j.path = cb_xstrdup(path);
	j.tmpl = cb_xstrdup(tmpl);
	j.ctx = root_ctx(r, path, title, kind, data);
	cb_value_unref(data);
	push_job(r, j);
}

void cb_render_add_lazy(cb_render *r, const char *path, const char *tmpl, const char *title,
                        const char *kind, cb_render_builder build, size_t arg)
{
	job j;

	memset(&j, 0, sizeof j);
	j.path = cb_xstrdup(path);
	j.tmpl = cb_xstrdup(tmpl);
	j.title = cb_xstrdup(title ? title : "");
	j.kind = cb_xstrdup(kind ? kind : "page");
	j.build = build;
	j.arg = arg;
	push_job(r, j);
}

void cb_render_add_raw(cb_render *r, const char *path, const char *data, size_t len)
{
	job j;

	memset(&j, 0, sizeof j);
	j.path = cb_xstrdup(path);
	j.raw = cb_xstrndup(data, len);
	j.raw_len = len;
	push_job(r, j);
}

void cb_render_add_writer(cb_render *r, const char *path, const char *title, const char *kind,
                          const char *const *tmpls, cb_render_writer fn, void *ctx, size_t arg)
{
	job j;
	size_t n = 0, i;

	memset(&j, 0, sizeof j);
	j.path = cb_xstrdup(path);
	j.title = cb_xstrdup(title ? title : "");
	j.kind = cb_xstrdup(kind ? kind : "page");
	j.writer = fn;
	j.writer_ctx = ctx;
	j.arg = arg;
	while (tmpls && tmpls[n])
		n++;
	j.tmpl_list = cb_xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		j.tmpl_list[i] = cb_xstrdup(tmpls[i]);
	push_job(r, j);
}

void cb_render_sink_put(cb_render_sink *s, const char *data, size_t len)
{
	cb_output_file_write(s->file, data, len);
	s->written += len;
}

static int splice_switcher(cb_render *r, const job *j, cb_buf *out, size_t from);

int cb_render_sink_render(cb_render_sink *s, const char *tmpl, const cb_value *data, cb_buf *out)
{
	cb_render *r = s->r;
	const cb_tmpl *t = NULL;
	cb_value *ctx;
	size_t i, from = out->len;
	int rc;

	if (!s->root)
		s->root = root_ctx(r, s->j->path, s->j->title, s->j->kind, NULL);
	/* Compiled before the threads started (see run_queue): only a lookup. */
	pthread_mutex_lock(&r->lock);
	rc = cb_tmpl_set_get(r->tmpls, tmpl, &t, r->diags);
	pthread_mutex_unlock(&r->lock);
	if (rc == CB_TMPL_NOTFOUND)
		return cb_diag_error(r->diags, "no-template", s->j->path, 0, 0,
		                     "theme '%s' has no template '%s' (looked for "
		                     "themes/%s/templates/%s.mustache)",
		                     r->theme, tmpl, r->theme, tmpl);
	if (rc < 0)
		return -1;
	ctx = cb_value_new_map();
	for (i = 0; i < cb_value_len(s->root); i++) {
		size_t kl;
		const char *k = cb_value_key(s->root, i, &kl);
		cb_value_set(ctx, k, kl, cb_value_ref(cb_value_entry(s->root, i)));
	}
	for (i = 0; i < cb_value_len(data); i++) {
		size_t kl;
		const char *k = cb_value_key(data, i, &kl);
		if (!cb_value_get(ctx, k, kl))
			cb_value_set(ctx, k, kl, cb_value_ref(cb_value_entry(data, i)));
	}
	rc = cb_tmpl_render(t, r->tmpls, ctx, out, r->diags);
	cb_value_unref(ctx);
	if (rc == 0 && r->switching)
		rc = splice_switcher(r, s->j, out, from);
	return rc;
}

static int piece_key(cb_render *r, const job *j, const char *what, const char *tmpl, size_t i,
                     char *out);

/* Bytes [at, at + len) of file path in the output folder, appended to out.
 * The file stays open in the sink for the next piece. */
static int read_range(cb_render_sink *s, const char *path, size_t at, size_t len, cb_buf *out)
{
	if (!s->from || strcmp(s->from_path, path) != 0) {
		char *full = cb_xasprintf("%s/%s", cb_output_tmpdir(s->out), path);
		if (s->from)
			fclose(s->from);
		free(s->from_path);
		s->from = fopen(full, "rb");
		s->from_path = cb_xstrdup(path);
		free(full);
		if (!s->from)
			return -1;
	}
	cb_buf_grow(out, len);
	if (fseek(s->from, (long)at, SEEK_SET) != 0 || fread(out->ptr + out->len, 1, len, s->from) != len)
		return -1;
	out->len += len;
	out->ptr[out->len] = '\0';
	return 0;
}

int cb_render_sink_put_case(cb_render_sink *s, const char *what, const char *tmpl, size_t i,
                            cb_render_builder build)
{
	cb_render *r = s->r;
	cb_buf piece = CB_BUF_INIT;
	char key[CB_OID_HEXSZ + 1];
	int keyed = piece_key(r, s->j, what, tmpl, i, key) == 0, rc;
	cb_value *data;

	if (keyed) {
		const char *from;
		size_t at, len;
		if (cb_cache_piece_get(r->opts->cache, key, &from, &at, &len) &&
		    read_range(s, from, at, len, &piece) == 0) {
			cb_render_sink_put(s, piece.ptr, piece.len);
			cb_buf_dispose(&piece);
			return 0;
		}
	}
	data = build(r, i);
	rc = cb_render_sink_render(s, tmpl, data, &piece);
	cb_value_unref(data);
	if (rc == 0) {
		size_t at = s->written;
		const char *marker = r->switching ? cb_cache_marker(r->opts->cache) : NULL;
		cb_render_sink_put(s, piece.ptr, piece.len);
		/* A piece that held the switcher is this edition's own. */
		if (keyed && !(marker && memmem(piece.ptr, piece.len, marker, strlen(marker))))
			cb_cache_piece_put(r->opts->cache, key, s->opath, at, piece.len);
	}
	cb_buf_dispose(&piece);
	return rc;
}

void cb_render_keep(cb_render *r, void *ptr, void (*free_fn)(void *))
{
	r->kept = cb_xreallocarray(r->kept, r->n_kept + 1, sizeof(kept));
	r->kept[r->n_kept].ptr = ptr;
	r->kept[r->n_kept].free_fn = free_fn;
	r->n_kept++;
}

void cb_render_text_done(cb_render *r)
{
	const cb_site *site = r->site;
	size_t i;

	if (!r->opts->last_reader)
		return;
	for (i = 0; i < cb_site_case_count(site); i++)
		cb_doc_drop_text(cb_site_case(site, i));
	for (i = 0; i < cb_site_page_count(site); i++)
		cb_doc_drop_text(cb_site_page(site, i));
}

size_t cb_render_page_count(const cb_render *r) { return r->n_jobs; }
const char *cb_render_page_path(const cb_render *r, size_t i) { return r->jobs[i].path; }

/* Run a writer job: stream its page to the output folder. */
static int run_writer(cb_render *r, cb_output *out, const job *j)
{
	cb_render_sink s;
	int rc;

	char *opath = cb_xasprintf("%s%s", r->prefix, j->path);

	memset(&s, 0, sizeof s);
	s.r = r;
	s.j = j;
	s.opath = opath;
	rc = cb_output_file_open(out, opath, &s.file);
	if (rc < 0) {
		free(opath);
		return -1;
	}
	s.out = out;
	rc = j->writer(r, &s, j->writer_ctx, j->arg);
	free(opath);
	if (s.from)
		fclose(s.from);
	free(s.from_path);
	if (cb_output_file_close(s.file) < 0)
		rc = -1;
	cb_value_unref(s.root);
	return rc;
}

const cb_site *cb_render_get_site(const cb_render *r) { return r->site; }
const char *cb_render_prefix(const cb_render *r) { return r->prefix; }
cb_value *cb_render_case(const cb_render *r, size_t i) { return cb_value_at(r->cases, i); }
size_t cb_render_case_count(const cb_render *r) { return cb_value_len(r->cases); }
cb_value *cb_render_cases(const cb_render *r) { return r->cases; }
cb_value *cb_render_cases_in_order(const cb_render *r) { return r->by_title; }
size_t cb_render_case_at(const cb_render *r, size_t k) { return r->order[k]; }
cb_value *cb_render_site_ctx(const cb_render *r) { return r->site_ctx; }

/* ---- HTML rebasing ------------------------------------------------------- */

void cb_render_rebase_html(cb_buf *out, const char *html, size_t len, const char *from_dir,
                           const char *to_dir, int cases_inline)
{
	size_t i = 0, start = 0;

	while (i < len) {
		const char *attr = NULL;
		size_t alen = 0;

		if (len - i > 6 && memcmp(html + i, "href=\"", 6) == 0)
			attr = "href=\"", alen = 6;
		else if (len - i > 5 && memcmp(html + i, "src=\"", 5) == 0)
			attr = "src=\"", alen = 5;
		if (!attr || (i > 0 && html[i - 1] != ' ')) {
			/* An attribute follows a space: go to the next one. */
			const char *sp = memchr(html + i, ' ', len - i);
			if (!sp)
				break;
			i = (size_t)(sp - html) + 1;
			continue;
		}
		{
			size_t v = i + alen, e = v;
			char *url, *joined, *norm, *hash;

			while (e < len && html[e] != '"')
				e++;
			if (e >= len)
				break;
			url = cb_xstrndup(html + v, e - v);
			if (!*url || url[0] == '#' || url[0] == '/' || cb_path_is_absolute_url(url)) {
				free(url);
				i = e;
				continue;
			}
			cb_buf_put(out, html + start, v - start);
			hash = strchr(url, '#');
			if (hash)
				*hash = '\0';
			joined = cb_path_join(from_dir, url);
			norm = cb_path_normalize(joined, strlen(joined));
			if (cases_inline && norm && strncmp(norm, "cases/", 6) == 0 &&
			    strcmp(cb_path_ext(norm), ".html") == 0 && !strchr(norm + 6, '/')) {
				/* cases/<slug>.html#x -> #case-<slug> or #case-<slug>--x */
				size_t sl = strlen(norm) - 11;
				cb_buf_printf(out, "#case-%.*s", (int)sl, norm + 6);
				if (hash && hash[1])
					cb_buf_printf(out, "--%s", hash + 1);
			} else if (norm) {
				cb_path_relative(out, to_dir, norm);
				if (hash) {
					cb_buf_putc(out, '#');
					cb_buf_puts(out, hash + 1);
				}
			} else {
				cb_buf_put(out, html + v, e - v);
			}
			free(joined);
			free(norm);
			free(url);
			start = e;
			i = e;
		}
	}
	cb_buf_put(out, html + start, len - start);
}

/* ---- generators ---------------------------------------------------------- */

/* Case i's neighbours in reading order, or NO_CASE. */
#define NO_CASE ((size_t)-1)
static size_t prev_case(const cb_render *r, size_t i)
{
	return r->pos[i] > 0 ? r->order[r->pos[i] - 1] : NO_CASE;
}

static size_t next_case(const cb_render *r, size_t i)
{
	return r->pos[i] + 1 < cb_value_len(r->cases) ? r->order[r->pos[i] + 1] : NO_CASE;
}

/* The data of case page i: the case, and its neighbours for the pager. */
static cb_value *case_page_data(cb_render *r, size_t i)
{
	cb_value *d = cb_value_new_map();
	size_t p = prev_case(r, i), n = next_case(r, i);

	cb_value_setc(d, "case", cb_render_case_full(r, i));
	if (p != NO_CASE)
		cb_value_setc(d, "previous", cb_value_ref(cb_value_at(r->cases, p)));
	if (n != NO_CASE)
		cb_value_setc(d, "next", cb_value_ref(cb_value_at(r->cases, n)));
	return d;
}

/* Reading order: by title, folded (case and accents ignored), then slug. */
typedef struct title_key {
	char *folded;
	size_t index;
	const char *slug;
} title_key;

static int cmp_title_key(const void *pa, const void *pb)
{
	const title_key *a = pa, *b = pb;
	int c = strcmp(a->folded, b->folded);

	return c ? c : strcmp(a->slug, b->slug);
}

static void sort_by_title(cb_render *r)
{
	size_t n = cb_site_case_count(r->site), i;
	title_key *keys = cb_xcalloc(n ? n : 1, sizeof(title_key));

	for (i = 0; i < n; i++) {
		const cb_doc *doc = cb_site_case(r->site, i);
		cb_buf b = CB_BUF_INIT;
		const char *t = cb_doc_title(doc);

		cb_utf8_fold(&b, t, strlen(t));
		keys[i].folded = cb_buf_detach(&b);
		keys[i].index = i;
		keys[i].slug = cb_doc_slug(doc);
	}
	if (n)
		qsort(keys, n, sizeof(title_key), cmp_title_key);
	r->order = cb_xcalloc(n ? n : 1, sizeof(size_t));
	r->pos = cb_xcalloc(n ? n : 1, sizeof(size_t));
	r->by_title = cb_value_new_list();
	for (i = 0; i < n; i++) {
		r->order[i] = keys[i].index;
		r->pos[keys[i].index] = i;
		cb_value_push(r->by_title, cb_value_ref(cb_value_at(r->cases, keys[i].index)));
		free(keys[i].folded);
	}
	free(keys);
}

static void gen_core(cb_render *r)
{
	cb_site *site = r->site;
	const cb_doc *intro = cb_site_page_by_name(site, "index");
	cb_value *home = cb_value_new_map(), *index = cb_value_new_map();
	size_t i;

	if (intro) {
		cb_buf b = CB_BUF_INIT;
		cb_doc_body_html(intro, &b);
		cb_value_setc(home, "intro", cb_value_new_string(b.ptr, b.len));
		cb_value_set_str(home, "intro_title", cb_doc_title(intro));
		cb_buf_dispose(&b);
	}
	cb_value_setc(home, "cases", cb_value_ref(r->by_title));
	cb_render_add(r, "index.html", "home", cb_config_title(cb_site_config(site)), "home", home);

	cb_value_setc(index, "cases", cb_value_ref(r->by_title));
	cb_render_add(r, "cases/index.html", "cases", "All cases", "cases", index);

	for (i = 0; i < cb_site_case_count(site); i++)
		cb_render_add_lazy(r, cb_doc_url(cb_site_case(site, i)), "case",
		                   cb_doc_title(cb_site_case(site, i)), "case", case_page_data, i);
	for (i = 0; i < cb_site_page_count(site); i++) {
		const cb_doc *p = cb_site_page(site, i);
		cb_value *d, *doc, *toc = NULL, *secs;
		cb_buf b = CB_BUF_INIT;

		if (strcmp(cb_doc_slug(p), "index") == 0)
			continue;
		d = cb_value_new_map();
		doc = cb_value_new_map();
		cb_doc_body_html(p, &b);
		cb_value_set_str(doc, "title", cb_doc_title(p));
		cb_value_set_str(doc, "slug", cb_doc_slug(p));
		cb_value_setc(doc, "body", cb_value_new_string(b.ptr, b.len));
		cb_value_setc(doc, "meta", cb_value_ref(cb_doc_meta(p)));
		secs = sections_ctx(p, &toc);
		cb_value_unref(secs);
		cb_value_setc(doc, "toc", toc);
		cb_buf_dispose(&b);
		cb_value_setc(d, "doc", doc);
		cb_render_add(r, cb_doc_url(p), "page", cb_doc_title(p), "page", d);
	}
}

static void gen_plugin_pages(cb_render *r)
{
	size_t i;

	for (i = 0; i < cb_site_extra_count(r->site); i++) {
		const char *path, *tmpl, *origin;
		const cb_value *data;
		const cb_value *title;

		cb_site_extra_at(r->site, i, &path, &tmpl, &data, &origin);
		title = cb_value_getc(data, "title");
		cb_render_add(r, path, tmpl, cb_value_cstr(title) ? cb_value_cstr(title) : "", tmpl,
		              cb_value_ref((cb_value *)data));
	}
}

/* Hands a piece of a data file's JSON to its sink. */
static void put_piece(void *sink, const char *data, size_t len)
{
	cb_render_sink_put(sink, data, len);
}

/* A data file, made on the worker that writes it and handed to the output
 * a megabyte at a time: the JSON of a big data file (lessons: 18 MB at
 * 10,000 cases) is never held whole. */
static int write_data(cb_render *r, cb_render_sink *sink, void *ctx, size_t i)
{
	const char *name;
	const cb_value *v;
	cb_buf b = CB_BUF_INIT;

	(void)ctx;
	cb_site_data_at(r->site, i, &name, &v);
	cb_value_json_flushing(v, &b, 2, (size_t)1 << 20, put_piece, sink);
	cb_buf_putc(&b, '\n');
	cb_render_sink_put(sink, b.ptr, b.len);
	cb_buf_dispose(&b);
	return 0;
}

static void gen_data(cb_render *r)
{
	size_t i;

	for (i = 0; i < cb_site_data_count(r->site); i++) {
		const char *name;
		const cb_value *v;
		char *path;

		cb_site_data_at(r->site, i, &name, &v);
		path = cb_xasprintf("data/%s.json", name);
		cb_render_add_writer(r, path, NULL, NULL, NULL, write_data, NULL, i);
		free(path);
	}
}

/* ---- sharing pages between editions ---------------------------------------
 *
 * With a cache (opts->cache), a case page is rendered once for every edition
 * whose page would come out the same, apart from the edition switcher; so is
 * each case's piece of a page a writer renders case by case (the print
 * edition, cb_render_sink_put_case). The key is a hash of what the page's
 * (or piece's) context is made of:
 *
 *   the environment, per template: casebook's version, the theme's name, the
 *   sources of the template and of the partials and parents it uses (as the
 *   engine finds them), the configuration (but its `editions`), the site
 *   context (plugins' site values included), the navigation, the
 *   vocabularies, the pages plugins added (term pages are linked when they
 *   exist) and the configured plugins' files;
 *
 *   the page: its path, title and kind;
 *
 *   the case and, for case pages, its neighbours (previous, next): each
 *   one's kind, path and blob id (which fix its front matter and Markdown,
 *   the parse options being in the configuration), the sections plugins
 *   left out, and the values and facets plugins gave it (the history among
 *   them).
 *
 * The site context is hashed as the template can see it: a map entry whose
 * name appears nowhere in the template's sources cannot reach its pages
 * (Mustache only finds values by name), so it is left out; site.case_count,
 * which the home and index pages show but case pages do not, then does not
 * make every case page of an edition with one more case differ. Other pages
 * (home, indexes, free pages, plugin pages, search and data files) are
 * rendered for each edition: there are few of them and most list every case.
 */

/* May one of the templates whose sources are `text` mention `name`? (A
 * name that occurs in none of them, in any form, cannot be looked up.) */
static int maybe_used(const cb_buf *text, const char *name, size_t len)
{
	return len == 0 || memmem(text->ptr, text->len, name, len) != NULL;
}

/* Append an unambiguous encoding of v to b; with filter (template sources),
 * leave out map entries those templates cannot name. */
static void put_value(cb_buf *b, const cb_value *v, const cb_buf *filter)
{
	size_t i, len;
	const char *s;

	switch (cb_value_type(v)) {
	case CB_NULL: cb_buf_putc(b, 'n'); break;
	case CB_BOOL: cb_buf_putc(b, cb_value_bool(v) ? 't' : 'f'); break;
	case CB_INT: cb_buf_printf(b, "i%lld;", cb_value_int(v)); break;
	case CB_FLOAT: cb_buf_printf(b, "d%.17g;", cb_value_float(v)); break;
	case CB_STRING:
		s = cb_value_str(v, &len);
		cb_buf_putc(b, 's');
		cb_buf_put_uint(b, len);
		cb_buf_putc(b, ':');
		cb_buf_put(b, s, len);
		break;
	case CB_DATE:
		cb_buf_putc(b, 'D');
		cb_value_text(v, b);
		cb_buf_putc(b, ';');
		break;
	case CB_LIST:
		cb_buf_putc(b, 'l');
		cb_buf_put_uint(b, cb_value_len(v));
		cb_buf_putc(b, '[');
		for (i = 0; i < cb_value_len(v); i++)
			put_value(b, cb_value_at(v, i), filter);
		cb_buf_putc(b, ']');
		break;
	case CB_MAP:
		cb_buf_putc(b, '{');
		for (i = 0; i < cb_value_len(v); i++) {
			const char *k = cb_value_key(v, i, &len);
			if (filter && !maybe_used(filter, k, len))
				continue;
			cb_buf_put_uint(b, len);
			cb_buf_putc(b, ':');
			cb_buf_put(b, k, len);
			put_value(b, cb_value_entry(v, i), filter);
		}
		cb_buf_putc(b, '}');
		break;
	}
}

static void hash_buf(const cb_buf *b, char *out)
{
	if (cb_git_hash_blob(b->ptr, b->len, out) < 0)
		out[0] = '\0';
}

static void gather_sources(cb_render *r, const char *root, cb_buf *out);

/* The key of what is made from the templates whose sources are `sources`
 * besides cases, into out. */
static void compute_env_key_with(cb_render *r, const cb_buf *sources, char *out)
{
	const cb_config *cfg = cb_site_config(r->site);
	const cb_value *root = cb_config_value(cfg);
	cb_buf b = CB_BUF_INIT;
	size_t i;

	cb_buf_printf(&b, "casebook %s\ntheme %s\n", CB_VERSION, r->theme);
	cb_buf_put(&b, sources->ptr, sources->len);
	cb_buf_puts(&b, "\nconfig");
	for (i = 0; i < cb_value_len(root); i++) {
		size_t kl;
		const char *k = cb_value_key(root, i, &kl);
		if (strcmp(k, "editions") == 0)
			continue;
		cb_buf_printf(&b, "%zu:", kl);
		cb_buf_put(&b, k, kl);
		put_value(&b, cb_value_entry(root, i), NULL);
	}
	cb_buf_puts(&b, "\nsite");
	put_value(&b, r->site_ctx, sources);
	cb_buf_puts(&b, "\nnav");
	for (i = 0; i < cb_site_nav_count(r->site); i++) {
		const char *title, *url;
		cb_site_nav_at(r->site, i, &title, &url);
		cb_buf_printf(&b, "%zu:%s%zu:%s", strlen(title), title, strlen(url), url);
	}
	cb_buf_puts(&b, "\ntaxonomies");
	for (i = 0; i < cb_site_taxonomy_count(r->site); i++) {
		const char *name;
		const cb_value *t = cb_site_taxonomy_at(r->site, i, &name, NULL);
		cb_buf_printf(&b, "%zu:%s", strlen(name), name);
		put_value(&b, t, NULL);
	}
	put_value(&b, r->field_tax, NULL);
	cb_buf_puts(&b, "\nextras");
	for (i = 0; i < cb_site_extra_count(r->site); i++) {
		const char *path, *etmpl, *origin;
		const cb_value *data;
		char *dir;
		int skip;
		cb_site_extra_at(r->site, i, &path, &etmpl, &data, &origin);
		/* Case contexts only ask whether "<vocabulary>/<term>.html"
		 * exists: the editions' own pages (changes.html, editions/
		 * index.html) can matter only in a vocabulary's folder. */
		dir = cb_path_dirname(path);
		skip = strcmp(origin, "casebook") == 0 && !cb_site_taxonomy(r->site, dir);
		free(dir);
		if (!skip)
			cb_buf_printf(&b, "%zu:%s%zu:%s", strlen(path), path, strlen(etmpl), etmpl);
	}
	cb_buf_puts(&b, "\nplugins");
	for (i = 0; i < cb_config_plugin_count(cfg); i++) {
		char *p = cb_xasprintf("plugins/%s.lua", cb_config_plugin(cfg, i));
		cb_source *src = cb_site_lookup(r->site, p);
		char id[CB_OID_HEXSZ + 1] = "";
		if (src)
			cb_source_blob_id(src, p, NULL, 0, id);
		cb_buf_printf(&b, "%s=%s;", p, id);
		free(p);
	}
	hash_buf(&b, out);
	cb_buf_dispose(&b);
}

/* The same for pages made with template tmpl. */
static void compute_env_key(cb_render *r, const char *tmpl, char *out)
{
	cb_buf sources = CB_BUF_INIT;

	gather_sources(r, tmpl, &sources);
	compute_env_key_with(r, &sources, out);
	cb_buf_dispose(&sources);
}

/* The key of case i's own part of a page: NULL if it cannot be shared. */
static char *compute_doc_key(cb_render *r, size_t i)
{
	const cb_doc *doc = cb_site_case(r->site, i);
	const cb_md *md = cb_doc_md(doc);
	cb_buf b = CB_BUF_INIT;
	char id[CB_OID_HEXSZ + 1];
	size_t k;

	if (!*cb_doc_blob_id(doc))
		return NULL;
	cb_buf_printf(&b, "case\n%s\n%s\n", cb_doc_path(doc), cb_doc_blob_id(doc));
	for (k = 0; k < cb_md_section_count(md); k++)
		cb_buf_putc(&b, cb_doc_section_omitted(doc, k) ? '1' : '0');
	cb_buf_puts(&b, "\nvars");
	put_value(&b, cb_doc_vars(doc), NULL);
	cb_buf_puts(&b, "\nfacets");
	put_value(&b, cb_doc_facets(doc), NULL);
	hash_buf(&b, id);
	cb_buf_dispose(&b);
	return *id ? cb_xstrdup(id) : NULL;
}

/* A loader that also records what it read (name -> {path, text}). */
typedef struct key_loader {
	cb_render *r;
	cb_value *read;
} key_loader;

static int key_template_loader(void *ctx, const char *name, char **data, size_t *len,
                               char **path, cb_diag_list *diags)
{
	key_loader *k = ctx;
	int rc = template_loader(k->r, name, data, len, path, diags);

	if (rc == 0) {
		cb_value *t = cb_value_new_map();
		cb_value_set_str(t, "path", *path);
		cb_value_setc(t, "text", cb_value_new_string(*data, *len));
		cb_value_setc(k->read, name, t);
	}
	return rc;
}

/* The sources of template `root` and of every partial and parent it uses,
 * as the template engine itself finds them (compiling root in a set of its
 * own that records what it reads), appended to out. */
static void gather_sources(cb_render *r, const char *root, cb_buf *out)
{
	key_loader k;
	cb_tmpl_set *set;
	cb_diag_list *scratch = cb_diag_list_new(); /* the real set reported already */
	const cb_tmpl *t;
	size_t i;

	k.r = r;
	k.read = cb_value_new_map();
	set = cb_tmpl_set_new(key_template_loader, &k);
	cb_tmpl_set_get(set, root, &t, scratch);
	for (i = 0; i < cb_value_len(k.read); i++) {
		const cb_value *e = cb_value_entry(k.read, i);
		size_t tl;
		const char *text = cb_value_str(cb_value_getc(e, "text"), &tl);
		cb_buf_printf(out, "\n%s\n%s\n%zu\n", cb_value_key(k.read, i, NULL),
		              cb_value_cstr(cb_value_getc(e, "path")), tl);
		cb_buf_put(out, text, tl);
	}
	cb_tmpl_set_free(set);
	cb_diag_list_free(scratch);
	cb_value_unref(k.read);
}

static void add_env_key(cb_render *r, const char *tmpl)
{
	char key[CB_OID_HEXSZ + 1];

	if (cb_value_getc(r->env_keys, tmpl))
		return;
	compute_env_key(r, tmpl, key);
	cb_value_set_str(r->env_keys, tmpl, key);
}

/* Keys for the case pages and for the pieces writers render case by case
 * (cb_render_sink_put_case): an environment key per template (the case
 * template, every template a writer named). The cases' own keys were made
 * before the generators ran (compute_doc_keys). */
static void compute_keys(cb_render *r)
{
	size_t i;
	char **l;

	r->env_keys = cb_value_new_map();
	for (i = 0; i < r->n_jobs && !r->key_tmpl; i++)
		if (r->jobs[i].build == case_page_data)
			r->key_tmpl = cb_xstrdup(r->jobs[i].tmpl);
	if (r->key_tmpl)
		add_env_key(r, r->key_tmpl);
	for (i = 0; i < r->n_jobs; i++)
		for (l = r->jobs[i].tmpl_list; l && *l; l++)
			add_env_key(r, *l);
}

/* The key of each case's own data, and of what data derived from a case
 * depends on besides: made before the generators run, for them to use (or,
 * for a site first made alone, before its pages are rendered). */
static void compute_doc_keys(cb_render *r)
{
	size_t i, n = cb_site_case_count(r->site);
	cb_buf none = CB_BUF_INIT;

	/* No template: the site context counts only by its shape. */
	compute_env_key_with(r, &none, r->data_env);
	r->doc_keys = cb_xcalloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		r->doc_keys[i] = compute_doc_key(r, i);
}

int cb_render_case_key(const cb_render *r, size_t i, const char *what, char *out)
{
	cb_buf b = CB_BUF_INIT;

	if (!r->opts->cache || !r->doc_keys || i >= cb_site_case_count(r->site) || !r->doc_keys[i] ||
	    !*r->data_env)
		return -1;
	cb_buf_printf(&b, "data\n%s\n%s\n%s\n", r->data_env, what, r->doc_keys[i]);
	hash_buf(&b, out);
	cb_buf_dispose(&b);
	return *out ? 0 : -1;
}

cb_cache *cb_render_cache(const cb_render *r)
{
	return r->opts->cache;
}

/* The key of a case page (lazy job j), into out; 0, or -1 if the page is not
 * to be shared. Safe on render threads (reads only). */
static int case_page_key(cb_render *r, const job *j, char *out)
{
	size_t i = j->arg, p = prev_case(r, i), n = next_case(r, i);
	cb_buf b = CB_BUF_INIT;

	const char *env = r->key_tmpl ? cb_value_cstr(cb_value_getc(r->env_keys, r->key_tmpl)) : NULL;

	if (!r->doc_keys || !env || !*env || strcmp(j->tmpl, r->key_tmpl) != 0 || !r->doc_keys[i] ||
	    (p != NO_CASE && !r->doc_keys[p]) || (n != NO_CASE && !r->doc_keys[n]))
		return -1;
	cb_buf_printf(&b, "page\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", env, j->path, j->title,
	              j->kind, r->doc_keys[i], p != NO_CASE ? r->doc_keys[p] : "-",
	              n != NO_CASE ? r->doc_keys[n] : "-");
	hash_buf(&b, out);
	cb_buf_dispose(&b);
	return *out ? 0 : -1;
}

/* The key of the piece `what` (rendered with tmpl) of case i on writer job
 * j's page, into out; 0, or -1 if it is not to be shared. Reads only. */
static int piece_key(cb_render *r, const job *j, const char *what, const char *tmpl, size_t i,
                     char *out)
{
	cb_buf b = CB_BUF_INIT;
	const char *env = r->env_keys ? cb_value_cstr(cb_value_getc(r->env_keys, tmpl)) : NULL;

	if (!r->opts->cache || !r->doc_keys || !env || !*env || i >= cb_site_case_count(r->site) ||
	    !r->doc_keys[i])
		return -1;
	cb_buf_printf(&b, "piece\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", env, what, tmpl, j->path,
	              j->title, j->kind, r->doc_keys[i]);
	hash_buf(&b, out);
	cb_buf_dispose(&b);
	return *out ? 0 : -1;
}

/* ---- running the queue --------------------------------------------------- */

typedef struct worker_ctx {
	cb_render *r;
	cb_output *out;
} worker_ctx;

static void set_failed(cb_render *r)
{
	pthread_mutex_lock(&r->lock);
	r->failed = 1;
	pthread_mutex_unlock(&r->lock);
}

/* Render the edition switcher of page j into sw (empty if the theme has
 * none). It sees site, page, nav and editions. */
static int render_switcher(cb_render *r, const job *j, const char *title, const char *kind,
                           cb_buf *sw)
{
	const cb_tmpl *t = NULL;
	cb_value *ctx;
	int rc;

	cb_buf_clear(sw);
	if (!r->has_switcher)
		return 0;
	pthread_mutex_lock(&r->lock);
	rc = cb_tmpl_set_get(r->tmpls, "casebook:edition-switcher", &t, r->diags);
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		return rc == CB_TMPL_NOTFOUND ? 0 : -1;
	ctx = root_ctx(r, j->path, title, kind, NULL);
	cb_value_setc(ctx, "editions", r->opts->editions(r->opts->editions_ctx, j->path));
	rc = cb_tmpl_render(t, r->tmpls, ctx, sw, r->diags);
	cb_value_unref(ctx);
	return rc;
}

/* Write page bytes [0, len) with the switcher marker at `hole` (if any)
 * replaced by sw. */
static int write_spliced(cb_render *r, cb_output *out, const char *opath, const char *data,
                         size_t len, const char *hole, size_t hole_len, const cb_buf *sw)
{
	cb_buf page = CB_BUF_INIT;
	int rc;

	if (!hole)
		return cb_output_write(out, opath, data, len);
	cb_buf_grow(&page, len - hole_len + sw->len);
	cb_buf_put(&page, data, (size_t)(hole - data));
	cb_buf_put(&page, sw->ptr, sw->len);
	cb_buf_put(&page, hole + hole_len, len - (size_t)(hole - data) - hole_len);
	rc = cb_output_write(out, opath, page.ptr, page.len);
	cb_buf_dispose(&page);
	(void)r;
	return rc;
}

/* Put the edition switcher in place of the first marker at or after byte
 * `from` of out (a piece of a page a writer streams). */
static int splice_switcher(cb_render *r, const job *j, cb_buf *out, size_t from)
{
	const char *marker = cb_cache_marker(r->opts->cache);
	size_t ml = strlen(marker), at, tail;
	const char *hole = memmem(out->ptr + from, out->len - from, marker, ml);
	cb_buf sw = CB_BUF_INIT;
	char *rest;

	if (!hole)
		return 0;
	if (render_switcher(r, j, j->title, j->kind, &sw) < 0) {
		cb_buf_dispose(&sw);
		return -1;
	}
	at = (size_t)(hole - out->ptr);
	tail = out->len - at - ml;
	rest = cb_xstrndup(hole + ml, tail);
	cb_buf_truncate(out, at);
	cb_buf_put(out, sw.ptr, sw.len);
	cb_buf_put(out, rest, tail);
	free(rest);
	cb_buf_dispose(&sw);
	return 0;
}

/* A page another edition rendered the same: copy its file and put this
 * edition's switcher in. Returns 1 if done, 0 if the page must be rendered
 * after all, -1 on error. */
static int reuse_page(cb_render *r, cb_output *out, const job *j, const char *opath,
                      const char *key, cb_buf *sw)
{
	const char *from;
	size_t hole, hole_len, len;
	char *full, *data = NULL;
	int rc;

	if (!cb_cache_page_get(r->opts->cache, key, &from, &hole, &hole_len))
		return 0;
	full = cb_xasprintf("%s/%s", cb_output_tmpdir(out), from);
	rc = cb_fs_read(full, 0, &data, &len);
	free(full);
	if (rc < 0 || hole + hole_len > len) {
		free(data);
		return 0;
	}
	if (render_switcher(r, j, j->title, j->kind, sw) < 0) {
		free(data);
		return -1;
	}
	if (hole_len == 0 && sw->len == 0)
		rc = cb_output_write(out, opath, data, len);
	else {
		cb_buf page = CB_BUF_INIT;
		cb_buf_grow(&page, len - hole_len + sw->len);
		cb_buf_put(&page, data, hole);
		cb_buf_put(&page, sw->ptr, sw->len);
		cb_buf_put(&page, data + hole + hole_len, len - hole - hole_len);
		rc = cb_output_write(out, opath, page.ptr, page.len);
		cb_buf_dispose(&page);
	}
	free(data);
	return rc < 0 ? -1 : 1;
}

static int render_job(cb_render *r, cb_output *out, job *j, cb_buf *b, cb_buf *sw)
{
	const cb_tmpl *t = NULL;
	char *opath = cb_xasprintf("%s%s", r->prefix, j->path);
	char key[CB_OID_HEXSZ + 1];
	int rc, keyed = 0;

	if (j->writer) {
		rc = run_writer(r, out, j);
		goto out;
	}
	if (j->raw) {
		rc = cb_output_write(out, opath, j->raw, j->raw_len);
		goto out;
	}
	cb_buf_clear(b);
	pthread_mutex_lock(&r->lock);
	rc = cb_tmpl_set_get(r->tmpls, j->tmpl, &t, r->diags);
	pthread_mutex_unlock(&r->lock);
	if (rc == CB_TMPL_NOTFOUND) {
		cb_diag_error(r->diags, "no-template", j->path, 0, 0,
		              "theme '%s' has no template '%s' (looked for "
		              "themes/%s/templates/%s.mustache)",
		              r->theme, j->tmpl, r->theme, j->tmpl);
		rc = -1;
	}
	if (rc < 0)
		goto out;
	if (r->opts->cache && j->build == case_page_data && case_page_key(r, j, key) == 0) {
		keyed = 1;
		rc = reuse_page(r, out, j, opath, key, sw);
		if (rc != 0) {
			rc = rc < 0 ? -1 : 0;
			goto out;
		}
	}
	if (j->build) {
		cb_value *data = j->build(r, j->arg);
		cb_value *ctx = root_ctx(r, j->path, j->title, j->kind, data);
		cb_value_unref(data);
		rc = cb_tmpl_render(t, r->tmpls, ctx, b, r->diags);
		cb_value_unref(ctx);
	} else {
		rc = cb_tmpl_render(t, r->tmpls, j->ctx, b, r->diags);
	}
	if (rc < 0)
		goto out;
	if (r->switching) {
		const char *marker = cb_cache_marker(r->opts->cache);
		size_t ml = strlen(marker);
		const char *hole = memmem(b->ptr, b->len, marker, ml);
		const cb_value *page = cb_value_getc(j->ctx, "page");
		const char *title = j->build ? j->title : cb_value_cstr(cb_value_getc(page, "title"));
		const char *kind = j->build ? j->kind : cb_value_cstr(cb_value_getc(page, "kind"));

		cb_buf_clear(sw);
		if (hole && render_switcher(r, j, title, kind, sw) < 0) {
			rc = -1;
			goto out;
		}
		rc = write_spliced(r, out, opath, b->ptr, b->len, hole, hole ? ml : 0, sw);
		if (rc == 0 && keyed)
			cb_cache_page_put(r->opts->cache, key, opath, hole ? (size_t)(hole - b->ptr) : 0,
			                  hole ? sw->len : 0);
	} else {
		rc = cb_output_write(out, opath, b->ptr, b->len);
		if (rc == 0 && keyed)
			cb_cache_page_put(r->opts->cache, key, opath, 0, 0);
	}
out:
	free(opath);
	return rc;
}

#define WORKER_BUF_KEEP (1024 * 1024)

static void *worker(void *arg)
{
	worker_ctx *w = arg;
	cb_render *r = w->r;
	cb_buf b = CB_BUF_INIT, sw = CB_BUF_INIT;
	size_t k;

	while ((k = atomic_fetch_add(&r->next, 1)) < r->n_jobs) {
		size_t i = r->job_order[k], d;

		if (r->opts && r->opts->stop && *r->opts->stop) {
			set_failed(r);
			break;
		}
		if (render_job(r, w->out, &r->jobs[i], &b, &sw) < 0)
			set_failed(r);
		/* Keep the buffer for the next page, unless a big page (the
		 * lessons, 14 MB at 10,000 cases) made it big. */
		if (b.cap > WORKER_BUF_KEEP)
			cb_buf_dispose(&b);
		d = atomic_fetch_add(&r->done, 1) + 1;
		if (r->opts && r->opts->progress && (d % 256 == 0 || d == r->n_jobs)) {
			pthread_mutex_lock(&r->lock);
			r->opts->progress(r->opts->progress_ctx, d, r->n_jobs);
			pthread_mutex_unlock(&r->lock);
		}
	}
	cb_buf_dispose(&b);
	cb_buf_dispose(&sw);
	return NULL;
}

/* Compile template `name` (NULL: none) unless it was tried before, so that a
 * broken template is reported once, not once per page using it. */
static void precompile(cb_render *r, const char *name, cb_value *tried)
{
	const cb_tmpl *t;

	if (!name || cb_value_getc(tried, name))
		return;
	cb_value_set(tried, name, strlen(name), cb_value_new_bool(1));
	if (cb_tmpl_set_get(r->tmpls, name, &t, r->diags) == -1)
		r->failed = 1;
}

static int run_queue(cb_render *r, cb_output *out)
{
	worker_ctx w = {r, out};
	cb_value *tried = cb_value_new_map();
	size_t k, m = 0;

	/* Compile every template the queue needs before rendering in parallel,
	 * so that the workers only read the set. */
	for (k = 0; k < r->n_jobs; k++) {
		char **l;
		precompile(r, r->jobs[k].tmpl, tried);
		for (l = r->jobs[k].tmpl_list; l && *l; l++)
			precompile(r, *l, tried);
	}
	if (r->has_switcher)
		precompile(r, "casebook:edition-switcher", tried);
	cb_value_unref(tried);
	if (r->failed)
		return -1;
	if (r->opts->cache && !r->opts->alone) {
		if (!r->doc_keys)
			compute_doc_keys(r);
		compute_keys(r);
	}
	/* Pages written piece by piece first: they are the longest jobs (the
	 * print edition takes as long as hundreds of pages), so they run beside
	 * the pages instead of last and alone; and what they keep (the search
	 * index) is let go sooner. The files are the same in any order. */
	free(r->job_order);
	r->job_order = cb_xcalloc(r->n_jobs + 1, sizeof *r->job_order);
	for (k = 0; k < r->n_jobs; k++)
		if (r->jobs[k].writer)
			r->job_order[m++] = k;
	for (k = 0; k < r->n_jobs; k++)
		if (!r->jobs[k].writer)
			r->job_order[m++] = k;
	cb_pool_run(cb_render_threads(r), worker, &w);
	return r->failed ? -1 : 0;
}

/* Generators of other modules, in order (see cb_render.h). */
typedef void (*generator)(cb_render *r);
static const generator generators[] = {gen_core, gen_plugin_pages, gen_data, cb_search_generate,
                                       cb_print_generate, cb_export_generate,
                                       cb_feed_generate /* last: lists every page */, NULL};

/* In an edition build, the base layout's {{> edition-switcher}} renders as
 * the cache's marker; the theme's own edition-switcher template is kept as
 * "casebook:edition-switcher" and rendered into the marker's place. */
static void setup_switcher(cb_render *r)
{
	const char *marker = cb_cache_marker(r->opts->cache);
	char *data = NULL, *path = NULL;
	size_t len;

	if (template_loader(r, "edition-switcher", &data, &len, &path, r->diags) == 0) {
		cb_tmpl_set_add(r->tmpls, "casebook:edition-switcher", data, len, path);
		r->has_switcher = 1;
	}
	cb_tmpl_set_add(r->tmpls, "edition-switcher", marker, strlen(marker), "edition switcher");
	free(data);
	free(path);
}

static const cb_render_opts default_opts = CB_RENDER_OPTS_INIT;

/* 1 if theme `theme` is neither in the source nor installed. */
static int theme_missing(const cb_site *site, const char *theme)
{
	char *probe = cb_xasprintf("themes/%s", theme);
	int found = cb_site_lookup(site, probe) != NULL;

	free(probe);
	return !found;
}

/* Is theme `theme` there? Reports it at casebook.yml's theme when not.
 * Returns 0 or -1. */
static int find_theme(cb_site *site, const char *theme)
{
	const cb_value *at;

	if (!theme_missing(site, theme))
		return 0;
	at = cb_value_getc(cb_config_value(cb_site_config(site)), "theme");
	return cb_diag_error(cb_site_diags(site), "no-theme", CB_CONFIG_FILE,
	                     at ? cb_value_line(at) : 0, at ? cb_value_col(at) : 0,
	                     "theme '%s' not found (looked in themes/%s in the source and in the "
	                     "installed themes)",
	                     theme, theme);
}

cb_value *cb_render_theme_templates(cb_site *site)
{
	const char *theme = cb_config_theme(cb_site_config(site));
	const char *themes[2] = {theme, "default"};
	cb_value *names;
	int i;

	if (theme_missing(site, theme))
		return NULL;
	names = cb_value_new_map();
	/* A template is looked for in the theme, then in the default theme,
	 * each in the source, then installed (template_loader). */
	for (i = 0; i < (strcmp(theme, "default") == 0 ? 2 : 4); i++) {
		char *dir = cb_xasprintf("themes/%s/templates", themes[i / 2]);
		cb_source *src = i % 2 ? cb_site_share(site) : cb_site_source(site);
		cb_fs_entry *e = NULL;
		size_t n = 0, k;
		cb_fs_kind kind;

		if (src && cb_source_kind(src, dir, &kind) == 0 && kind == CB_FS_DIR &&
		    cb_source_list(src, dir, &e, &n) == 0)
			for (k = 0; k < n; k++) {
				size_t len = strlen(e[k].name);

				if (e[k].kind == CB_FS_FILE && e[k].name[0] != '.' && len > 9 &&
				    strcmp(e[k].name + len - 9, ".mustache") == 0 &&
				    !cb_value_get(names, e[k].name, len - 9))
					cb_value_set(names, e[k].name, len - 9, cb_value_new_null());
			}
		cb_fs_list_free(e, n);
		free(dir);
	}
	return names;
}

int cb_render_check_theme(cb_site *site, const cb_value *names)
{
	cb_render r;
	size_t i;
	int rc = 0;

	if (!names)
		return find_theme(site, cb_config_theme(cb_site_config(site)));
	memset(&r, 0, sizeof r);
	r.site = site;
	r.theme = (char *)cb_config_theme(cb_site_config(site));
	r.tmpls = cb_tmpl_set_new(template_loader, &r);
	/* By name, as rendering loads them; the partials and parents they name
	 * are among them. */
	for (i = 0; i < cb_value_len(names); i++) {
		const cb_tmpl *t;

		if (cb_tmpl_set_get(r.tmpls, cb_value_key(names, i, NULL), &t, cb_site_diags(site)) < 0)
			rc = -1;
	}
	cb_tmpl_set_free(r.tmpls);
	return rc;
}

int cb_render_new(cb_render **out, cb_site *site, const cb_render_opts *opts)
{
	cb_render *r;
	size_t i;

	*out = NULL;
	if (find_theme(site, cb_config_theme(cb_site_config(site))) < 0)
		return -1;
	r = cb_xcalloc(1, sizeof *r);
	r->site = site;
	r->diags = cb_site_diags(site);
	r->opts = opts ? opts : &default_opts;
	r->prefix = cb_xstrdup(r->opts->prefix ? r->opts->prefix : "");
	r->theme = cb_xstrdup(cb_config_theme(cb_site_config(site)));
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->next, 0);
	atomic_init(&r->done, 0);
	r->tmpls = cb_tmpl_set_new(template_loader, r);
	/* No marker without a cache, so no switcher either. */
	r->switching = r->opts->editions && r->opts->cache;
	if (r->switching)
		setup_switcher(r);

	/* Which front-matter field each vocabulary classifies. */
	r->field_tax = cb_value_new_map();
	for (i = 0; i < cb_site_taxonomy_count(site); i++) {
		const char *name;
		const cb_value *t = cb_site_taxonomy_at(site, i, &name, NULL);
		const char *field = cb_value_cstr(cb_value_getc(t, "field"));
		cb_value_set_str(r->field_tax, field ? field : name, name);
	}
	make_fact_terms(r);
	build_nav(r);
	if (cb_site_nav_count(site)) {
		/* Sort the navigation now: workers only read it. */
		const char *t0, *p0;
		cb_site_nav_at(site, 0, &t0, &p0);
	}
	r->site_ctx = build_site_ctx(r);
	r->cases = cb_value_new_list();
	r->shared_terms = cb_value_new_map();
	for (i = 0; i < cb_site_case_count(site); i++)
		cb_value_push(r->cases, summary_ctx(r, cb_site_case(site, i)));
	cb_value_unref(r->shared_terms); /* the summaries hold what they use */
	r->shared_terms = NULL;
	sort_by_title(r);
	if (r->opts->cache && !r->opts->alone)
		compute_doc_keys(r);

	for (i = 0; generators[i]; i++)
		generators[i](r);
	copy_assets(r);
	*out = r;
	return 0;
}

int cb_render_run(cb_render *r, cb_output *out)
{
	cb_site *site = r->site;
	size_t i;
	int rc = 0;

	if (run_queue(r, out) < 0)
		rc = -1;
	/* Content files and theme assets. */
	for (i = 0; rc == 0 && i < cb_site_file_count(site); i++) {
		const char *from, *to;
		cb_source *src;
		char *opath;

		cb_site_file_at(site, i, &from, &to);
		src = strncmp(from, "themes/", 7) == 0 ? cb_site_lookup(site, from)
		                                       : cb_site_source(site);
		opath = cb_xasprintf("%s%s", r->prefix, to);
		if (!src || cb_output_copy(out, opath, src, from) < 0)
			rc = -1;
		free(opath);
	}
	return rc;
}

void cb_render_free(cb_render *r)
{
	size_t i, k;

	if (!r)
		return;
	for (i = 0; i < r->n_jobs; i++) {
		free(r->jobs[i].path);
		free(r->jobs[i].tmpl);
		free(r->jobs[i].raw);
		free(r->jobs[i].title);
		free(r->jobs[i].kind);
		cb_value_unref(r->jobs[i].ctx);
		for (k = 0; r->jobs[i].tmpl_list && r->jobs[i].tmpl_list[k]; k++)
			free(r->jobs[i].tmpl_list[k]);
		free(r->jobs[i].tmpl_list);
	}
	free(r->jobs);
	free(r->job_order);
	for (i = r->n_kept; i > 0; i--)
		r->kept[i - 1].free_fn(r->kept[i - 1].ptr);
	free(r->kept);
	if (r->doc_keys)
		for (i = 0; i < cb_site_case_count(r->site); i++)
			free(r->doc_keys[i]);
	free(r->doc_keys);
	cb_value_unref(r->env_keys);
	free(r->key_tmpl);
	cb_value_unref(r->cases);
	cb_value_unref(r->by_title);
	free(r->order);
	free(r->pos);
	cb_value_unref(r->site_ctx);
	cb_value_unref(r->field_tax);
	cb_value_unref(r->fact_terms);
	cb_tmpl_set_free(r->tmpls);
	free(r->theme);
	free(r->prefix);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int cb_render_site(cb_site *site, cb_output *out, const cb_render_opts *opts)
{
	cb_render *r;
	int rc;

	if (cb_render_new(&r, site, opts) < 0)
		return -1;
	rc = cb_render_run(r, out);
	cb_render_free(r);
	return rc;
}
