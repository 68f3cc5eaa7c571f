/*
 * cb_load: the load stage. Reads content/ from the site's source into the
 * site: cases (parsed in parallel), free pages, vocabularies, and the list of
 * other content files to copy. Checks the case schema, duplicate titles and
 * links to files and images. Knows nothing of Lua or templates.
 */
#ifndef CB_LOAD_H
#define CB_LOAD_H

#include <stddef.h>

#include "cb_cache.h"
#include "cb_site.h"

/* Ids that headings must not take, because themes use them for their own
 * sections of a case page. NULL-terminated. */
extern const char *const cb_load_reserved_ids[];

typedef struct cb_load_opts {
	int threads; /* 0 = one per core */
	/* Called now and then with the number of cases loaded so far. */
	void (*progress)(void *ctx, size_t done, size_t total);
	void *progress_ctx;
	/* Documents already parsed by another edition of this build (may be
	 * NULL). A document whose kind, path, blob id and parse options match
	 * is shared rather than parsed again, and not checked again: what
	 * parsing it reported was reported the first time. */
	cb_cache *cache;
} cb_load_opts;

#define CB_LOAD_OPTS_INIT { 0, NULL, NULL, NULL }

/* Load everything into site and seal it (cb_site_seal). Returns 0, or -1 when
 * any error was reported to the site's diagnostics. */
int cb_load(cb_site *site, const cb_load_opts *opts);

#endif
