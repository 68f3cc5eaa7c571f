/*
 * cb_output: atomic output folder (see cb_output.h).
 */
#include "cb_output.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cb_fs.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_value.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct cb_output {
	char *dir;    /* the output folder */
	char *tmp;    /* the temporary folder */
	cb_diag_list *diags;
	atomic_size_t count;
	int committed;
	pthread_t remover;    /* removing the previous site, after a commit */
	int removing;
	pthread_mutex_t lock; /* serialises folder creation */
	cb_value *made;       /* folders made so far (site paths) */
	char **adopted;       /* folders of the previous site moved in at commit */
	size_t n_adopted;
};

int cb_output_open(cb_output **out, const char *dir, cb_diag_list *diags)
{
	cb_output *o;
	char *parent, *tmpl;
	const char *base;
	size_t dl = strlen(dir);
	int rc;

	*out = NULL;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	o = cb_xcalloc(1, sizeof *o);
	o->dir = cb_xstrndup(dir, dl);
	o->diags = diags;
	o->made = cb_value_new_map();
	pthread_mutex_init(&o->lock, NULL);
	atomic_init(&o->count, 0);
	parent = strrchr(o->dir, '/') ? cb_xstrndup(o->dir, (size_t)(strrchr(o->dir, '/') - o->dir))
	                              : cb_xstrdup(".");
	if (!*parent) {
		free(parent);
		parent = cb_xstrdup("/");
	}
	base = strrchr(o->dir, '/') ? strrchr(o->dir, '/') + 1 : o->dir;
	if ((rc = cb_fs_mkdirs(parent)) < 0) {
		cb_diag_error(diags, "output", NULL, 0, 0, "cannot create %s: %s", parent,
		              cb_fs_strerror(rc));
		free(parent);
		cb_output_free(o);
		return -1;
	}
	tmpl = cb_xasprintf("%s/.%s.tmp-XXXXXX", parent, base);
	free(parent);
	if (!mkdtemp(tmpl)) {
		cb_diag_error(diags, "output", NULL, 0, 0, "cannot create a folder beside %s: %s",
		              o->dir, strerror(errno));
		free(tmpl);
		cb_output_free(o);
		return -1;
	}
	chmod(tmpl, 0755);
	o->tmp = tmpl;
	*out = o;
	return 0;
}

/* Create the folders leading to site path `path` inside tmp. */
static int make_parents(cb_output *o, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	if (!slash)
		return 0;
	dir = cb_xasprintf("%s/%.*s", o->tmp, (int)(slash - path), path);
	pthread_mutex_lock(&o->lock);
	/* Most files go into a folder made for an earlier one. */
	if (cb_value_get(o->made, path, (size_t)(slash - path))) {
		rc = 0;
	} else {
		rc = cb_fs_mkdirs(dir);
		if (rc == 0)
			cb_value_set(o->made, path, (size_t)(slash - path), cb_value_new_bool(1));
	}
	pthread_mutex_unlock(&o->lock);
	if (rc < 0)
		cb_diag_error(o->diags, "output", path, 0, 0, "cannot create folder: %s",
		              cb_fs_strerror(rc));
	free(dir);
	return rc < 0 ? -1 : 0;
}

static int check_path(cb_output *o, const char *path)
{
	char *norm = cb_path_normalize(path, strlen(path));
	int ok = norm && *norm && strcmp(norm, path) == 0;

	free(norm);
	if (!ok)
		return cb_diag_error(o->diags, "output", NULL, 0, 0,
		                     "refusing to write '%s': not a plain path inside the site", path);
	return 0;
}

int cb_output_write(cb_output *o, const char *path, const char *data, size_t len)
{
	char *full;
	int rc;

	if (check_path(o, path) < 0 || make_parents(o, path) < 0)
		return -1;
	full = cb_xasprintf("%s/%s", o->tmp, path);
	rc = cb_fs_write(full, data, len);
	free(full);
	if (rc < 0)
		return cb_diag_error(o->diags, "output", path, 0, 0, "cannot write: %s",
		                     cb_fs_strerror(rc));
	atomic_fetch_add(&o->count, 1);
	return 0;
}

