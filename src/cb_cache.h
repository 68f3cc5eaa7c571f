/*
 * cb_cache: what the editions of one build share.
 *
 * An edition build is the same pipeline over another source, so most of
 * its work was already done for another edition. The cache keeps, for the
 * length of one build:
 *
 *   - parsed documents by content: kind, path, blob id and parse options.
 *     A case whose file is the same in five editions is parsed once; each
 *     edition gets its own document sharing the parse (cb_doc_share), to
 *     which its plugins add their own values.
 *   - rendered pages by page key: a hash of everything the page's context
 *     is made of (see cb_render.c, "Sharing pages between editions"). A
 *     page rendered for one edition is written again for another by copying
 *     the first file and replacing its edition switcher, the one part of a
 *     page that differs between editions.
 *   - rendered pieces of pages by key, the same way: a case's part of the
 *     print edition is copied from the first edition's print.html.
 *   - bytes derived from one case by key (what the search index takes from
 *     it), kept in memory.
 *
 * Every function is safe to call from several threads at once.
 */
#ifndef CB_CACHE_H
#define CB_CACHE_H

#include <stddef.h>

#include "cb_doc.h"

typedef struct cb_cache cb_cache;

/* A new, empty cache. Cannot fail; free with cb_cache_free. */
cb_cache *cb_cache_new(void);
void cb_cache_free(cb_cache *c);

/* The marker a page carries where its edition switcher goes until the
 * switcher is put in: a string no content can hold, made anew for each
 * cache (borrowed). */
const char *cb_cache_marker(const cb_cache *c);

/*
 * The document stored under key, as a new document sharing its parse (the
 * caller frees it), with *failed set when parsing it reported errors; or
 * NULL when there is none. Counts a hit or a miss.
 */
cb_doc *cb_cache_doc_get(cb_cache *c, const char *key, int *failed);
/* Store doc under key (the cache keeps its own shared copy). */
void cb_cache_doc_put(cb_cache *c, const char *key, const cb_doc *doc, int failed);

/*
 * Where the page with this key was first written: its path in the output
 * folder (borrowed, valid as long as the cache) and the byte range [hole,
 * hole + hole_len) its edition switcher takes there. Returns 1 if found,
 * else 0 (counting a hit or a miss).
 */
int cb_cache_page_get(cb_cache *c, const char *key, const char **path, size_t *hole,
                      size_t *hole_len);
/* Record that the page with key was written to path with its switcher at
 * [hole, hole + hole_len). The first record of a key stays. */
void cb_cache_page_put(cb_cache *c, const char *key, const char *path, size_t hole,
                       size_t hole_len);

/*
 * Pieces of pages (a case in the print edition) by key: where the piece
 * with this key was first written, as the output path of the file and the
 * byte range [offset, offset + len) it takes there. Returns 1 if found, else
 * 0 (counting a hit or a miss); put records a piece (the first record of a
 * key stays).
 */
int cb_cache_piece_get(cb_cache *c, const char *key, const char **path, size_t *offset,
                       size_t *len);
void cb_cache_piece_put(cb_cache *c, const char *key, const char *path, size_t offset,
                        size_t len);

/* Bytes a generator derived from one case (its words in the search index),
 * by key (cb_render_case_key). get appends them to out and returns 1, or
 * returns 0 (counting a hit or a miss); put keeps a copy (the first put of
 * a key stays). */
int cb_cache_blob_get(cb_cache *c, const char *key, cb_buf *out);
void cb_cache_blob_put(cb_cache *c, const char *key, const char *data, size_t len);

/* What the cache saved, for the build summary and benchmarks. */
typedef struct cb_cache_stats {
	size_t docs_parsed;    /* cb_cache_doc_get misses */
	size_t docs_shared;    /* hits */
	size_t pages_rendered; /* cb_cache_page_get misses */
	size_t pages_shared;   /* hits */
	size_t pieces_rendered; /* cb_cache_piece_get misses */
	size_t pieces_shared;   /* hits */
	size_t blobs_made;      /* cb_cache_blob_get misses */
	size_t blobs_shared;    /* hits */
} cb_cache_stats;

void cb_cache_stats_get(cb_cache *c, cb_cache_stats *out);

#endif
