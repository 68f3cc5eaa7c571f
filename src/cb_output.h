/*
 * cb_output: the output folder, written atomically.
 *
 * Pages are written into a temporary folder beside the output folder
 * (".<name>.tmp-XXXXXX"). cb_output_commit swaps it in only when the build
 * succeeded; otherwise cb_output_free removes it and the previous site stays
 * byte for byte as it was. A .gitignore in the previous output folder is
 * carried over, and so are the previous site's folders the build adopts
 * whole (an edition unchanged since the last build): they are moved across
 * just before the swap, and moved back if it fails. Paths given to the
 * writer are site paths, normalised and relative: nothing is ever written
 * outside the folder.
 *
 * Writes may come from several threads at once.
 */
#ifndef CB_OUTPUT_H
#define CB_OUTPUT_H

#include <stddef.h>

#include "cb_diag.h"
#include "cb_source.h"

typedef struct cb_output cb_output;

/* Start writing a new version of folder `dir` (its parent is created if
 * needed). Returns 0, or -1 after reporting why to diags. */
int cb_output_open(cb_output **out, const char *dir, cb_diag_list *diags);

/* Write a file at site path `path`. Returns 0, or -1 after reporting. */
int cb_output_write(cb_output *o, const char *path, const char *data, size_t len);

/* A file written piece by piece, for files too big to hold in memory. */
typedef struct cb_output_file cb_output_file;

/* Start writing site path `path` piece by piece. Returns 0 with *f (finish
 * it with cb_output_file_close), or -1 after reporting. Several files may be
 * open at once, on several threads (one thread per file). */
int cb_output_file_open(cb_output *o, const char *path, cb_output_file **f);
/* Append len bytes. Cannot fail: the first error is remembered and reported
 * by cb_output_file_close. */
void cb_output_file_write(cb_output_file *f, const char *data, size_t len);
/* Finish the file and free f. Returns 0, or -1 after reporting the first
 * error of any write. NULL is fine (returns 0). */
int cb_output_file_close(cb_output_file *f);

/* Copy `from` out of src to site path `path`. */
int cb_output_copy(cb_output *o, const char *path, cb_source *src, const char *from);

/* Put file `from` (a path on disk, on the same filesystem as the output
 * folder: the previous site) at site path `path` as a hard link, or as a
 * copy where linking fails. Returns 0, or -1 after reporting. */
int cb_output_link(cb_output *o, const char *path, const char *from);

/* Take folder `dir` (a site path, e.g. "editions/2025") of the previous
 * site into the new one as it is: it is moved across when the new site is
 * swapped in, instead of each file being written or linked again, and its
 * `files` files count as written. For folders the build knows are as the
 * last build left them (cb_reuse). Returns 0, or -1 (nothing reported)
 * when it cannot: the previous site has no such folder, or the new site
 * has something there already. Call after the writing. */
int cb_output_adopt(cb_output *o, const char *dir, size_t files);

/* Number of files written so far. */
size_t cb_output_count(const cb_output *o);

/* The temporary folder being written (borrowed), e.g. for a cache. */
const char *cb_output_tmpdir(const cb_output *o);

/* Swap the new folder in for the old one, the adopted folders moved
 * across first. Returns 0, or -1 after reporting (the old folder is then
 * as it was, adopted folders moved back). The old site is removed on a thread
 * of its own; cb_output_free waits until it is gone. */
int cb_output_commit(cb_output *o);

/* Free the writer; removes the temporary folder unless it was committed. */
void cb_output_free(cb_output *o);

#endif
