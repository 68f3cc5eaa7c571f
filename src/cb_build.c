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
#include "cb_git.h"
#include "cb_load.h"
#include "cb_mem.h"
#include "cb_output.h"
#include "cb_plugin.h"
#include "cb_render.h"
#include "cb_reuse.h"
#include "cb_site.h"
#include "cb_source.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	/* Seconds spent in each stage, summed over the sites (for -v). */
	double t_load, t_plugins, t_pages, t_write, t_commit;
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
	cb_source *s = NULL;
	double t0, t1;
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
	t0 = now();
	cb_load(b->sites[k], &lo);
	cb_editions_set_history(b->eds, k, b->sites[k]);
	t1 = now();
	/* Plugins run even when loading found errors, so one run reports all. */
	cb_plugin_run(b->sites[k]);
	b->t_load += t1 - t0;
	b->t_plugins += now() - t1;
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
	double t0 = now(), t1;

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
	t1 = now();
	b->t_pages += t1 - t0;
	for (k = 0; rc == 0 && k < b->n; k++) {
		if (cb_render_run(r[k], out) < 0 || (opts->stop && *opts->stop))
			rc = -1;
		cb_render_free(r[k]);
		r[k] = NULL;
		/* The site is not needed any more: free it now to keep memory flat. */
		merge_site_diags(b, k);
	}
	for (k = 0; k < b->n; k++)
		cb_render_free(r[k]);
	free(r);
	free(ro);
	b->t_write += now() - t1;
	return rc;
}

/* The key of everything the build reads (see cb_reuse.h): the casebook
 * binary, the source folder (but the output folder), the installed themes
 * and plugins, the repository's references (history, editions) and the
 * options that change what is built. Into key[CB_OID_HEXSZ + 1]. */
static void build_key(cb_reuse *c, const cb_build_opts *opts, const char *src_real,
                      const char *out_real, char *key)
{
	cb_buf b = CB_BUF_INIT;
	char exe[PATH_MAX];
	cb_git_repo *repo = NULL;

	cb_buf_printf(&b, "casebook-build 1 %s\nlatest_only %d\n", CB_VERSION, opts->latest_only);
	if (realpath("/proc/self/exe", exe))
		cb_reuse_key_file(c, exe, &b);
	cb_buf_puts(&b, "source\n");
	cb_reuse_key_tree(c, src_real, out_real, &b);
	if (opts->share_dir) {
		char *t = cb_xasprintf("%s/themes", opts->share_dir);
		char *p = cb_xasprintf("%s/plugins", opts->share_dir);
		cb_buf_puts(&b, "share\n");
		cb_reuse_key_tree(c, t, out_real, &b);
		cb_reuse_key_tree(c, p, out_real, &b);
		free(t);
		free(p);
	}
	if (cb_git_repo_open(&repo, src_real, NULL) == 0) {
		/* The working tree's top, where .mailmap lies. */
		size_t sl = strlen(src_real), pl = strlen(cb_git_repo_prefix(repo));
		char *top = cb_xstrndup(src_real, sl >= pl ? sl - pl : sl), *mm;
		if (pl && sl > pl && top[sl - pl - 1] == '/')
			top[sl - pl - 1] = '\0';
		mm = cb_xasprintf("%s/.mailmap", top);
		cb_buf_puts(&b, "git\n");
		cb_git_repo_state(repo, &b);
		cb_reuse_key_file(c, mm, &b);
		free(mm);
		free(top);
		cb_git_repo_free(repo);
	} else {
		cb_buf_puts(&b, "no git\n");
	}
	if (cb_git_hash_blob(b.ptr, b.len, key) < 0)
		snprintf(key, CB_OID_HEXSZ + 1, "unkeyed");
	cb_buf_dispose(&b);
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
	double t0 = now(), t_commit;
	int rc = -1, r;
	size_t k;
	build b;
	cb_reuse *reuse = NULL;
	char *out_real = NULL;
	char key[CB_OID_HEXSZ + 1] = "";

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

	/* Nothing changed since the last build, whose site is untouched? */
	if (!opts->check_only && !opts->no_cache) {
		cb_reuse_result rr;
		char *cache_dir = cb_xasprintf("%s/" CB_REUSE_DIR, src_real);

		out_dir = opts->out_dir ? cb_xstrdup(opts->out_dir) : cb_xasprintf("%s/site", src_real);
		reuse = cb_reuse_open(cache_dir);
		free(cache_dir);
		out_real = real_or_planned(out_dir);
		build_key(reuse, opts, src_real, out_real, key);
		if (cb_reuse_fresh(reuse, key, out_real, &rr, diags)) {
			res->cases = rr.cases;
			res->pages = rr.pages;
			res->editions = rr.editions;
			res->up_to_date = 1;
			cb_diag_add(diags, CB_NOTE, "up-to-date", NULL, 0, 0, NULL,
			            "nothing changed since the last build: %s is up to date (what that "
			            "build reported is repeated; the cache is in %s/, --no-cache "
			            "builds all the same)",
			            out_dir, CB_REUSE_DIR);
			rc = 0;
			goto out;
		}
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
		if (!out_dir)
			out_dir = opts->out_dir ? cb_xstrdup(opts->out_dir)
			                        : cb_xasprintf("%s/site", src_real);
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
	t_commit = now();
	if (cb_output_commit(out) < 0) {
		res->env_error = 1;
		goto out;
	}
	b.t_commit = now() - t_commit;
	if (reuse) {
		cb_reuse_result rr;
		rr.cases = res->cases;
		rr.pages = res->pages;
		rr.editions = res->editions;
		/* What this build reported, for a rebuild that finds nothing
		 * changed to repeat; a cache that cannot be written is no error. */
		for (k = 0; k < b.n; k++)
			merge_site_diags(&b, k);
		cb_reuse_save(reuse, key, out_real, &rr, diags);
	}
	cb_diag_add(diags, CB_NOTE, "stages", NULL, 0, 0, NULL,
	            "stages: load %.2f s, plugins %.2f s, page list %.2f s, rendering and "
	            "writing %.2f s, swapping the site in %.2f s",
	            b.t_load, b.t_plugins, b.t_pages, b.t_write, b.t_commit);
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
	cb_reuse_free(reuse);
	free(out_real);
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
