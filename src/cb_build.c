/*
 * cb_build: the pipeline (see cb_build.h).
 */
#include "cb_build.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cb_cache.h"
#include "cb_config.h"
#include "cb_edition.h"
#include "cb_fs.h"
#include "cb_load.h"
#include "cb_mem.h"
#include "cb_output.h"
#include "cb_plugin.h"
#include "cb_render.h"
#include "cb_site.h"
#include "cb_source.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident memory now and at its peak, in MB (0 where /proc is missing). */
static void memory_mb(double *now_mb, double *peak_mb)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kb;

	*now_mb = *peak_mb = 0;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			*now_mb = (double)kb / 1024;
		else if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			*peak_mb = (double)kb / 1024;
	}
	fclose(f);
}

/* A note on how long a stage took and the memory held after it (shown by
 * `build -v`). *since is reset to now. */
static void stage_note(cb_diag_list *diags, const char *stage, double *since)
{
	double t = now(), mem, peak;

	memory_mb(&mem, &peak);
	cb_diag_add(diags, CB_NOTE, "timing", NULL, 0, 0, NULL,
	            "%s: %.2f s (memory %.0f MB, peak %.0f MB)", stage, t - *since, mem, peak);
	*since = t;
}

static void progress(void *ctx, size_t done, size_t total)
{
	fprintf(stderr, "\r\033[K%s %zu/%zu", (const char *)ctx, done, total);
	fflush(stderr);
}

/* Is `inner` the folder `outer` or inside it? Both are real paths. */
static int within(const char *inner, const char *outer)
{
	size_t lo = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return 1;
	return strncmp(inner, outer, lo) == 0 && (inner[lo] == '\0' || inner[lo] == '/');
}

/* The real path of p, or of its nearest existing parent plus the rest. */
static char *real_or_planned(const char *p)
{
	char buf[PATH_MAX];
	char *copy, *slash;

	if (realpath(p, buf))
		return cb_xstrdup(buf);
	copy = cb_xstrdup(p);
	slash = strrchr(copy, '/');
	if (slash && slash != copy) {
		char *parent, *out;
		*slash = '\0';
		parent = real_or_planned(copy);
		out = cb_xasprintf("%s/%s", parent, slash + 1);
		free(parent);
		free(copy);
		return out;
	}
	if (getcwd(buf, sizeof buf)) {
		char *out = cb_xasprintf("%s/%s", buf, slash ? slash + 1 : copy);
		free(copy);
		return out;
	}
	return copy;
}

/* Refuse output folders whose replacement would destroy something. */
static int check_out_dir(const char *src_real, const char *out, cb_diag_list *diags)
{
	char *out_real = real_or_planned(out);
	cb_fs_entry *e = NULL;
	size_t n = 0, i;
	int rc = 0, looks_like_site = 0, empty = 1;

	if (within(src_real, out_real)) {
		rc = cb_diag_error(diags, "output", NULL, 0, 0,
		                   "refusing to write the site to %s: it would replace the source "
		                   "folder (choose another -o)",
		                   out);
		goto out;
	}
	if (cb_fs_list(out_real, &e, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (strcmp(e[i].name, ".gitignore") == 0)
				continue;
			empty = 0;
			if (strcmp(e[i].name, "index.html") == 0)
				looks_like_site = 1;
		}
		cb_fs_list_free(e, n);
		if (!empty && !looks_like_site)
			rc = cb_diag_error(diags, "output", NULL, 0, 0,
			                   "refusing to replace %s: it is not empty and holds no "
			                   "index.html, so it does not look like a site casebook built",
			                   out);
	}
out:
	free(out_real);
	return rc;
}

/* The sites of one build: the editions, oldest first, then the latest. */
typedef struct build {
	const cb_build_opts *opts;
	cb_diag_list *diags;
	cb_editions *eds;
	cb_cache *cache;
	size_t n;            /* sites: editions + 1 */
	cb_site **sites;
	cb_source **srcs;    /* a git tree per site, or NULL for the working tree */
	cb_diag_list **dl;   /* a diagnostics list per edition (NULL: diags itself) */
	char **labels;       /* progress labels */
} build;

/* Move what edition site k reported into the build's list, its paths
 * prefixed with what names the edition's commit, as git writes them
 * ("edition-2025:content/cases/a.md"). */
static void merge_site_diags(build *b, size_t k)
{
	const char *ref = cb_editions_ref(b->eds, k);
	cb_diag_list *from = b->dl[k];
	size_t i;

	if (!from)
		return;
	for (i = 0; i < cb_diag_count(from); i++) {
		const cb_diag *d = cb_diag_at(from, i);
		char *path = d->path ? cb_xasprintf("%s:%s", ref, d->path) : NULL;

		if (path)
			cb_diag_add(b->diags, d->severity, d->code, path, d->line, d->col, d->hint, "%s",
			            d->msg);
		else
			cb_diag_add(b->diags, d->severity, d->code, NULL, 0, 0, d->hint, "%s: %s", ref,
			            d->msg);
		free(path);
	}
	cb_diag_list_free(from);
	b->dl[k] = NULL;
}

