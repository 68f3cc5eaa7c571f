/*
 * cb_search: the search index, built at build time and written as classic
 * scripts, so that search works from a folder opened from disk (file://),
 * where browsers refuse fetch() and module scripts.
 *
 * The index has one item per case and one per lesson of a case. Each item's
 * words are folded (cb_utf8_fold: lower case, marks stripped, ł -> l) and
 * recorded with the fields they occur in: title, facets (the facts box, tags),
 * lessons (a lesson's text and theme) or body (summary, text, sources). The
 * theme's script (assets/search.js) folds the query the same way, matches
 * word prefixes and ranks title > facets > lessons > body.
 *
 * Files (docs/offline.md describes the format):
 *   assets/search-index.js   the manifest: which part holds which words;
 *                            for a small handbook, every part too
 *   assets/search/t<N>.js    words starting with some two letters, and the
 *                            items they occur in (loaded for a query)
 *   assets/search/d<N>.js    title, facts, summary, text and lessons of a
 *                            run of cases (loaded to show results)
 * Every file is a script calling casebookSearch.index(...) or
 * casebookSearch.part(name, ...).
 */
#ifndef CB_SEARCH_H
#define CB_SEARCH_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_render.h"

/* Fields, as bits of a posting. */
#define CB_SEARCH_BODY 1
#define CB_SEARCH_LESSON 2
#define CB_SEARCH_FACET 4
#define CB_SEARCH_TITLE 8

/* Lessons of a case beyond this many are not indexed as items. */
#define CB_SEARCH_MAX_LESSONS 255

/* Index files below this total size are all put in search-index.js. */
#define CB_SEARCH_INLINE_LIMIT (256 * 1024)
/* Target size of one part file when the index is split. */
#define CB_SEARCH_PART_SIZE (64 * 1024)

typedef struct cb_search cb_search;

/* A new, empty index. Free with cb_search_free. */
cb_search *cb_search_new(void);
void cb_search_free(cb_search *s);

/* Start the next case (cases are numbered 0, 1, ... in the order added);
 * what follows is indexed into it. text_bytes is the size of what its
 * record will hold (for planning the parts). Returns the case number. */
size_t cb_search_add_case(cb_search *s, size_t text_bytes);
/* Start the next lesson of the current case; returns its number (1, 2, ...)
 * or 0 when the case has CB_SEARCH_MAX_LESSONS already (its words are then
 * not indexed). */
unsigned cb_search_add_lesson(cb_search *s);
/* Index the words of text (UTF-8, len bytes) in field (a CB_SEARCH_* bit)
 * of the current item: the last lesson started since the current case,
 * else the case. Words of one letter and of more than 64 bytes are left
 * out. */
void cb_search_add_text(cb_search *s, int field, const char *text, size_t len);

/* Record into rec (NULL: stop) every case, lesson and word added from now
 * on, so that cb_search_replay can add them again to another index (the
 * same case in another edition) without reading the case. A word is
 * recorded once per item, with every field it was added in. */
void cb_search_record(cb_search *s, cb_buf *rec);
/* The same, but what is added is only recorded into rec, not indexed: for
 * making the recordings of many cases on several threads (one recorder
 * each) and replaying them, in order, into one index. */
void cb_search_record_only(cb_search *s, cb_buf *rec);
/* Add what a recording holds. Returns 0, or -1 if data is no recording. */
int cb_search_replay(cb_search *s, const char *data, size_t len);

/* Number of cases, distinct words and postings (item-word pairs). */
size_t cb_search_case_count(const cb_search *s);
size_t cb_search_word_count(const cb_search *s);
size_t cb_search_posting_count(const cb_search *s);

/*
 * Plan the part files once every case is added: sorts the words and groups
 * them, and the cases, into parts of about part_size bytes. Returns the
 * number of word parts (t0 ...) and sets *doc_parts to the number of case
 * parts (d0 ...). After this, the index is read-only and the calls below
 * may run on several threads.
 */
size_t cb_search_plan(cb_search *s, size_t part_size, size_t *doc_parts);
/* Append the manifest (the call casebookSearch.index({...});) to out. */
void cb_search_write_manifest(const cb_search *s, cb_buf *out);
/* Append word part i (casebookSearch.part("t<i>", ...);) to out. */
void cb_search_write_terms(const cb_search *s, size_t i, cb_buf *out);
/* First case and one past the last case of case part i. */
void cb_search_doc_range(const cb_search *s, size_t i, size_t *first, size_t *end);
/* Estimated size of every file together. */
size_t cb_search_total_size(const cb_search *s);

/* The page generator: builds the index from the site and queues
 * assets/search-index.js, its parts and search.html. */
void cb_search_generate(cb_render *r);

#endif
