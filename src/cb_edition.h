/*
 * cb_edition: editions and history, the versioned site.
 *
 * A handbook in a git repository is published in editions: commits named by
 * tags matching a glob (default "edition-*") and/or listed in casebook.yml
 *
 *   editions:
 *     tags: "edition-*"
 *     list:
 *       - { name: "2025", ref: 1a2b3c4, date: 2025-06-01, note: "First edition" }
 *     latest: worktree      # or HEAD
 *
 * Each edition is built from its commit's tree into site/editions/<name>/;
 * the latest (the working tree, or HEAD) is built at the top of the site.
 * This module holds what the pipeline (cb_build) needs around those builds:
 * the editions in date order, each one's source, every case's history as
 * seen from each edition (one walk of the repository for all of them), the
 * pages each edition has (for the edition switcher), the changes pages and
 * the editions index.
 *
 * Sites are numbered 0..count-1 for the editions, oldest first, and count
 * for the latest.
 */
#ifndef CB_EDITION_H
#define CB_EDITION_H

#include <stddef.h>

#include "cb_config.h"
#include "cb_diag.h"
#include "cb_render.h"
#include "cb_site.h"
#include "cb_source.h"
#include "cb_value.h"

typedef struct cb_editions cb_editions;

/*
 * Read cfg's `editions` (reporting bad values at their casebook.yml lines),
 * find the git repository holding source_dir and resolve every edition. For
 * a build (check_only 0), also read the cases' history for every edition and
 * the latest in one walk.
 *
 * Never fatal for want of git: without a repository the working tree is
 * built alone, without history, with one warning (none when check_only).
 * With check_only, the configuration and listed refs are checked, but *out
 * holds no editions and its latest is the working tree (check reads the
 * files as they are, even with `latest: HEAD`);
 * a shallow clone gives history as far as it goes, with one warning. A tag
 * glob matching nothing gives no editions. A listed ref that names no commit
 * is an error at its line.
 *
 * Returns 0 and the editions (the caller frees them with cb_editions_free),
 * or -1 after reporting errors: *out then holds no editions (only the
 * working tree, so that loading it still reports its own problems) and is
 * freed the same way.
 */
int cb_editions_open(cb_editions **out, const char *source_dir, const cb_config *cfg,
                     int check_only, cb_diag_list *diags);
void cb_editions_free(cb_editions *e);

/* Forget the editions (before anything was built with them): only the
 * latest is then built, still with its history. */
void cb_editions_drop(cb_editions *e);

/* Number of editions (the latest not counted). */
size_t cb_editions_count(const cb_editions *e);
/* Name of site k (an edition's folder name, or "latest"; borrowed). */
const char *cb_editions_name(const cb_editions *e, size_t k);
/* The site path prefix site k is written under: "editions/<name>/", or ""
 * for the latest (borrowed). */
const char *cb_editions_prefix(const cb_editions *e, size_t k);
/* What names site k's commit, to prefix its diagnostics as git does
 * ("edition-2025:content/cases/a.md"): the tag or the configured ref, "HEAD"
 * for a latest built from HEAD, NULL for the working tree (borrowed). */
const char *cb_editions_ref(const cb_editions *e, size_t k);

/*
 * The source of site k: a git tree at the edition's commit (or at HEAD for
 * latest: HEAD). Returns 0 with a source the caller frees before the
 * editions, 1 when site k is the working tree (*out NULL: use it), -1 after
 * reporting.
 */
int cb_editions_source(cb_editions *e, size_t k, cb_source **out, cb_diag_list *diags);

/* Give every case of site k its history as the doc var "history" (see
 * cb_history_get), so plugins and templates (case.history) see it. Cases
 * no commit of site k's history touched get none. */
void cb_editions_set_history(const cb_editions *e, size_t k, cb_site *site);

/*
 * Add the pages editions bring: changes.html to every site (what changed
 * since the edition before: for the latest, since the newest edition) and
 * editions/index.html to the latest. sites[k] is site k, all loaded. Does
 * nothing without editions. A page a plugin already made is left alone,
 * with a warning.
 */
void cb_editions_add_pages(cb_editions *e, cb_site *const *sites, cb_diag_list *diags);

/* The same for site k alone; the site it is compared with
 * (cb_editions_previous) must be loaded. */
void cb_editions_add_site_pages(cb_editions *e, size_t k, cb_site *const *sites,
                                cb_diag_list *diags);
/* The site site k's changes.html compares it with: the edition before, the
 * newest edition for the latest; (size_t)-1 for the oldest edition or
 * without editions. */
size_t cb_editions_previous(const cb_editions *e, size_t k);

/* Record which pages site k has (its queue, once cb_render_new ran), so
 * the switcher links to the same page in other editions where it exists. */
void cb_editions_set_pages(cb_editions *e, size_t k, const cb_render *r);
/* The same from a list of site paths (of a site reused from the previous
 * build, cb_reuse.h). */
void cb_editions_set_page_paths(cb_editions *e, size_t k, const char *const *paths, size_t n);
/* 1 if site k has a page at site path `path` (as recorded so far). */
int cb_editions_has_page(const cb_editions *e, size_t k, const char *path);

/* Append what every edition is (name, ref, commit, date, note, in order)
 * and what the latest is built from, for build keys (cb_reuse.h). */
void cb_editions_describe(const cb_editions *e, cb_buf *out);

/*
 * Render options for site k's edition switcher: sets opts->editions and
 * opts->editions_ctx (valid as long as e). Leaves them unset when there are
 * no editions, so a single-site build has no switcher.
 */
void cb_editions_render_opts(cb_editions *e, size_t k, cb_render_opts *opts);

#endif
