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
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_print.h"
#include "cb_search.h"
#include "cb_template.h"

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
	cb_value *root; /* site, page, nav: built on first use */
	int failed;
};

struct cb_render {
	cb_site *site;
	cb_diag_list *diags;
	cb_tmpl_set *tmpls;
	char *theme;
	cb_value *site_ctx;
	cb_value *cases; /* list of case contexts */
	cb_value *field_tax; /* front-matter field -> taxonomy name */
	job *jobs;
	size_t n_jobs, cap_jobs;
	atomic_size_t next, done;
	const cb_render_opts *opts;
	pthread_mutex_t lock;
	int failed;
	kept *kept;
	size_t n_kept;
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

static int facet_has(const cb_value *facet, const char *term, int *derived)
{
	size_t i;

	for (i = 0; i < cb_value_len(facet); i++) {
		const cb_value *e = cb_value_at(facet, i);
		const char *t = cb_value_cstr(cb_value_getc(e, "term"));
		if (t && strcmp(t, term) == 0) {
			*derived = cb_value_bool(cb_value_getc(e, "derived"));
			return 1;
		}
	}
	return 0;
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
				int derived = 0;
				if (tax) {
					facet_has(facet, term, &derived);
					cb_value_push(items, term_ctx(r, tax, term, 0));
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
					cb_value_push(items, term_ctx(r, tax, term,
					                              cb_value_bool(cb_value_getc(e, "derived"))));
			}
			cb_value_unref(vals);
			if (cb_value_len(items) == 0) {
				cb_value_unref(items);
				continue;
			}
			/* Taxonomy items carry label; give them text too. */
			for (i = 0; i < cb_value_len(items); i++) {
				cb_value *it = cb_value_at(items, i);
				if (!cb_value_getc(it, "text"))
					cb_value_setc(it, "text", cb_value_ref(cb_value_getc(it, "label")));
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
			cb_value_push(terms, term_ctx(r, tax, cb_value_cstr(cb_value_getc(e, "term")),
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
			cb_value_push(sectors, term_ctx(r, "sector", id, 0));
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
}

int cb_render_sink_render(cb_render_sink *s, const char *tmpl, const cb_value *data, cb_buf *out)
{
	cb_render *r = s->r;
	const cb_tmpl *t = NULL;
	cb_value *ctx;
	size_t i;
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
	return rc;
}

void cb_render_keep(cb_render *r, void *ptr, void (*free_fn)(void *))
{
	r->kept = cb_xreallocarray(r->kept, r->n_kept + 1, sizeof(kept));
	r->kept[r->n_kept].ptr = ptr;
	r->kept[r->n_kept].free_fn = free_fn;
	r->n_kept++;
}

size_t cb_render_page_count(const cb_render *r) { return r->n_jobs; }
const char *cb_render_page_path(const cb_render *r, size_t i) { return r->jobs[i].path; }

/* Run a writer job: stream its page to the output folder. */
static int run_writer(cb_render *r, cb_output *out, const job *j)
{
	cb_render_sink s;
	int rc;

	memset(&s, 0, sizeof s);
	s.r = r;
	s.j = j;
	if (cb_output_file_open(out, j->path, &s.file) < 0)
		return -1;
	rc = j->writer(r, &s, j->writer_ctx, j->arg);
	if (cb_output_file_close(s.file) < 0)
		rc = -1;
	cb_value_unref(s.root);
	return rc;
}

const cb_site *cb_render_get_site(const cb_render *r) { return r->site; }
cb_value *cb_render_case(const cb_render *r, size_t i) { return cb_value_at(r->cases, i); }
size_t cb_render_case_count(const cb_render *r) { return cb_value_len(r->cases); }
cb_value *cb_render_cases(const cb_render *r) { return r->cases; }
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
			i++;
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

/* The data of case page i: the case, and its neighbours for the pager. */
static cb_value *case_page_data(cb_render *r, size_t i)
{
	cb_value *d = cb_value_new_map();

	cb_value_setc(d, "case", cb_render_case_full(r, i));
	if (i > 0)
		cb_value_setc(d, "previous", cb_value_ref(cb_value_at(r->cases, i - 1)));
	if (i + 1 < cb_value_len(r->cases))
		cb_value_setc(d, "next", cb_value_ref(cb_value_at(r->cases, i + 1)));
	return d;
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
	cb_value_setc(home, "cases", cb_value_ref(r->cases));
	cb_render_add(r, "index.html", "home", cb_config_title(cb_site_config(site)), "home", home);

	cb_value_setc(index, "cases", cb_value_ref(r->cases));
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

static void gen_data(cb_render *r)
{
	size_t i;

	for (i = 0; i < cb_site_data_count(r->site); i++) {
		const char *name;
		const cb_value *v;
		cb_buf b = CB_BUF_INIT;
		char *path;

		cb_site_data_at(r->site, i, &name, &v);
		cb_value_json(v, &b, 2);
		cb_buf_putc(&b, '\n');
		path = cb_xasprintf("data/%s.json", name);
		cb_render_add_raw(r, path, b.ptr, b.len);
		free(path);
		cb_buf_dispose(&b);
	}
}

/* ---- running the queue --------------------------------------------------- */

typedef struct worker_ctx {
	cb_render *r;
	cb_output *out;
} worker_ctx;

static void *worker(void *arg)
{
	worker_ctx *w = arg;
	cb_render *r = w->r;
	cb_buf b = CB_BUF_INIT;
	size_t i;

	while ((i = atomic_fetch_add(&r->next, 1)) < r->n_jobs) {
		job *j = &r->jobs[i];
		size_t d;

		if (r->opts && r->opts->stop && *r->opts->stop) {
			pthread_mutex_lock(&r->lock);
			r->failed = 1;
			pthread_mutex_unlock(&r->lock);
			break;
		}
		if (j->writer) {
			if (run_writer(r, w->out, j) < 0) {
				pthread_mutex_lock(&r->lock);
				r->failed = 1;
				pthread_mutex_unlock(&r->lock);
			}
		} else if (j->raw) {
			if (cb_output_write(w->out, j->path, j->raw, j->raw_len) < 0) {
				pthread_mutex_lock(&r->lock);
				r->failed = 1;
				pthread_mutex_unlock(&r->lock);
			}
		} else {
			const cb_tmpl *t = NULL;
			int rc;

			cb_buf_clear(&b);
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
			if (rc == 0 && j->build) {
				cb_value *data = j->build(r, j->arg);
				cb_value *ctx = root_ctx(r, j->path, j->title, j->kind, data);
				cb_value_unref(data);
				rc = cb_tmpl_render(t, r->tmpls, ctx, &b, r->diags);
				cb_value_unref(ctx);
			} else if (rc == 0) {
				rc = cb_tmpl_render(t, r->tmpls, j->ctx, &b, r->diags);
			}
			if (rc == 0)
				rc = cb_output_write(w->out, j->path, b.ptr, b.len);
			if (rc < 0) {
				pthread_mutex_lock(&r->lock);
				r->failed = 1;
				pthread_mutex_unlock(&r->lock);
			}
		}
		d = atomic_fetch_add(&r->done, 1) + 1;
		if (r->opts && r->opts->progress && (d % 256 == 0 || d == r->n_jobs)) {
			pthread_mutex_lock(&r->lock);
			r->opts->progress(r->opts->progress_ctx, d, r->n_jobs);
			pthread_mutex_unlock(&r->lock);
		}
	}
	cb_buf_dispose(&b);
	return NULL;
}

static int run_queue(cb_render *r, cb_output *out)
{
	int n = r->opts && r->opts->threads > 0 ? r->opts->threads
	                                        : (int)sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t tids[16];
	worker_ctx w = {r, out};
	int i, started = 0;
	size_t k;

	/* Compile every template the queue needs before rendering in parallel,
	 * so that the workers only read the set. */
	for (k = 0; k < r->n_jobs; k++) {
		const cb_tmpl *t;
		char **l;
		if (r->jobs[k].tmpl && cb_tmpl_set_get(r->tmpls, r->jobs[k].tmpl, &t, r->diags) == -1)
			r->failed = 1;
		for (l = r->jobs[k].tmpl_list; l && *l; l++)
			if (cb_tmpl_set_get(r->tmpls, *l, &t, r->diags) == -1)
				r->failed = 1;
	}
	if (r->failed)
		return -1;
	if (n < 1)
		n = 1;
	if (n > 16)
		n = 16;
	for (i = 1; i < n; i++)
		if (pthread_create(&tids[started], NULL, worker, &w) == 0)
			started++;
	worker(&w);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return r->failed ? -1 : 0;
}

/* Generators of other modules, in order (see cb_render.h). */
typedef void (*generator)(cb_render *r);
static const generator generators[] = {gen_core, gen_plugin_pages, gen_data, cb_search_generate,
                                       cb_print_generate, cb_export_generate,
                                       cb_feed_generate /* last: lists every page */, NULL};

int cb_render_site(cb_site *site, cb_output *out, const cb_render_opts *opts)
{
	cb_render r;
	size_t i, k;
	int rc = 0;

	memset(&r, 0, sizeof r);
	r.site = site;
	r.diags = cb_site_diags(site);
	r.opts = opts;
	r.theme = cb_xstrdup(cb_config_theme(cb_site_config(site)));
	pthread_mutex_init(&r.lock, NULL);
	atomic_init(&r.next, 0);
	atomic_init(&r.done, 0);
	{
		char *probe = cb_xasprintf("themes/%s", r.theme);
		if (!cb_site_lookup(site, probe)) {
			free(probe);
			rc = cb_diag_error(r.diags, "no-theme", CB_CONFIG_FILE, 0, 0,
			                   "theme '%s' not found (looked in themes/%s in the source and "
			                   "in the installed themes)",
			                   r.theme, r.theme);
			goto out;
		}
		free(probe);
	}
	r.tmpls = cb_tmpl_set_new(template_loader, &r);

	/* Which front-matter field each vocabulary classifies. */
	r.field_tax = cb_value_new_map();
	for (i = 0; i < cb_site_taxonomy_count(site); i++) {
		const char *name;
		const cb_value *t = cb_site_taxonomy_at(site, i, &name, NULL);
		const char *field = cb_value_cstr(cb_value_getc(t, "field"));
		cb_value_set_str(r.field_tax, field ? field : name, name);
	}
	build_nav(&r);
	if (cb_site_nav_count(site)) {
		/* Sort the navigation now: workers only read it. */
		const char *t0, *p0;
		cb_site_nav_at(site, 0, &t0, &p0);
	}
	r.site_ctx = build_site_ctx(&r);
	r.cases = cb_value_new_list();
	for (i = 0; i < cb_site_case_count(site); i++)
		cb_value_push(r.cases, summary_ctx(&r, cb_site_case(site, i)));

	for (i = 0; generators[i]; i++)
		generators[i](&r);
	copy_assets(&r);
	if (run_queue(&r, out) < 0)
		rc = -1;
	/* Content files and theme assets. */
	for (i = 0; rc == 0 && i < cb_site_file_count(site); i++) {
		const char *from, *to;
		cb_source *src;

		cb_site_file_at(site, i, &from, &to);
		src = strncmp(from, "themes/", 7) == 0 ? cb_site_lookup(site, from)
		                                       : cb_site_source(site);
		if (!src || cb_output_copy(out, to, src, from) < 0)
			rc = -1;
	}
out:
	for (i = 0; i < r.n_jobs; i++) {
		free(r.jobs[i].path);
		free(r.jobs[i].tmpl);
		free(r.jobs[i].raw);
		free(r.jobs[i].title);
		free(r.jobs[i].kind);
		cb_value_unref(r.jobs[i].ctx);
		for (k = 0; r.jobs[i].tmpl_list && r.jobs[i].tmpl_list[k]; k++)
			free(r.jobs[i].tmpl_list[k]);
		free(r.jobs[i].tmpl_list);
	}
	free(r.jobs);
	for (i = r.n_kept; i > 0; i--)
		r.kept[i - 1].free_fn(r.kept[i - 1].ptr);
	free(r.kept);
	cb_value_unref(r.cases);
	cb_value_unref(r.site_ctx);
	cb_value_unref(r.field_tax);
	cb_tmpl_set_free(r.tmpls);
	free(r.theme);
	pthread_mutex_destroy(&r.lock);
	return rc;
}
