/*
 * cb_fs: the few filesystem operations casebook needs, on real paths.
 *
 * Functions return 0 on success and a negative errno value on failure
 * (CB_FS_TOOBIG for a file over the size limit), so callers can both test
 * and explain (strerror(-rc)). Nothing here prints.
 */
#ifndef CB_FS_H
#define CB_FS_H

#include <stddef.h>
#include <stdint.h>

#define CB_FS_TOOBIG (-100000)

typedef enum cb_fs_kind { CB_FS_FILE, CB_FS_DIR, CB_FS_LINK, CB_FS_OTHER } cb_fs_kind;

typedef struct cb_fs_entry {
	char *name;      /* owned by the listing */
	cb_fs_kind kind; /* what the entry itself is (a symlink is CB_FS_LINK) */
	int stated;      /* the fields below were read (else only name is known) */
	uint64_t size;
	int64_t mtime_sec, mtime_nsec; /* last modification */
	uint64_t ino;
} cb_fs_entry;

/* Read a whole file into a malloc'd, NUL-terminated buffer (*data, *len);
 * caller frees *data. Files larger than max bytes give CB_FS_TOOBIG (max 0
 * means no limit). */
int cb_fs_read(const char *path, size_t max, char **data, size_t *len);

/* Write len bytes to path, creating or truncating it. */
int cb_fs_write(const char *path, const char *data, size_t len);

/* Write len bytes to a new file at path; -EEXIST (and nothing written) if
 * something is already there. If the write fails half-way, the partial file
 * is removed. */
int cb_fs_create(const char *path, const char *data, size_t len);

/* Create a folder and its missing parents (mode 0755). */
int cb_fs_mkdirs(const char *path);

/* Remove a file or a whole folder tree. Symlinks are removed, never
 * followed. A missing path is not an error. */
int cb_fs_remove_tree(const char *path);

/* List a folder sorted by name (bytewise), without "." and "..". Caller frees
 * with cb_fs_list_free. */
int cb_fs_list(const char *dir, cb_fs_entry **out, size_t *n);
void cb_fs_list_free(cb_fs_entry *entries, size_t n);

/* What path is (lstat: a symlink is CB_FS_LINK); -ENOENT if nothing is there. */
int cb_fs_kind_of(const char *path, cb_fs_kind *kind);

/* Copy a regular file. */
int cb_fs_copy(const char *from, const char *to);

/* Human-readable message for a code from this module. Borrowed string. */
const char *cb_fs_strerror(int rc);

#endif
