/*
 * cb_render: the render stage. Builds the page list and fills the theme's
 * Mustache templates from value trees; cb_output writes the results.
 *
 * Every page is rendered with a root context of
 *   site  - the handbook (title, language, taxonomies, pages, plugin values)
 *   page  - this page: title, path, kind, root ("../" back to the site root)
 *   nav   - the navigation, with `current` set on this page's entry
 * plus the page's own data (case, cases, intro, ... or a plugin's data).
 * All `url` values in data are site paths ("cases/a.html"); templates write
 * {{page.root}}{{url}}, so the site works from disk and from any folder.
 *
 * Pages come from generators run in order: the core pages (home, case
 * index, cases, free pages), pages plugins asked for, data files, and the
 * generators of other modules (search, print, feeds). A generator adds pages
 * with cb_render_add; they are then rendered on several threads.
 */
#ifndef CB_RENDER_H
#define CB_RENDER_H

#include <signal.h>
#include <stddef.h>

#include "cb_cache.h"
#include "cb_output.h"
#include "cb_site.h"
#include "cb_value.h"

typedef struct cb_render cb_render;

typedef struct cb_render_opts {
	int threads; /* 0 = one per core */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
	volatile sig_atomic_t *stop; /* when set non-zero, stop early with an error */
	/* Write every page and file under this folder of the output ("editions/
	 * 2025/"), or at its top (NULL). Paths in contexts stay relative to the
	 * site's own root. */
	const char *prefix;
	/* Pages already rendered by another edition of this build, shared when
	 * their key matches (see cb_render.c), or NULL. */
	cb_cache *cache;
	/* In an edition build: the `editions` value of the page at site path
	 * `path` (a new value the renderer unrefs), for the theme's
	 * edition-switcher template, which the base layout includes with
	 * {{> edition-switcher}}. NULL outside edition builds. Needs a cache
	 * (its marker holds the switcher's place while the page is shared);
	 * called from render threads, so it must only read. */
	cb_value *(*editions)(void *ctx, const char *path);
	void *editions_ctx;
	/* No site written after this one reads the documents' plain text (the
	 * search index's files are the last readers): let it go once they are
	 * written (see cb_render_text_done). */
	int last_reader;
	/* With a cache: no other site of the build is rendered (every edition
	 * is taken from the last build), so nothing is keyed for sharing; the
	 * cache only gives the edition switcher its marker. Read by
	 * cb_render_new and again by cb_render_run: a build that clears it in
	 * between (an edition must be rendered after all) has the run key what
	 * it renders, to share the pages the editions rendered first. */
	int alone;
} cb_render_opts;

#define CB_RENDER_OPTS_INIT { 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/* Keys of a case's template context that casebook fills itself; plugins may
 * not c:set them. NULL-terminated. */
extern const char *const cb_render_case_keys[];
/* Keys of the `site` context that casebook fills itself (the render stage
 * and the search, print, export and feed generators); plugins may not
 * site:set them. NULL-terminated: add a generator's key here. */
extern const char *const cb_render_site_keys[];
/* Site paths casebook writes itself: a path equal to one of these, or inside
 * one that ends in '/'. Plugins may not add pages there. NULL-terminated. */
extern const char *const cb_render_core_paths[];

/* Render the whole site into out. Returns 0, or -1 after reporting errors to
 * the site's diagnostics. The same as cb_render_new, cb_render_run and
 * cb_render_free. */
int cb_render_site(cb_site *site, cb_output *out, const cb_render_opts *opts);

/* The names of the templates of the theme casebook.yml names, its own and
 * those it takes from the default theme ("case" for case.mustache), as a
 * map; NULL when the theme is not there (reported by the next call). Caller
 * unrefs. */
cb_value *cb_render_theme_templates(cb_site *site);
/* Check the theme without rendering: report a missing theme (names NULL) or
 * compile every template of `names` (cb_render_theme_templates), reporting
 * each syntax error as a build would, before any page. Returns 0 or -1. */
int cb_render_check_theme(cb_site *site, const cb_value *names);

/* The render stage in steps, for builds that must know every edition's
 * pages before writing any (the edition switcher links to the same page in
 * other editions). cb_render_new loads the theme, builds the contexts and
 * runs the generators: afterwards the page list is known. Returns 0 and a
 * renderer the caller frees with cb_render_free, or -1 after reporting (a
 * missing theme). site and opts are borrowed and must outlive it. */
int cb_render_new(cb_render **out, cb_site *site, const cb_render_opts *opts);
/* (cb_render_page_count and cb_render_page_path, below, then list the
 * pages.) Render and write every page, then copy content files and theme assets.
 * Returns 0, or -1 after reporting. Call once. */
int cb_render_run(cb_render *r, cb_output *out);
void cb_render_free(cb_render *r);

/* ---- for page generators ------------------------------------------------- */

const cb_site *cb_render_get_site(const cb_render *r);
/* The folder of the output this site is written to: "" for the top,
 * "editions/<name>/" for an edition (borrowed). */
const char *cb_render_prefix(const cb_render *r);
/* The summary context of case i, as lists of cases show it (borrowed):
 * slug, title, summary, url, country, countries, city, year, end_year,
 * years, sector, sector_text, tags, digital, facets. */
cb_value *cb_render_case(const cb_render *r, size_t i);
size_t cb_render_case_count(const cb_render *r);
/* All summary contexts in site order (a list; borrowed). */
cb_value *cb_render_cases(const cb_render *r);
/* The same in reading order: by title, case and accents ignored (a list;
 * borrowed). Lists readers see (home, case index, print) use this order. */