/* Load site k and run its plugins. The working tree uses cfg and src (cfg
 * is stolen); editions read their own configuration from their commit. */
static int open_site(build *b, size_t k, cb_config *cfg, cb_source *src, cb_source *share,
                     cb_source *share_all)
{
	const cb_build_opts *opts = b->opts;
	cb_diag_list *d = b->diags;
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	double t;
	cb_source *s = NULL;
	int r;

	r = cb_editions_source(b->eds, k, &s, d);
	if (r < 0) {
		cb_config_free(cfg);
		return -1;
	}
	if (r == 0) {
		/* A commit: its own configuration, plugins and theme, and the
		 * installed defaults for what its theme lacks. */
		cb_config_free(cfg);
		cfg = NULL;
		b->srcs[k] = s;
		if (cb_editions_ref(b->eds, k))
			d = b->dl[k] = cb_diag_list_new();
		r = cb_config_load(&cfg, s, d);
		if (r == CB_ENOCONFIG || !cfg)
			return -1;
		src = s;
		share = share_all;
	}
	b->sites[k] = cb_site_new(cfg, src, share, d);
	lo.threads = opts->threads;
	lo.cache = b->cache;
	if (opts->progress) {
		b->labels[k] = k + 1 == b->n ? cb_xstrdup("loading cases")
		                             : cb_xasprintf("loading edition %s",
		                                            cb_editions_name(b->eds, k));
		lo.progress = progress;
		lo.progress_ctx = b->labels[k];
	}
	t = now();
	cb_load(b->sites[k], &lo);
	cb_editions_set_history(b->eds, k, b->sites[k]);
	stage_note(b->diags, "load", &t);
	/* Plugins run even when loading found errors, so one run reports all. */
	cb_plugin_run(b->sites[k]);
	stage_note(b->diags, "plugins", &t);
	return 0;
}

static void build_dispose(build *b)
{
	size_t k;

	for (k = 0; k < b->n; k++) {
		merge_site_diags(b, k);
		cb_site_free(b->sites[k]);
		cb_source_free(b->srcs[k]);
		free(b->labels[k]);
	}
	free(b->sites);
	free(b->srcs);
	free(b->dl);
	free(b->labels);
	cb_cache_free(b->cache);
	cb_editions_free(b->eds);
}

/* Render every site into out: first every site's page list (the switcher
 * links to the same page in other editions), then the pages. */
static int render_all(build *b, cb_output *out)
{
	const cb_build_opts *opts = b->opts;
	cb_render **r = cb_xcalloc(b->n, sizeof *r);
	cb_render_opts *ro = cb_xcalloc(b->n, sizeof *ro);
	size_t k;
	int rc = 0;

	cb_editions_add_pages(b->eds, b->sites, b->diags);
	for (k = 0; k < b->n; k++) {
		cb_render_opts init = CB_RENDER_OPTS_INIT;
		ro[k] = init;
		ro[k].threads = opts->threads;
		ro[k].stop = opts->stop;
		ro[k].prefix = cb_editions_prefix(b->eds, k);
		ro[k].cache = b->cache;
		cb_editions_render_opts(b->eds, k, &ro[k]);
		if (opts->progress) {
			ro[k].progress = progress;
			ro[k].progress_ctx = (void *)"writing pages";
		}
		if (cb_render_new(&r[k], b->sites[k], &ro[k]) < 0)
			rc = -1;
		else
			cb_editions_set_pages(b->eds, k, r[k]);
	}
	for (k = 0; rc == 0 && k < b->n; k++) {
		double t = now();
		if (cb_render_run(r[k], out) < 0 || (opts->stop && *opts->stop))
			rc = -1;
		stage_note(b->diags, "render and write", &t);
		cb_render_free(r[k]);
		r[k] = NULL;
		/* The site is not needed any more: free it now to keep memory flat. */
		merge_site_diags(b, k);
	}
	for (k = 0; k < b->n; k++)
		cb_render_free(r[k]);
	free(r);
	free(ro);
	return rc;
}

static size_t all_errors(const build *b)
{
	size_t k, e = cb_diag_errors(b->diags);

	for (k = 0; k < b->n; k++)
		if (b->dl[k])
			e += cb_diag_errors(b->dl[k]);
	return e;
}

