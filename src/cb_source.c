/*
 * cb_source: the source interface and its working-tree implementation
 * (see cb_source.h).
 */
#include "cb_source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cb_git.h"
#include "cb_mem.h"
#include "cb_path.h"

struct cb_source {
	const cb_source_ops *ops;
	void *impl;
	char *label;
};

cb_source *cb_source_new(const cb_source_ops *ops, void *impl, const char *label)
{
	cb_source *s = cb_xcalloc(1, sizeof *s);

	s->ops = ops;
	s->impl = impl;
	s->label = cb_xstrdup(label);
	return s;
}

void cb_source_free(cb_source *src)
{
	if (!src)
		return;
	src->ops->free(src->impl);
	free(src->label);
	free(src);
}

int cb_source_list(cb_source *src, const char *dir, cb_fs_entry **out, size_t *n)
{
	return src->ops->list(src->impl, dir, out, n);
}

int cb_source_read(cb_source *src, const char *path, size_t max, char **data, size_t *len)
{
	return src->ops->read(src->impl, path, max, data, len);
}

int cb_source_blob_id(cb_source *src, const char *path, const char *data, size_t len,
                      char *out)
{
	return src->ops->blob_id(src->impl, path, data, len, out);
}

int cb_source_kind(cb_source *src, const char *path, cb_fs_kind *kind)
{
	char *dir = cb_path_dirname(path);
	const char *base = cb_path_basename(path);
	cb_fs_entry *e = NULL;
	size_t n = 0, i;
	int rc;

	if (!*path) {
		free(dir);
		*kind = CB_FS_DIR;
		return 0;
	}
	rc = cb_source_list(src, dir, &e, &n);
	free(dir);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (i = 0; i < n; i++)
		if (strcmp(e[i].name, base) == 0) {
			*kind = e[i].kind;
			rc = 0;
			break;
		}
	cb_fs_list_free(e, n);
	return rc;
}

const char *cb_source_fs_root(const cb_source *src)
{
	return src->ops->fs_root ? src->ops->fs_root(src->impl) : NULL;
}

const char *cb_source_label(const cb_source *src)
{
	return src->label;
}

/* ---- working tree -------------------------------------------------------- */

typedef struct dir_impl {
	char *root;
	cb_source_known_id known; /* or NULL */
	cb_source_learn_id learn; /* or NULL */
	void *known_ctx;
} dir_impl;

static char *full_path(dir_impl *d, const char *path)
{
	return *path ? cb_path_join(d->root, path) : cb_xstrdup(d->root);
}

static int dir_list(void *impl, const char *dir, cb_fs_entry **out, size_t *n)
{
	char *p = full_path(impl, dir);
	int rc = cb_fs_list(p, out, n);

	free(p);
	return rc;
}

static int dir_read(void *impl, const char *path, size_t max, char **data, size_t *len)
{
	char *p = full_path(impl, path);
	int rc = cb_fs_read(p, max, data, len);

	free(p);
	return rc;
}

static int dir_blob_id(void *impl, const char *path, const char *data, size_t len, char *out)
{
	dir_impl *d = impl;
	char *buf = NULL;
	size_t blen;
	int rc;

	if (d->known) {
		char *p = full_path(d, path);
		rc = d->known(d->known_ctx, p, out);
		free(p);
		if (rc == 0)
			return 0;
	}
	if (!data) {
		/* Read now: these may not be the bytes the caller used, so the
		 * id is not told. */
		if ((rc = dir_read(impl, path, 0, &buf, &blen)) < 0)
			return rc;
		rc = cb_git_hash_blob(buf, blen, out);
		free(buf);
		return rc;
	}
	rc = cb_git_hash_blob(data, len, out);
	if (rc == 0 && d->learn) {
		char *p = full_path(d, path);
		d->learn(d->known_ctx, p, out);
		free(p);
	}
	return rc;
}

static const char *dir_fs_root(void *impl)
{
	return ((dir_impl *)impl)->root;
}

static void dir_free(void *impl)
{
	dir_impl *d = impl;

	free(d->root);
	free(d);
}

static const cb_source_ops dir_ops = {dir_list, dir_read, dir_blob_id, dir_fs_root, dir_free};

void cb_source_dir_known_ids(cb_source *src, cb_source_known_id known, cb_source_learn_id learn,
                             void *ctx)
{
	dir_impl *d;

	if (src->ops != &dir_ops)
		return;
	d = src->impl;
	d->known = known;
	d->learn = learn;
	d->known_ctx = ctx;
}

int cb_source_open_dir(cb_source **out, const char *root)
{
	struct stat st;
	dir_impl *d;

	*out = NULL;
	if (stat(root, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	d = cb_xcalloc(1, sizeof *d);
	d->root = cb_xstrdup(root);
	*out = cb_source_new(&dir_ops, d, "working tree");
	return 0;
}