cb_value *cb_render_cases_in_order(const cb_render *r);
/* The index (in site order) of the case at reading position k. */
size_t cb_render_case_at(const cb_render *r, size_t k);
/* The full context of case i, as its page sees it: the summary plus path,
 * meta, sources, facts, body, sections, toc and plugin values. Built on
 * each call (it holds the case's whole HTML); caller unrefs. Safe to call
 * from render threads. */
cb_value *cb_render_case_full(cb_render *r, size_t i);
/* The facts box rows of case i (the `facts` of cb_render_case_full) alone,
 * without the rest of the full context: a new list the caller unrefs. Safe
 * to call from several threads. */
cb_value *cb_render_case_facts(cb_render *r, size_t i);
/* The number of threads rendering uses (opts->threads, or one per core). */
int cb_render_threads(const cb_render *r);
/* The `site` context (borrowed). */
cb_value *cb_render_site_ctx(const cb_render *r);

/* Queue a page at site path `path` rendered with template `tmpl`; data (a
 * map, stolen; may be NULL) is merged into the root context. `kind` names the
 * kind of page for templates ("case", "home", "lessons", ...); `title` is
 * the page title. */
void cb_render_add(cb_render *r, const char *path, const char *tmpl, const char *title,
                   const char *kind, cb_value *data);
/* Builds a page's data when its turn comes (on a render thread); returns a
 * map the caller unrefs. Must only read the site. */
typedef cb_value *(*cb_render_builder)(cb_render *r, size_t arg);

/* Queue a page whose data is built by build(r, arg) just before it is
 * rendered, and dropped right after: for pages with large data (a case's
 * whole HTML), so memory does not grow with the number of pages. */
void cb_render_add_lazy(cb_render *r, const char *path, const char *tmpl, const char *title,
                        const char *kind, cb_render_builder build, size_t arg);

/* Queue a file with fixed content (copied). */
void cb_render_add_raw(cb_render *r, const char *path, const char *data, size_t len);

/* ---- pages written piece by piece --------------------------------------- */

/* Where a writer puts its page (see cb_render_add_writer). */
typedef struct cb_render_sink cb_render_sink;

/* Writes one page through sink on a render thread. Must only read the site
 * and ctx. Returns 0, or -1 after reporting to the site's diagnostics. */
typedef int (*cb_render_writer)(cb_render *r, cb_render_sink *sink, void *ctx, size_t arg);

/* Queue a page at `path` written by fn(r, sink, ctx, arg), which appends
 * pieces as it goes: each is written to disk at once, so a page of any size
 * (the print edition) costs the memory of one piece. tmpls (NULL-terminated,
 * or NULL) names every template fn renders, so that they are compiled before
 * the render threads start. title and kind are the page's (for `page`).
 * ctx is borrowed: keep it alive with cb_render_keep. */
void cb_render_add_writer(cb_render *r, const char *path, const char *title, const char *kind,
                          const char *const *tmpls, cb_render_writer fn, void *ctx, size_t arg);

/* Append len bytes to the sink's page. */
void cb_render_sink_put(cb_render_sink *s, const char *data, size_t len);

/* Render template tmpl (one named when the writer was queued) with the
 * page's root context (site, page, nav) plus the keys of data (a map,
 * borrowed; may be NULL), appending to out, which the caller owns (append it
 * to the page with cb_render_sink_put). Returns 0, or -1 after reporting. */
int cb_render_sink_render(cb_render_sink *s, const char *tmpl, const cb_value *data,
                          cb_buf *out);

/*
 * Append to the sink's page the rendering of template tmpl (one named when
 * the writer was queued) for case i, with the data build(r, i) makes (a
 * map, as for cb_render_sink_render). In an edition build with a cache, a
 * case whose piece comes out the same as in another edition of this build
 * (same key: what a case page's key is made of, the page's path and `what`,
 * which names build) is copied from that edition's file instead of being
 * rendered again. Returns 0, or -1 after reporting.
 */
int cb_render_sink_put_case(cb_render_sink *s, const char *what, const char *tmpl, size_t i,
                            cb_render_builder build);

/*
 * For generators that derive something from a case alone (its words for the
 * search index) and would keep it for the other editions of the build: a
 * key of everything case i's own data is made of (its file, path, omitted
 * sections, plugin values and facets; the vocabularies, the pages plugins
 * added, the configuration and casebook's version), and of `what`, which
 * names what is derived. Returns 0 with the key in out[CB_OID_HEXSZ + 1],
 * or -1 when there is no cache (cb_render_opts.cache) or the case cannot be
 * shared. Keep and find the bytes with cb_cache_blob_put/get on
 * cb_render_cache(r). Reads only.
 */
int cb_render_case_key(const cb_render *r, size_t i, const char *what, char *out);
/* The build's cache, or NULL (borrowed). */
cb_cache *cb_render_cache(const cb_render *r);

/* Keep ptr until the site is written, then call free_fn(ptr): for data that
 * writers share. */
void cb_render_keep(cb_render *r, void *ptr, void (*free_fn)(void *));

/* The last reader of the documents' plain text (the search index's writer)
 * is done: with opts.last_reader, free the text of every document of the
 * site (cb_doc_drop_text), which no page reads. Call once, from the render
 * thread that wrote the last file needing it. */
void cb_render_text_done(cb_render *r);

/* Pages queued so far (every kind), and the site path of page i
 * (borrowed): for sitemaps. */
size_t cb_render_page_count(const cb_render *r);
const char *cb_render_page_path(const cb_render *r, size_t i);

/* Append html with every relative href/src rewritten from folder from_dir to
 * folder to_dir (for content shown on another page than its own). Links to
 * case pages become in-page anchors "#case-<slug>" when cases_inline is set
 * (the print edition). */
void cb_render_rebase_html(cb_buf *out, const char *html, size_t len, const char *from_dir,
                           const char *to_dir, int cases_inline);

#endif