int cb_build_run(const cb_build_opts *opts, cb_diag_list *diags, cb_build_result *res)
{
	cb_source *src = NULL, *share = NULL, *share_all = NULL;
	cb_config *cfg = NULL;
	cb_output *out = NULL;
	char src_real[PATH_MAX];
	char *out_dir = NULL;
	double t0 = now();
	int rc = -1, r;
	size_t k;
	build b;

	memset(res, 0, sizeof *res);
	memset(&b, 0, sizeof b);
	b.opts = opts;
	b.diags = diags;
	if (!realpath(opts->source_dir, src_real) ||
	    cb_source_open_dir(&src, src_real) < 0) {
		cb_diag_error(diags, "source", NULL, 0, 0, "cannot open source folder %s: %s",
		              opts->source_dir, strerror(errno ? errno : ENOENT));
		res->env_error = 1;
		goto out;
	}
	if (opts->share_dir) {
		cb_source_open_dir(&share_all, opts->share_dir);
		if (strcmp(opts->share_dir, src_real) != 0)
			share = share_all;
	}

	r = cb_config_load(&cfg, src, diags);
	if (r == CB_ENOCONFIG) {
		res->env_error = 1;
		goto out;
	}
	if (!cfg)
		goto out;
	/* On errors, eds holds no editions: loading the working tree still
	 * reports its own problems, and the errors fail the build. */
	cb_editions_open(&b.eds, src_real, cfg, opts->check_only, diags);

	if (!opts->check_only) {
		out_dir = opts->out_dir ? cb_xstrdup(opts->out_dir) : cb_xasprintf("%s/site", src_real);
		if (check_out_dir(src_real, out_dir, diags) < 0) {
			res->env_error = 1;
			goto out;
		}
	}

	/* Load: the latest first (its problems are the ones to fix), then the
	 * editions, sharing what they have in common through the cache. */
	if (opts->latest_only)
		cb_editions_drop(b.eds);
	b.n = opts->check_only ? 1 : cb_editions_count(b.eds) + 1;
	b.sites = cb_xcalloc(b.n, sizeof *b.sites);
	b.srcs = cb_xcalloc(b.n, sizeof *b.srcs);
	b.dl = cb_xcalloc(b.n, sizeof *b.dl);
	b.labels = cb_xcalloc(b.n, sizeof *b.labels);
	if (b.n > 1)
		b.cache = cb_cache_new();
	r = open_site(&b, b.n - 1, cfg, src, share, share_all);
	cfg = NULL;
	if (r < 0)
		goto out;
	res->cases = cb_site_case_count(b.sites[b.n - 1]);
	for (k = 0; k + 1 < b.n; k++)
		if (open_site(&b, k, NULL, src, share, share_all) < 0)
			goto out;
	res->editions = b.n - 1;
	if (opts->check_only) {
		rc = all_errors(&b) ? -1 : 0;
		goto out;
	}
	if (all_errors(&b) || (opts->stop && *opts->stop))
		goto out;

	/* Render and write. */
	if (cb_output_open(&out, out_dir, diags) < 0) {
		res->env_error = 1;
		goto out;
	}
	if (render_all(&b, out) < 0 || all_errors(&b))
		goto out;
	if (opts->stop && *opts->stop) {
		cb_diag_error(diags, "interrupted", NULL, 0, 0, "interrupted; the previous site is kept");
		goto out;
	}
	res->pages = cb_output_count(out);
	if (cb_output_commit(out) < 0) {
		res->env_error = 1;
		goto out;
	}
	rc = 0;
out:
	if (opts->progress)
		fputs("\r\033[K", stderr);
	if (b.cache) {
		cb_cache_stats st;
		cb_cache_stats_get(b.cache, &st);
		res->docs_parsed = st.docs_parsed;
		res->docs_shared = st.docs_shared;
		res->pages_rendered = st.pages_rendered;
		res->pages_shared = st.pages_shared;
		res->pieces_rendered = st.pieces_rendered;
		res->pieces_shared = st.pieces_shared;
		res->blobs_made = st.blobs_made;
		res->blobs_shared = st.blobs_shared;
		cb_diag_add(diags, CB_NOTE, "editions", NULL, 0, 0, NULL,
		            "%zu editions: %zu documents parsed, %zu shared; %zu case pages rendered, "
		            "%zu shared; %zu cases of the print edition rendered, %zu shared; %zu cases' "
		            "parts of the search index and data files made, %zu shared",
		            res->editions, st.docs_parsed, st.docs_shared, st.pages_rendered,
		            st.pages_shared, st.pieces_rendered, st.pieces_shared, st.blobs_made,
		            st.blobs_shared);
	}
	build_dispose(&b);
	if (rc < 0 && cb_diag_errors(diags) == 0)
		cb_diag_error(diags, "build", NULL, 0, 0, "the build failed");
	cb_output_free(out);
	cb_config_free(cfg);
	cb_source_free(share_all);
	cb_source_free(src);
	free(out_dir);
	res->seconds = now() - t0;
	return rc;
}
