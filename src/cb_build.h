/*
 * cb_build: the pipeline, source to site: load -> plugins -> render -> write.
 *
 * `casebook build`, `check` and `serve` all run it; check stops before
 * rendering. Everything it finds goes into one diagnostics list.
 */
#ifndef CB_BUILD_H
#define CB_BUILD_H

#include <signal.h>
#include <stddef.h>

#include "cb_diag.h"

typedef struct cb_build_opts {
	const char *source_dir; /* the handbook (holds casebook.yml) */
	const char *out_dir;    /* the site folder; NULL = SOURCE/site */
	const char *share_dir;  /* installed themes/plugins, or NULL */
	int check_only;         /* stop before rendering; write nothing */
	int threads;            /* 0 = one per core */
	int progress;           /* print a progress line on stderr */
	volatile sig_atomic_t *stop; /* set by a signal handler to stop early */
} cb_build_opts;

#define CB_BUILD_OPTS_INIT { ".", NULL, NULL, 0, 0, 0, NULL }

typedef struct cb_build_result {
	size_t cases;
	size_t pages;    /* files written */
	double seconds;
	int env_error;   /* the failure was the environment's (exit 2), not the content's */
} cb_build_result;

/* Run the pipeline. Returns 0 on success, -1 if any error was reported to
 * diags (the previous site is then untouched). */
int cb_build_run(const cb_build_opts *opts, cb_diag_list *diags, cb_build_result *res);

#endif
