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

#include "cb_config.h"
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

int cb_build_run(const cb_build_opts *opts, cb_diag_list *diags, cb_build_result *res)
{
	cb_source *src = NULL, *share = NULL;
	cb_config *cfg = NULL;
	cb_site *site = NULL;
	cb_output *out = NULL;
	char src_real[PATH_MAX];
	char *out_dir = NULL;
	double t0 = now();
	int rc = -1, r;
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	cb_render_opts ro = CB_RENDER_OPTS_INIT;

	memset(res, 0, sizeof *res);
	if (!realpath(opts->source_dir, src_real) ||
	    cb_source_open_dir(&src, src_real) < 0) {
		cb_diag_error(diags, "source", NULL, 0, 0, "cannot open source folder %s: %s",
		              opts->source_dir, strerror(errno ? errno : ENOENT));
		res->env_error = 1;
		goto out;
	}
	if (opts->share_dir && strcmp(opts->share_dir, src_real) != 0)
		cb_source_open_dir(&share, opts->share_dir);

	r = cb_config_load(&cfg, src, diags);
	if (r == CB_ENOCONFIG) {
		res->env_error = 1;
		goto out;
	}
	if (!cfg)
		goto out;
	site = cb_site_new(cfg, src, share, diags);
	cfg = NULL;

	if (!opts->check_only) {
		out_dir = opts->out_dir ? cb_xstrdup(opts->out_dir) : cb_xasprintf("%s/site", src_real);
		if (check_out_dir(src_real, out_dir, diags) < 0) {
			res->env_error = 1;
			goto out;
		}
	}

	/* Load. */
	lo.threads = opts->threads;
	if (opts->progress) {
		lo.progress = progress;
		lo.progress_ctx = (void *)"loading cases";
	}
	cb_load(site, &lo);
	res->cases = cb_site_case_count(site);
	/* Plugins run even when loading found errors, so one run reports all. */
	cb_plugin_run(site);
	if (opts->check_only) {
		rc = cb_diag_errors(diags) ? -1 : 0;
		goto out;
	}
	if (cb_diag_errors(diags) || (opts->stop && *opts->stop))
		goto out;

	/* Render and write. */
	if (cb_output_open(&out, out_dir, diags) < 0) {
		res->env_error = 1;
		goto out;
	}
	ro.threads = opts->threads;
	ro.stop = opts->stop;
	if (opts->progress) {
		ro.progress = progress;
		ro.progress_ctx = (void *)"writing pages";
	}
	if (cb_render_site(site, out, &ro) < 0 || cb_diag_errors(diags))
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
	if (rc < 0 && cb_diag_errors(diags) == 0)
		cb_diag_error(diags, "build", NULL, 0, 0, "the build failed");
	cb_output_free(out);
	cb_site_free(site);
	cb_config_free(cfg);
	cb_source_free(share);
	cb_source_free(src);
	free(out_dir);
	res->seconds = now() - t0;
	return rc;
}
