/*
 * cb_source: where a handbook's files come from.
 *
 * The loader reads files only through this interface, which has two
 * implementations: a folder on disk (the working tree, here) and a git tree
 * at a commit (cb_git_source_open in cb_git.h). An edition build is the same
 * pipeline over another source. Paths are relative to the source root,
 * '/'-separated and normalised (cb_path).
 *
 * Return codes: 0, or a negative errno value (-ENOENT when the path does not
 * exist, CB_FS_TOOBIG over the size limit). Nothing here reports
 * diagnostics; callers know what a missing file means.
 */
#ifndef CB_SOURCE_H
#define CB_SOURCE_H

#include <stddef.h>

#include "cb_fs.h"

/* Length of a hex object id (git SHA-1) without the NUL. */
#define CB_OID_HEXSZ 40

typedef struct cb_source cb_source;

/* An implementation. `impl` is the implementation's own state. */
typedef struct cb_source_ops {
	/* List folder `dir` ("" for the root), sorted by name. */
	int (*list)(void *impl, const char *dir, cb_fs_entry **out, size_t *n);
	/* Read a file (at most max bytes; 0 = no limit) into a malloc'd buffer. */
	int (*read)(void *impl, const char *path, size_t max, char **data, size_t *len);
	/* Content id of a file (its git blob id) into out[CB_OID_HEXSZ + 1];
	 * data/len are the file's bytes when the caller already has them, else NULL. */
	int (*blob_id)(void *impl, const char *path, const char *data, size_t len, char *out);
	/* Real folder of the root on disk, or NULL for a git tree. */
	const char *(*fs_root)(void *impl);
	void (*free)(void *impl);
} cb_source_ops;

/* Wrap an implementation; the source takes ownership of impl. `label`
 * describes it in messages ("working tree", "commit 1a2b3c4"). Caller frees
 * with cb_source_free. */
cb_source *cb_source_new(const cb_source_ops *ops, void *impl, const char *label);

/* A source over the folder `root` on disk. Returns 0 and the new source, or a
 * negative errno if root is not a readable folder. */
int cb_source_open_dir(cb_source **out, const char *root);

void cb_source_free(cb_source *src);

int cb_source_list(cb_source *src, const char *dir, cb_fs_entry **out, size_t *n);
int cb_source_read(cb_source *src, const char *path, size_t max, char **data, size_t *len);
int cb_source_blob_id(cb_source *src, const char *path, const char *data, size_t len,
                      char *out);
/* Tells the blob id of the file at `path` (a path on disk) without reading
 * it: 0 and the id in out[CB_OID_HEXSZ + 1] when known, else -1. Called
 * from several threads at once. */
typedef int (*cb_source_known_id)(void *ctx, const char *path, char *out);
/* Is told the blob id of the file at `path` (a path on disk) that
 * cb_source_blob_id has just hashed from the bytes its caller read and
 * uses. Called from several threads at once. */
typedef void (*cb_source_learn_id)(void *ctx, const char *path, const char *id);
/* For a source over a folder: cb_source_blob_id asks known(ctx, ...) first
 * and hashes the bytes only when it does not know the file (the build cache
 * knows the files it has just keyed), then tells learn(ctx, ...) the id it
 * hashed from the bytes it was given (the build cache keys a first build
 * with what the loader read); an id of bytes it read itself is not told,
 * since the caller may have used other bytes read before. Either may be
 * NULL. No effect on other sources. */
void cb_source_dir_known_ids(cb_source *src, cb_source_known_id known, cb_source_learn_id learn,
                             void *ctx);
/* What path is in the source; -ENOENT if nothing. */
int cb_source_kind(cb_source *src, const char *path, cb_fs_kind *kind);
/* The folder on disk, or NULL (borrowed). */
const char *cb_source_fs_root(const cb_source *src);
/* The label given at creation (borrowed). */
const char *cb_source_label(const cb_source *src);

#endif
