/*
 * cb_build: the pipeline (see cb_build.h).
 */
#include "cb_build.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "cb_pool.h"
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
	char *out_real = real_or_planned(out), *content = NULL;
	cb_fs_entry *e = NULL;
	cb_fs_kind kind;
	size_t n = 0, i;
	int rc = 0, looks_like_site = 0, empty = 1;

	if (within(src_real, out_real)) {
		rc = cb_diag_error(diags, "output", NULL, 0, 0,
		                   "refusing to write the site to %s: it would replace the source "
		                   "folder (choose another -o)",
		                   out);
		goto out;
	}
	content = cb_xasprintf("%s/content", src_real);
	if (within(out_real, content)) {
		/* The next build would publish this site as content. */
		rc = cb_diag_error(diags, "output", NULL, 0, 0,
		                   "refusing to write the site to %s: it is inside the source's "
		                   "content/ folder, which the next build would publish (choose another "
		                   "-o)",
		                   out);
		goto out;
	}
	if (cb_fs_kind_of(out_real, &kind) == 0 && kind != CB_FS_DIR) {
		rc = cb_diag_error(diags, "output", NULL, 0, 0,
		                   "refusing to replace %s: it is a file, not a folder (choose another -o)",
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
	free(content);
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
	cb_source *src, *share, *share_all; /* borrowed */
	int *plugged;        /* per site: plugins ran */
	/* Reusing editions from the last build (cb_reuse.h). */
	cb_reuse *reuse;     /* NULL with --no-cache */
	const char *out_real;
	cb_buf ed_env;       /* what every edition's key holds */
	int *reused;         /* per site: taken from the last build */
	char (*pre)[CB_OID_HEXSZ + 1]; /* per edition: edition_pre, when reusing */
	char (*key)[CB_OID_HEXSZ + 1]; /* per edition: edition_key, when reused */
	int alone;           /* every edition will most likely be reused */
	cb_render **r;       /* per site, while the pages are made */
	cb_render_opts *ro;
	size_t sites_reused;
	pthread_mutex_t lock; /* the stage times, when sites are made in parallel */
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

/* Load site k (not yet its plugins). The working tree uses cfg and src (cfg
 * is stolen); editions read their own configuration from their commit. */
static int load_site(build *b, size_t k, cb_config *cfg, cb_source *src, cb_source *share,
                     cb_source *share_all)
{
	const cb_build_opts *opts = b->opts;
	cb_diag_list *d = b->diags;
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	cb_source *s = NULL;
	double t0;
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
	pthread_mutex_lock(&b->lock);
	b->t_load += now() - t0;
	pthread_mutex_unlock(&b->lock);
	stage_note(b->diags, "load", &t0);
	return 0;
}

/* Run site k's plugins (once). */
static void run_plugins(build *b, size_t k)
{
	double t0 = now();

	if (b->plugged[k])
		return;
	b->plugged[k] = 1;
	/* site:page checks its template against the theme's (the latest's: an
	 * edition's theme is checked when it is rendered). */
	if (k + 1 == b->n)
		cb_site_set_templates(b->sites[k], cb_render_theme_templates(b->sites[k]));
	/* Plugins run even when loading found errors, so one run reports all. */
	cb_plugin_run(b->sites[k], b->opts->threads);
	pthread_mutex_lock(&b->lock);
	b->t_plugins += now() - t0;
	pthread_mutex_unlock(&b->lock);
	stage_note(b->diags, "plugins", &t0);
}

/* Load edition k (without its plugins) unless it is loaded. */
static int ensure_loaded(build *b, size_t k)
{
	if (b->sites[k])
		return 0;
	return load_site(b, k, NULL, b->src, b->share, b->share_all);
}

static void build_dispose(build *b)
{
	size_t k;

	/* Renderers first: they borrow their sites. */
	if (b->r)
		for (k = 0; k < b->n; k++)
			cb_render_free(b->r[k]);
	free(b->r);
	b->r = NULL;
	for (k = 0; k < b->n; k++) {
		merge_site_diags(b, k);
		cb_site_free(b->sites[k]);
		cb_source_free(b->srcs[k]);
		free(b->labels[k]);
	}
	free(b->ro);
	free(b->sites);
	free(b->srcs);
	free(b->dl);
	free(b->labels);
	free(b->plugged);
	free(b->reused);
	free(b->pre);
	free(b->key);
	cb_buf_dispose(&b->ed_env);
	cb_cache_free(b->cache);
	cb_editions_free(b->eds);
}

struct cb_build_leftovers {
	build b;
};

/* Move what every site reported into the build's list, then the build's
 * data out whole (see cb_build_leftovers). b is left for its lock alone. */
static cb_build_leftovers *build_leave(build *b)
{
	cb_build_leftovers *l = cb_xmalloc(sizeof *l);
	size_t k;

	for (k = 0; k < b->n; k++)
		merge_site_diags(b, k);
	l->b = *b;
	/* Borrowed, and not to be used again: the merges above were the last
	 * writes to the list. */
	l->b.opts = NULL;
	l->b.diags = NULL;
	l->b.src = l->b.share = l->b.share_all = NULL;
	l->b.reuse = NULL;
	l->b.out_real = NULL;
	return l;
}

void cb_build_leftovers_free(cb_build_leftovers *l)
{
	if (!l)
		return;
	build_dispose(&l->b);
	free(l);
}

/* Make site k's page list (cb_render_new) and record it for the switcher.
 * Returns 0 or -1. */
static int make_pages(build *b, size_t k)
{
	const cb_build_opts *opts = b->opts;
	cb_render_opts init = CB_RENDER_OPTS_INIT;
	double t0 = now();
	int rc = 0;

	b->ro[k] = init;
	b->ro[k].threads = opts->threads;
	b->ro[k].stop = opts->stop;
	b->ro[k].prefix = cb_editions_prefix(b->eds, k);
	b->ro[k].cache = b->cache;
	/* The latest is written last: after it, nothing reads the text. */
	b->ro[k].last_reader = k + 1 == b->n;
	b->ro[k].alone = k + 1 == b->n && b->alone;
	cb_editions_render_opts(b->eds, k, &b->ro[k]);
	if (opts->progress) {
		b->ro[k].progress = progress;
		b->ro[k].progress_ctx = (void *)"writing pages";
	}
	if (cb_render_new(&b->r[k], b->sites[k], &b->ro[k]) < 0)
		rc = -1;
	else
		cb_editions_set_pages(b->eds, k, b->r[k]);
	pthread_mutex_lock(&b->lock);
	b->t_pages += now() - t0;
	pthread_mutex_unlock(&b->lock);
	stage_note(b->diags, "page list", &t0);
	return rc;
}

/* The part of edition k's key (below) known before the latest's pages are:
 * what every edition's key holds and the edition's folder; into
 * pre[CB_OID_HEXSZ + 1]. */
static void edition_pre(build *b, size_t k, char *pre)
{
	cb_buf kb = CB_BUF_INIT;

	cb_buf_put(&kb, b->ed_env.ptr, b->ed_env.len);
	cb_buf_printf(&kb, "site %s\n", cb_editions_prefix(b->eds, k));
	if (cb_git_hash_blob(kb.ptr, kb.len, pre) < 0)
		snprintf(pre, CB_OID_HEXSZ + 1, "unkeyed");
	cb_buf_dispose(&kb);
}

/* The key of edition k for reusing it whole in the next build (cb_reuse.h):
 * its part pre and which of its pages (pages[0..n)) the latest has (the
 * switcher links to them); into key[CB_OID_HEXSZ + 1]. */
static void edition_key(build *b, const char *pre, const char *const *pages, size_t n, char *key)
{
	cb_buf kb = CB_BUF_INIT;
	size_t i;

	cb_buf_printf(&kb, "pre %s\n", pre);
	for (i = 0; i < n; i++)
		cb_buf_printf(&kb, "%s %d\n", pages[i], cb_editions_has_page(b->eds, b->n - 1, pages[i]));
	if (cb_git_hash_blob(kb.ptr, kb.len, key) < 0)
		snprintf(key, CB_OID_HEXSZ + 1, "unkeyed");
	cb_buf_dispose(&kb);
}

/* Will every edition most likely be taken from the last build? Yes when
 * each one's key, but for the latest's pages, is as then and its folder is
 * untouched: the latest is then made alone (cb_render_opts.alone). */
static int editions_intact(build *b)
{
	size_t k;

	if (!b->reuse)
		return 0;
	for (k = 0; k + 1 < b->n; k++)
		if (!cb_reuse_site_intact(b->reuse, cb_editions_prefix(b->eds, k), b->pre[k],
		                          b->out_real))
			return 0;
	return 1;
}

/* Load edition k and run its plugins. */
static int prepare_edition(build *b, size_t k)
{
	if (ensure_loaded(b, k) < 0)
		return -1;
	run_plugins(b, k);
	return 0;
}

typedef struct each_ctx {
	build *b;
	int (*fn)(build *b, size_t k);
	atomic_int failed;
} each_ctx;

/* fn for edition k unless it is reused or a call failed (cb_pool_each). */
static void each_one(void *arg, size_t k)
{
	each_ctx *c = arg;

	if (!c->b->reused[k] && !atomic_load(&c->failed) && c->fn(c->b, k) < 0)
		atomic_store(&c->failed, 1);
}

/* fn(b, k) for every edition k not reused, on up to one thread per core
 * (-j) and per edition. Returns 0, or -1 if any call failed. */
static int each_edition(build *b, int (*fn)(build *b, size_t k))
{
	each_ctx c;

	c.b = b;
	c.fn = fn;
	atomic_init(&c.failed, 0);
	cb_pool_each(b->opts->threads, b->n - 1, each_one, &c);
	return atomic_load(&c.failed) ? -1 : 0;
}

/* Load every site and make every site's page list: the latest first (its
 * problems are the ones to fix), then the editions, sharing what they have
 * in common through the cache. An edition the last build made from the
 * same inputs is not built again (b->reused): its page list comes from the
 * cache and its folder from the last build's site (write_sites). Returns 0
 * or -1. */
static int make_sites(build *b, cb_config *cfg)
{
	size_t latest = b->n - 1, k;

	if (load_site(b, latest, cfg, b->src, b->share, b->share_all) < 0)
		return -1;
	run_plugins(b, latest);
	/* Every template, used or not, before any page: check stops here. */
	if (cb_render_check_theme(b->sites[latest], cb_site_templates(b->sites[latest])) < 0)
		return -1;
	if (b->n == 1)
		return b->opts->check_only ? 0 : make_pages(b, latest);
	/* The latest's changes.html compares it with the newest edition. */
	if (ensure_loaded(b, latest - 1) < 0)
		return -1;
	cb_editions_add_site_pages(b->eds, latest, b->sites, b->diags);
	b->alone = editions_intact(b);
	if (make_pages(b, latest) < 0)
		return -1;
	for (k = 0; k < latest; k++) {
		size_t n;
		const char *const *pages;

		if (!b->reuse)
			continue;
		pages = cb_reuse_site_pages(b->reuse, cb_editions_prefix(b->eds, k), &n);
		if (!pages)
			continue;
		edition_key(b, b->pre[k], pages, n, b->key[k]);
		if (cb_reuse_site_fresh(b->reuse, cb_editions_prefix(b->eds, k), b->key[k],
		                        b->out_real)) {
			b->reused[k] = 1;
			b->sites_reused++;
			cb_editions_set_page_paths(b->eds, k, pages, n);
		}
	}
	/* Not alone after all (an edition's pages differ in which of them the
	 * latest has): the latest keys its pages when they are rendered, after
	 * the editions, to share theirs. */
	if (b->sites_reused < latest)
		b->ro[latest].alone = 0;
	/* The editions to build are independent of each other until their
	 * changes pages: load them and run their plugins on every core, one
	 * edition per thread (each plugin stage runs on one thread). */
	if (each_edition(b, prepare_edition) < 0)
		return -1;
	for (k = 0; k < latest; k++) {
		size_t p = cb_editions_previous(b->eds, k);
		if (b->reused[k])
			continue;
		if (p != (size_t)-1 && ensure_loaded(b, p) < 0)
			return -1;
		cb_editions_add_site_pages(b->eds, k, b->sites, b->diags);
	}
	return each_edition(b, make_pages);
}

/* The functions cb_reuse_site_reuse calls: take a folder whole, else link
 * its files. */
static int adopt_into(void *ctx, const char *dir, size_t files)
{
	return cb_output_adopt(ctx, dir, files);
}

static int link_into(void *ctx, const char *path, const char *from)
{
	return cb_output_link(ctx, path, from);
}

/* Remember site k (an edition) for the next build; call before its
 * diagnostics are merged. */
static void record_site(build *b, size_t k)
{
	const char *prefix = cb_editions_prefix(b->eds, k);
	char key[CB_OID_HEXSZ + 1];
	const char **pages;
	size_t n = 0, i;

	if (!b->reuse || k + 1 == b->n)
		return;
	if (b->reused[k]) {
		/* As it was found fresh: the last build's pages, and their key. */
		const char *const *prev = cb_reuse_site_pages(b->reuse, prefix, &n);
		cb_reuse_site_record(b->reuse, prefix, b->pre[k], b->key[k], prev, n, b->dl[k]);
		return;
	}
	n = cb_render_page_count(b->r[k]);
	pages = cb_xcalloc(n ? n : 1, sizeof *pages);
	for (i = 0; i < n; i++)
		pages[i] = cb_render_page_path(b->r[k], i);
	edition_key(b, b->pre[k], pages, n, key);
	cb_reuse_site_record(b->reuse, prefix, b->pre[k], key, pages, n, b->dl[k]);
	free(pages);
}

/* Write every site into out: render the ones built; the ones reused are
 * the last build's folders, which the new site takes whole when it is
 * swapped in (their files linked instead where it cannot: something
 * rendered landed in the folder). */
static int write_sites(build *b, cb_output *out)
{
	const cb_build_opts *opts = b->opts;
	double t0 = now();
	int rc = 0;
	size_t k;

	for (k = 0; rc == 0 && k < b->n; k++) {
		double t = now();
		if (b->reused[k])
			continue;
		if (cb_render_run(b->r[k], out) < 0 || (opts->stop && *opts->stop))
			rc = -1;
		stage_note(b->diags, "render and write", &t);
		record_site(b, k);
		/* An edition's site is not needed any more: free it now to keep
		 * memory flat. The last site is freed after the new site is
		 * swapped in (build_dispose), while the old one is removed on a
		 * thread of its own (cb_output_commit): both take a tenth of a
		 * second at 10,000 cases, and side by side they overlap. */
		if (k + 1 < b->n) {
			cb_render_free(b->r[k]);
			b->r[k] = NULL;
			cb_site_free(b->sites[k]);
			b->sites[k] = NULL;
		}
	}
	/* The reused sites after the rendering (nothing more lands in their
	 * folders); what the sites reported, in site order. */
	for (k = 0; k < b->n; k++) {
		if (rc == 0 && b->reused[k]) {
			double t = now();
			if (!b->dl[k])
				b->dl[k] = cb_diag_list_new();
			if (cb_reuse_site_reuse(b->reuse, cb_editions_prefix(b->eds, k), b->out_real,
			                        adopt_into, link_into, out, b->dl[k]) < 0)
				rc = -1;
			stage_note(b->diags, "taken from the last build", &t);
			record_site(b, k);
		}
		merge_site_diags(b, k);
	}
	b->t_write += now() - t0;
	return rc;
}

/* What the key of everything the build reads is made of (see cb_reuse.h):
 * the casebook binary, the source folder (but the output folder), the
 * installed themes and plugins, the repository's references (history,
 * editions) and the options that change what is built. Into *text (caller
 * disposes). With `later` (a first build: nothing to compare with), the
 * source folder's files are keyed as the loader reads them, and the text
 * holds placeholders until cb_reuse_key_finish. */
static void build_key(cb_reuse *c, const cb_build_opts *opts, const char *src_real,
                      const char *out_real, int later, cb_buf *text, cb_buf *ed_env)
{
	cb_buf b = CB_BUF_INIT;
	char exe[PATH_MAX];
	cb_git_repo *repo = NULL;

	/* What editions, built from commits, depend on besides (ed_env): the
	 * binary, the installed themes and plugins, .mailmap (below). */
	cb_buf_printf(ed_env, "casebook-build 1 %s\n", CB_VERSION);
	if (realpath("/proc/self/exe", exe))
		cb_reuse_key_file(c, exe, ed_env);
	if (opts->share_dir) {
		char *t = cb_xasprintf("%s/themes", opts->share_dir);
		char *p = cb_xasprintf("%s/plugins", opts->share_dir);
		cb_buf_puts(ed_env, "share\n");
		cb_reuse_key_tree(c, t, out_real, ed_env);
		cb_reuse_key_tree(c, p, out_real, ed_env);
		free(t);
		free(p);
	}
	cb_buf_put(&b, ed_env->ptr, ed_env->len);
	cb_buf_printf(&b, "latest_only %d\nsource\n", opts->latest_only);
	if (later)
		cb_reuse_key_tree_later(c, src_real, out_real, &b);
	else
		cb_reuse_key_tree(c, src_real, out_real, &b);
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
		cb_reuse_key_file(c, mm, ed_env);
		free(mm);
		free(top);
		cb_git_repo_free(repo);
	} else {
		cb_buf_puts(&b, "no git\n");
	}
	*text = b;
}

/* The build's key: the hash of what build_key wrote, into
 * key[CB_OID_HEXSZ + 1]. */
static void hash_key(const cb_buf *text, char *key)
{
	if (cb_git_hash_blob(text->ptr, text->len, key) < 0)
		snprintf(key, CB_OID_HEXSZ + 1, "unkeyed");
}

static int known_id(void *ctx, const char *path, char *out)
{
	return cb_reuse_known_id(ctx, path, out);
}

static void learn_id(void *ctx, const char *path, const char *id)
{
	cb_reuse_learn_id(ctx, path, id);
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
	double t0 = now(), t_commit, t_key = 0, t_hist = 0, t_save = 0;
	int rc = -1, r;
	size_t k;
	build b;
	cb_reuse *reuse = NULL;
	char *out_real = NULL;
	cb_buf ed_env = CB_BUF_INIT, key_text = CB_BUF_INIT;
	char key[CB_OID_HEXSZ + 1] = "";
	int key_later = 0;

	memset(res, 0, sizeof *res);
	memset(&b, 0, sizeof b);
	pthread_mutex_init(&b.lock, NULL);
	b.opts = opts;
	b.diags = diags;
	if (!realpath(opts->source_dir, src_real) ||
	    cb_source_open_dir(&src, src_real) < 0) {
		cb_fs_kind kind;
		int err = errno ? errno : ENOENT;
		if (cb_fs_kind_of(opts->source_dir, &kind) == 0 && kind == CB_FS_FILE)
			err = ENOTDIR; /* a file, not "Invalid argument" */
		cb_diag_error(diags, "source", NULL, 0, 0, "cannot open source folder %s: %s",
		              opts->source_dir, strerror(err));
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
		t_key = now();
		reuse = cb_reuse_open(cache_dir, opts->threads);
		free(cache_dir);
		out_real = real_or_planned(out_dir);
		/* With no last build, nothing can be fresh: the sources are keyed
		 * from what the loader reads instead of being read twice. */
		key_later = !cb_reuse_has_record(reuse);
		build_key(reuse, opts, src_real, out_real, key_later, &key_text, &ed_env);
		if (!key_later)
			hash_key(&key_text, key);
		t_key = now() - t_key;
		if (!key_later && cb_reuse_fresh(reuse, key, out_real, &rr, diags)) {
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

	/* The loader takes the ids of the files keyed above instead of hashing
	 * them again, or tells the ones keyed later. */
	if (reuse)
		cb_source_dir_known_ids(src, known_id, key_later ? learn_id : NULL, reuse);
	r = cb_config_load(&cfg, src, diags);
	if (r == CB_ENOCONFIG) {
		res->env_error = 1;
		goto out;
	}
	if (!cfg)
		goto out;
	/* On errors, eds holds no editions: loading the working tree still
	 * reports its own problems, and the errors fail the build. */
	t_hist = now();
	cb_editions_open(&b.eds, src_real, cfg, opts->check_only, diags);
	t_hist = now() - t_hist;

	if (!opts->check_only) {
		if (!out_dir)
			out_dir = opts->out_dir ? cb_xstrdup(opts->out_dir)
			                        : cb_xasprintf("%s/site", src_real);
		if (check_out_dir(src_real, out_dir, diags) < 0) {
			res->env_error = 1;
			goto out;
		}
	}

	if (opts->latest_only)
		cb_editions_drop(b.eds);
	b.n = opts->check_only ? 1 : cb_editions_count(b.eds) + 1;
	b.sites = cb_xcalloc(b.n, sizeof *b.sites);
	b.srcs = cb_xcalloc(b.n, sizeof *b.srcs);
	b.dl = cb_xcalloc(b.n, sizeof *b.dl);
	b.labels = cb_xcalloc(b.n, sizeof *b.labels);
	b.plugged = cb_xcalloc(b.n, sizeof *b.plugged);
	b.reused = cb_xcalloc(b.n, sizeof *b.reused);
	b.r = cb_xcalloc(b.n, sizeof *b.r);
	b.ro = cb_xcalloc(b.n, sizeof *b.ro);
	b.src = src;
	b.share = share;
	b.share_all = share_all;
	b.reuse = reuse;
	b.out_real = out_real;
	if (b.n > 1) {
		b.cache = cb_cache_new();
		cb_buf_put(&b.ed_env, ed_env.ptr, ed_env.len);
		cb_editions_describe(b.eds, &b.ed_env);
		if (reuse) {
			b.pre = cb_xcalloc(b.n - 1, sizeof *b.pre);
			b.key = cb_xcalloc(b.n - 1, sizeof *b.key);
			for (k = 0; k + 1 < b.n; k++)
				edition_pre(&b, k, b.pre[k]);
		}
	}
	r = make_sites(&b, cfg);
	cfg = NULL;
	if (b.sites[b.n - 1])
		res->cases = cb_site_case_count(b.sites[b.n - 1]);
	res->editions = b.n - 1;
	res->sites_reused = b.sites_reused;
	if (b.sites_reused)
		cb_diag_add(diags, CB_NOTE, "reused", NULL, 0, 0, NULL,
		            "%zu of %zu editions unchanged since the last build: their folders are "
		            "taken from it",
		            b.sites_reused, b.n - 1);
	if (opts->check_only) {
		/* Stopped early, it has not checked everything: no pass. */
		rc = r < 0 || all_errors(&b) || (opts->stop && *opts->stop) ? -1 : 0;
		goto out;
	}
	if (r < 0 || all_errors(&b) || (opts->stop && *opts->stop))
		goto out;

	/* Write. */
	if (cb_output_open(&out, out_dir, diags) < 0) {
		res->env_error = 1;
		goto out;
	}
	if (write_sites(&b, out) < 0 || all_errors(&b) || (opts->stop && *opts->stop))
		goto out;
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
		if (key_later) {
			double t = now();
			cb_reuse_key_finish(reuse, &key_text);
			hash_key(&key_text, key);
			t_key += now() - t;
		}
		t_save = now();
		cb_reuse_save(reuse, key, out_real, &rr, diags);
		t_save = now() - t_save;
	}
	cb_diag_add(diags, CB_NOTE, "stages", NULL, 0, 0, NULL,
	            "stages: keying the inputs %.2f s, editions and history %.2f s, load %.2f s, "
	            "plugins %.2f s, page list %.2f s, rendering and writing %.2f s, swapping the "
	            "site in %.2f s, saving the cache %.2f s",
	            t_key, t_hist, b.t_load, b.t_plugins, b.t_pages, b.t_write, b.t_commit, t_save);
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
		            "%zu edition%s: %zu documents parsed, %zu shared; %zu case pages rendered, "
		            "%zu shared; %zu cases of the print edition rendered, %zu shared; %zu cases' "
		            "parts of the search index and data files made, %zu shared",
		            res->editions, res->editions == 1 ? "" : "s", st.docs_parsed, st.docs_shared, st.pages_rendered,
		            st.pages_shared, st.pieces_rendered, st.pieces_shared, st.blobs_made,
		            st.blobs_shared);
	}
	if (opts->exiting)
		res->leftovers = build_leave(&b);
	else
		build_dispose(&b);
	pthread_mutex_destroy(&b.lock);
	cb_reuse_free(reuse);
	free(out_real);
	cb_buf_dispose(&ed_env);
	cb_buf_dispose(&key_text);
	if (rc < 0 && opts->stop && *opts->stop) {
		/* Stopped by a signal, at whatever stage: say so, not "failed". */
		res->interrupted = 1;
		cb_diag_error(diags, "interrupted", NULL, 0, 0, "interrupted by a signal");
	} else if (rc < 0 && cb_diag_errors(diags) == 0) {
		cb_diag_error(diags, "build", NULL, 0, 0, "the build failed");
	}
	cb_output_free(out);
	cb_config_free(cfg);
	cb_source_free(share_all);
	cb_source_free(src);
	free(out_dir);
	res->seconds = now() - t0;
	return rc;
}