struct cb_output_file {
	cb_output *o;
	char *path;
	FILE *fp;
	int err; /* first errno, 0 if none */
};

int cb_output_file_open(cb_output *o, const char *path, cb_output_file **f)
{
	cb_output_file *of;
	char *full;

	*f = NULL;
	if (check_path(o, path) < 0 || make_parents(o, path) < 0)
		return -1;
	full = cb_xasprintf("%s/%s", o->tmp, path);
	of = cb_xcalloc(1, sizeof *of);
	of->o = o;
	of->path = cb_xstrdup(path);
	of->fp = fopen(full, "wb");
	free(full);
	if (!of->fp) {
		cb_diag_error(o->diags, "output", path, 0, 0, "cannot write: %s", strerror(errno));
		free(of->path);
		free(of);
		return -1;
	}
	*f = of;
	return 0;
}

void cb_output_file_write(cb_output_file *f, const char *data, size_t len)
{
	if (f->err || len == 0)
		return;
	if (fwrite(data, 1, len, f->fp) != len)
		f->err = errno ? errno : EIO;
}

int cb_output_file_close(cb_output_file *f)
{
	int rc = 0;

	if (!f)
		return 0;
	if (fflush(f->fp) != 0 && !f->err)
		f->err = errno ? errno : EIO;
	if (fclose(f->fp) != 0 && !f->err)
		f->err = errno ? errno : EIO;
	if (f->err)
		rc = cb_diag_error(f->o->diags, "output", f->path, 0, 0, "cannot write: %s",
		                   strerror(f->err));
	else
		atomic_fetch_add(&f->o->count, 1);
	free(f->path);
	free(f);
	return rc;
}

int cb_output_copy(cb_output *o, const char *path, cb_source *src, const char *from)
{
	char *data = NULL;
	size_t len;
	int rc = cb_source_read(src, from, 0, &data, &len);

	if (rc < 0)
		return cb_diag_error(o->diags, "io", from, 0, 0, "cannot read: %s", cb_fs_strerror(rc));
	rc = cb_output_write(o, path, data, len);
	free(data);
	return rc;
}

int cb_output_link(cb_output *o, const char *path, const char *from)
{
	char *full;
	int rc = 0;

	if (check_path(o, path) < 0 || make_parents(o, path) < 0)
		return -1;
	full = cb_xasprintf("%s/%s", o->tmp, path);
	if (link(from, full) < 0 && (rc = cb_fs_copy(from, full)) < 0)
		cb_diag_error(o->diags, "output", path, 0, 0, "cannot copy %s: %s", from,
		              cb_fs_strerror(rc));
	free(full);
	if (rc < 0)
		return -1;
	atomic_fetch_add(&o->count, 1);
	return 0;
}

int cb_output_adopt(cb_output *o, const char *dir, size_t files)
{
	struct stat st;
	char *from, *to, *norm = cb_path_normalize(dir, strlen(dir));
	int ok = norm && *norm && strcmp(norm, dir) == 0;

	free(norm);
	if (!ok)
		return -1;
	from = cb_xasprintf("%s/%s", o->dir, dir);
	to = cb_xasprintf("%s/%s", o->tmp, dir);
	ok = lstat(from, &st) == 0 && S_ISDIR(st.st_mode) && lstat(to, &st) < 0 && errno == ENOENT;
	free(from);
	free(to);
	if (!ok)
		return -1;
	o->adopted = cb_xreallocarray(o->adopted, o->n_adopted + 1, sizeof *o->adopted);
	o->adopted[o->n_adopted++] = cb_xstrdup(dir);
	atomic_fetch_add(&o->count, files);
	return 0;
}

/* Move adopted folders [0, n) from folder `from` to folder `to` (the same
 * site paths in both). Returns how many were moved, in order; on a failure
 * errno tells why. */
