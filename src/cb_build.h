/*
 * cb_build: the pipeline, source to site: load -> plugins -> render -> write.
 *
 * `casebook build`, `check` and `serve` all run it; check stops before
 * rendering. Everything it finds goes into one diagnostics list.
 *
 * In a git repository with editions (cb_edition.h), a build is the same
 * pipeline once per edition, each over its commit's tree, plus once for the
 * latest: every site is loaded (sharing parses through a cb_cache), then
 * every site's page list is made, then every site is written into the one
 * output folder, which is swapped in only when all of them succeeded.
 *
 * Before all that, the build's inputs are keyed by content and compared with
 * the last successful build's (cb_reuse.h): when nothing changed and the
 * site is as that build left it, nothing is done.
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
	int latest_only;        /* build the latest site alone, without editions
	                         * (history is still read): for previews */
	int no_cache;           /* neither read nor write SOURCE/.casebook-cache
	                         * (cb_reuse.h): always build */
	int exiting;            /* the caller exits after the build: its data comes
	                         * back in res->leftovers instead of being freed */
} cb_build_opts;

#define CB_BUILD_OPTS_INIT { ".", NULL, NULL, 0, 0, 0, NULL, 0, 0, 0 }

/*
 * What a build run with opts.exiting leaves allocated: its sites, their
 * documents, values and page lists, moved out whole once everything they
 * reported is in the build's diagnostics. A process that exits next lets
 * the system take it back with the rest of its memory, without freeing it
 * value by value (0.07 s at the end of a 10,000-case build, on one core).
 * Nothing in it refers to the options, the diagnostics list or the output
 * folder, so it may outlive them.
 */
typedef struct cb_build_leftovers cb_build_leftovers;

/* Free what a build left (NULL does nothing). */
void cb_build_leftovers_free(cb_build_leftovers *l);

typedef struct cb_build_result {
	size_t cases;    /* of the latest (the working tree) */
	size_t pages;    /* files written, every edition's included */
	size_t editions; /* editions built besides the latest */
	/* What editions shared (see cb_cache.h); 0 without editions. */
	size_t docs_parsed, docs_shared, pages_rendered, pages_shared, pieces_rendered,
	    pieces_shared, blobs_made, blobs_shared;
	size_t sites_reused; /* editions linked whole from the last build (cb_reuse.h) */
	double seconds;
	int up_to_date;  /* nothing changed since the last build: nothing written */
	int env_error;   /* the failure was the environment's (exit 2), not the content's */
	int interrupted; /* opts.stop was set: the build stopped early, writing nothing */
	cb_build_leftovers *leftovers; /* with opts.exiting, else NULL; caller frees */
} cb_build_result;

/* Run the pipeline. Returns 0 on success, -1 if any error was reported to
 * diags (the previous site is then untouched). */
int cb_build_run(const cb_build_opts *opts, cb_diag_list *diags, cb_build_result *res);

#endif
