/*
 * cb_site: the build's model and context, passed explicitly to every stage.
 *
 * It owns the configuration, the loaded documents (cases in slug order, free
 * pages), the vocabularies, the list of content files to copy, and what
 * plugins add: site-level values, extra pages and data files. It borrows the
 * sources and the diagnostics list.
 *
 * Sources: `src` is the handbook; `share` (may be NULL) holds the installed
 * default themes, plugins and archetypes. Themes and plugins are looked up in
 * src first, then in share.
 */
#ifndef CB_SITE_H
#define CB_SITE_H

#include <stddef.h>

#include "cb_config.h"
#include "cb_diag.h"
#include "cb_doc.h"
#include "cb_source.h"
#include "cb_value.h"

typedef struct cb_site cb_site;

/* A new, empty site. Takes ownership of cfg; borrows src, share and diags,
 * which must outlive the site. Caller frees with cb_site_free. */
cb_site *cb_site_new(cb_config *cfg, cb_source *src, cb_source *share, cb_diag_list *diags);
void cb_site_free(cb_site *site);

const cb_config *cb_site_config(const cb_site *site);
cb_source *cb_site_source(const cb_site *site);
cb_source *cb_site_share(const cb_site *site);
cb_diag_list *cb_site_diags(const cb_site *site);

/* Find relpath (e.g. "themes/default/templates/case.mustache") in the
 * handbook's source, else in the share folder. Returns the source that has
 * it (borrowed) or NULL. */
cb_source *cb_site_lookup(const cb_site *site, const char *relpath);

/* ---- documents ----------------------------------------------------------- */

/* Add a loaded document (the site takes ownership). */
void cb_site_add_doc(cb_site *site, cb_doc *doc);
/* Sort cases by slug and pages by name, and index them. Call once loading
 * is done; the order is then stable for plugins and pages. */
void cb_site_seal(cb_site *site);

size_t cb_site_case_count(const cb_site *site);
cb_doc *cb_site_case(const cb_site *site, size_t i);
/* The case with this slug, or NULL. */
cb_doc *cb_site_case_by_slug(const cb_site *site, const char *slug);
/* Position of a case in the sorted order, or -1. */
long cb_site_case_index(const cb_site *site, const char *slug);
size_t cb_site_page_count(const cb_site *site);
cb_doc *cb_site_page(const cb_site *site, size_t i);
/* The free page content/pages/<name>.md, or NULL. */
cb_doc *cb_site_page_by_name(const cb_site *site, const char *name);

/* ---- vocabularies -------------------------------------------------------- */

/* Add vocabulary `name` (the parsed YAML map, stolen) read from path. */
void cb_site_add_taxonomy(cb_site *site, const char *name, cb_value *tax, const char *path);
size_t cb_site_taxonomy_count(const cb_site *site);
/* The i-th vocabulary, sorted by name (borrowed). */
const cb_value *cb_site_taxonomy_at(const cb_site *site, size_t i, const char **name,
                                    const char **path);
/* The vocabulary called name, or NULL (borrowed). */
const cb_value *cb_site_taxonomy(const cb_site *site, const char *name);
/* Label of a term ("co-design" -> "Co-design"); the id itself if unknown. */
const char *cb_site_term_label(const cb_site *site, const char *taxonomy, const char *term);

/* ---- files to copy ------------------------------------------------------- */

/* Copy source path `from` to site path `to` (both copied). Duplicates of
 * the same `to` are ignored. */
void cb_site_add_file(cb_site *site, const char *from, const char *to);
size_t cb_site_file_count(const cb_site *site);
void cb_site_file_at(const cb_site *site, size_t i, const char **from, const char **to);

/* ---- what plugins add ---------------------------------------------------- */

/* Site-level values for templates, under `site.<key>` (a map; borrowed). */
cb_value *cb_site_vars(const cb_site *site);
void cb_site_set_var(cb_site *site, const char *key, cb_value *val);

/* The names of the theme's templates (a map, stolen; cb_render_theme_templates),
 * known before the plugins run so that site:page can check its template; and
 * those names, or NULL when not known (borrowed). */
void cb_site_set_templates(cb_site *site, cb_value *names);
const cb_value *cb_site_templates(const cb_site *site);

/* Ask for a page at site path `path` made with template `tmpl` from `data`
 * (stolen). Returns 0, or -1 if another page already has that path or the
 * path is not a normalised relative .html/.xml/.txt/.svg path (the caller
 * reports). */
int cb_site_add_page(cb_site *site, const char *path, const char *tmpl, cb_value *data,
                     const char *origin);
size_t cb_site_extra_count(const cb_site *site);
void cb_site_extra_at(const cb_site *site, size_t i, const char **path, const char **tmpl,
                      const cb_value **data, const char **origin);
/* 1 if a plugin asked for a page at path. */
int cb_site_has_extra(const cb_site *site, const char *path);

/* Add an entry to the site's navigation: `title` linking to site path
 * `path`, sorted by order (then title). */
void cb_site_add_nav(cb_site *site, const char *title, const char *path, int order);
size_t cb_site_nav_count(const cb_site *site);
/* The i-th entry in navigation order. */
void cb_site_nav_at(const cb_site *site, size_t i, const char **title, const char **path);

/* Write `value` as data/<name>.json (stolen). name is [a-z0-9-]+. */
int cb_site_add_data(cb_site *site, const char *name, cb_value *value);
size_t cb_site_data_count(const cb_site *site);
void cb_site_data_at(const cb_site *site, size_t i, const char **name, const cb_value **value);

#endif