static size_t move_adopted(cb_output *o, const char *from, const char *to, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *a = cb_xasprintf("%s/%s", from, o->adopted[i]);
		char *b = cb_xasprintf("%s/%s", to, o->adopted[i]);
		char *parent = cb_xstrdup(b);
		int ok, err;

		*strrchr(parent, '/') = '\0';
		ok = cb_fs_mkdirs(parent) == 0 && rename(a, b) == 0;
		err = errno;
		free(parent);
		free(a);
		free(b);
		if (!ok) {
			errno = err;
			break;
		}
	}
	return i;
}

size_t cb_output_count(const cb_output *o)
{
	return atomic_load(&((cb_output *)o)->count);
}

const char *cb_output_tmpdir(const cb_output *o)
{
	return o->tmp;
}

static void *remove_old(void *path)
{
	cb_fs_remove_tree(path);
	return NULL;
}

int cb_output_commit(cb_output *o)
{
	struct stat st;
	char *keep = cb_xasprintf("%s/.gitignore", o->dir);
	char *keep_to = cb_xasprintf("%s/.gitignore", o->tmp);
	size_t moved;
	int rc = 0;

	/* Carry a .gitignore over (site/ keeps one so its output stays out of git). */
	if (lstat(keep, &st) == 0 && S_ISREG(st.st_mode) && lstat(keep_to, &st) < 0)
		cb_fs_copy(keep, keep_to);
	free(keep);
	free(keep_to);

	/* The adopted folders cross while the old site is still in place:
	 * only for the few system calls until the swap is it without them. */
	moved = move_adopted(o, o->dir, o->tmp, o->n_adopted);
	if (moved < o->n_adopted) {
		int err = errno;
		rc = cb_diag_error(o->diags, "output", NULL, 0, 0,
		                   "cannot move %s/%s into the new site: %s", o->dir, o->adopted[moved],
		                   strerror(err));
		move_adopted(o, o->tmp, o->dir, moved);
		return rc;
	}
	if (lstat(o->dir, &st) < 0) {
		if (rename(o->tmp, o->dir) < 0)
			rc = cb_diag_error(o->diags, "output", NULL, 0, 0, "cannot create %s: %s", o->dir,
			                   strerror(errno));
	} else if (syscall(SYS_renameat2, AT_FDCWD, o->tmp, AT_FDCWD, o->dir, RENAME_EXCHANGE) ==
	           0) {
		/* o->tmp now holds the previous site: remove it below. */
	} else {
		/* No atomic exchange here (old kernel, other filesystem): move the
		 * old folder aside, move the new one in, then drop the old. */
		char *old = cb_xasprintf("%s.old", o->tmp);
		if (rename(o->dir, old) < 0) {
			rc = cb_diag_error(o->diags, "output", NULL, 0, 0, "cannot replace %s: %s",
			                   o->dir, strerror(errno));
		} else if (rename(o->tmp, o->dir) < 0) {
			rc = cb_diag_error(o->diags, "output", NULL, 0, 0, "cannot replace %s: %s",
			                   o->dir, strerror(errno));
			rename(old, o->dir);
		} else {
			cb_fs_remove_tree(old);
		}
		free(old);
		if (rc < 0) {
			move_adopted(o, o->tmp, o->dir, moved);
			return rc;
		}
		o->committed = 1;
		return 0;
	}
	if (rc < 0) {
		move_adopted(o, o->tmp, o->dir, moved);
		return rc;
	}
	o->committed = 1;
	/* o->tmp holds the old site (or nothing after a rename): remove it on
	 * a thread of its own while the build finishes (cb_output_free waits
	 * for it), or here if no thread can be started. */
	if (pthread_create(&o->remover, NULL, remove_old, o->tmp) == 0)
		o->removing = 1;
	else
		cb_fs_remove_tree(o->tmp);
	return 0;
}

void cb_output_free(cb_output *o)
{
	size_t i;

	if (!o)
		return;
	if (o->removing)
		pthread_join(o->remover, NULL);
	if (o->tmp && !o->committed)
		cb_fs_remove_tree(o->tmp);
	free(o->dir);
	free(o->tmp);
	cb_value_unref(o->made);
	for (i = 0; i < o->n_adopted; i++)
		free(o->adopted[i]);
	free(o->adopted);
	pthread_mutex_destroy(&o->lock);
	free(o);
}
