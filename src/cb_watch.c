/*
 * cb_watch: inotify adapter (see cb_watch.h).
 */
#include "cb_watch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cb_fs.h"
#include "cb_mem.h"
#include "cb_path.h"

/* What counts as a change. IN_ATTRIB makes `touch` rebuild. */
#define WATCH_MASK                                                                             \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |      \
	 IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

typedef struct root {
	char *dir;    /* the folder on disk */
	char **names; /* NULL-terminated; owned */
} root;

typedef struct watched {
	int wd;
	size_t root;  /* index into roots */
	char *rel;    /* folder relative to its root; "" for the root itself */
} watched;

/* A path changed since the last clear. */
typedef struct change {
	char *path;
	int created; /* its first event made it appear */
	int exists;  /* its last event left it in place */
} change;

struct cb_watch {
	int fd;
	root *roots;
	size_t n_roots;
	watched *dirs;
	size_t n_dirs, cap_dirs;
	change *changes;
	size_t n_changes, cap_changes;
	char **shown;   /* the changes worth telling, rebuilt on read */
	size_t n_shown;
};

int cb_watch_new(cb_watch **out)
{
	cb_watch *w;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return -errno;
	w = cb_xcalloc(1, sizeof *w);
	w->fd = fd;
	*out = w;
	return 0;
}

void cb_watch_free(cb_watch *w)
{
	size_t i, k;

	if (!w)
		return;
	close(w->fd);
	cb_watch_clear(w);
	free(w->changes);
	for (i = 0; i < w->n_dirs; i++)
		free(w->dirs[i].rel);
	for (i = 0; i < w->n_roots; i++) {
		for (k = 0; w->roots[i].names[k]; k++)
			free(w->roots[i].names[k]);
		free(w->roots[i].names);
		free(w->roots[i].dir);
	}
	free(w->dirs);
	free(w->roots);
	free(w);
}

int cb_watch_fd(const cb_watch *w)
{
	return w->fd;
}

size_t cb_watch_count(const cb_watch *w)
{
	return w->n_dirs;
}

/* Scratch files of editors and version control: never content. */
static int ignored_name(const char *name)
{
	size_t n = strlen(name);

	return n == 0 || name[0] == '.' || name[n - 1] == '~' ||
	       (name[0] == '#' && name[n - 1] == '#') || strcmp(name, "4913") == 0;
}

static int root_wants(const root *r, const char *name)
{
	size_t k;

	for (k = 0; r->names[k]; k++)
		if (strcmp(r->names[k], name) == 0)
			return 1;
	return 0;
}

static watched *find_wd(cb_watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

static void forget(cb_watch *w, size_t i)
{
	free(w->dirs[i].rel);
	w->n_dirs--;
	if (i < w->n_dirs)
		w->dirs[i] = w->dirs[w->n_dirs];
}

/* Watch folder `rel` of root ri (and, unless rel is the root, everything
 * under it). A folder that vanished meanwhile is not an error. */
static int add_dir(cb_watch *w, size_t ri, const char *rel)
{
	const root *r = &w->roots[ri];
	char *full = *rel ? cb_xasprintf("%s/%s", r->dir, rel) : cb_xstrdup(r->dir);
	cb_fs_entry *e = NULL;
	size_t n = 0, i;
	int wd, rc = 0;

	wd = inotify_add_watch(w->fd, full, WATCH_MASK);
	if (wd < 0) {
		rc = errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
		goto out;
	}
	if (!find_wd(w, wd)) {
		/* A wd already known is the same folder reached twice: keep the first. */
		if (w->n_dirs == w->cap_dirs) {
			w->cap_dirs = w->cap_dirs ? w->cap_dirs * 2 : 16;
			w->dirs = cb_xreallocarray(w->dirs, w->cap_dirs, sizeof *w->dirs);
		}
		w->dirs[w->n_dirs].wd = wd;
		w->dirs[w->n_dirs].root = ri;
		w->dirs[w->n_dirs].rel = cb_xstrdup(rel);
		w->n_dirs++;
	}
	if (!*rel)
		goto out; /* the root itself: its named entries are added by the caller */
	if (cb_fs_list(full, &e, &n) < 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		if (e[i].kind == CB_FS_DIR && !ignored_name(e[i].name)) {
			char *sub = cb_path_join(rel, e[i].name);
			rc = add_dir(w, ri, sub);
			free(sub);
		}
	}
	cb_fs_list_free(e, n);
out:
	free(full);
	return rc;
}

/* Watch root ri and its named folders. */
static int add_root(cb_watch *w, size_t ri)
{
	char **names = w->roots[ri].names;
	size_t k;
	int rc;

	if ((rc = add_dir(w, ri, "")) < 0)
		return rc;
	for (k = 0; names[k]; k++) {
		cb_fs_kind kind;
		char *full = cb_xasprintf("%s/%s", w->roots[ri].dir, names[k]);
		int is_dir = cb_fs_kind_of(full, &kind) == 0 && kind == CB_FS_DIR;

		free(full);
		if (is_dir && (rc = add_dir(w, ri, names[k])) < 0)
			return rc;
	}
	return 0;
}

int cb_watch_add(cb_watch *w, const char *dir, const char *const *names)
{
	cb_fs_kind kind;
	root *r;
	size_t k, n = 0;

	if (cb_fs_kind_of(dir, &kind) < 0 || kind != CB_FS_DIR)
		return -ENOENT;
	while (names[n])
		n++;
	w->roots = cb_xreallocarray(w->roots, w->n_roots + 1, sizeof *w->roots);
	r = &w->roots[w->n_roots++];
	r->dir = cb_xstrdup(dir);
	r->names = cb_xcalloc(n + 1, sizeof *r->names);
	for (k = 0; k < n; k++)
		r->names[k] = cb_xstrdup(names[k]);
	return add_root(w, w->n_roots - 1);
}

/* Stop watching folder rel of root ri and everything under it (it was
 * moved away; its watches would otherwise report under the old name). */
static void drop_tree(cb_watch *w, size_t ri, const char *rel)
{
	size_t i, kept = 0, rl = strlen(rel);

	for (i = 0; i < w->n_dirs; i++) {
		watched *d = &w->dirs[i];
		if (d->root == ri && strncmp(d->rel, rel, rl) == 0 &&
		    (d->rel[rl] == '\0' || d->rel[rl] == '/')) {
			inotify_rm_watch(w->fd, d->wd);
			free(d->rel);
		} else {
			w->dirs[kept++] = *d;
		}
	}
	w->n_dirs = kept;
}

/* Note an event on path rel (taken over). */
static void note(cb_watch *w, char *rel, uint32_t mask)
{
	int appears = (mask & (IN_CREATE | IN_MOVED_TO)) != 0;
	int goes = (mask & (IN_DELETE | IN_MOVED_FROM)) != 0;
	size_t i;

	for (i = 0; i < w->n_changes; i++) {
		if (strcmp(w->changes[i].path, rel) == 0) {
			free(rel);
			w->changes[i].exists = goes ? 0 : 1;
			return;
		}
	}
	if (w->n_changes == w->cap_changes) {
		w->cap_changes = w->cap_changes ? w->cap_changes * 2 : 16;
		w->changes = cb_xreallocarray(w->changes, w->cap_changes, sizeof *w->changes);
	}
	w->changes[w->n_changes].path = rel;
	w->changes[w->n_changes].created = appears;
	w->changes[w->n_changes].exists = !goes;
	w->n_changes++;
}

int cb_watch_read(cb_watch *w)
{
	_Alignas(struct inotify_event) char buf[8192];
	size_t i;
	int events = 0, rc = 0;

	for (;;) {
		ssize_t got = read(w->fd, buf, sizeof buf);
		char *p;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				rc = -errno;
			break;
		}
		if (got == 0)
			break;
		for (p = buf; p < buf + got;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			const char *name = ev->len ? ev->name : "";
			watched *d;
			size_t ri;
			char *rel;

			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Events were lost: watch everything again, rebuild. */
				for (ri = 0; ri < w->n_roots && rc == 0; ri++)
					rc = add_root(w, ri);
				note(w, cb_xstrdup("*"), 0);
				events++;
				continue;
			}
			d = find_wd(w, ev->wd);
			if (!d)
				continue;
			if (ev->mask & IN_IGNORED) {
				forget(w, (size_t)(d - w->dirs));
				continue;
			}
			if (!*name || ignored_name(name))
				continue;
			if (!*d->rel && !root_wants(&w->roots[d->root], name))
				continue;
			ri = d->root;
			rel = cb_path_join(d->rel, name);
			if (ev->mask & IN_ISDIR) {
				if (ev->mask & (IN_MOVED_FROM | IN_DELETE))
					drop_tree(w, ri, rel);
				if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
					int r = add_dir(w, ri, rel);
					if (r < 0 && rc == 0)
						rc = r;
				}
			}
			note(w, rel, ev->mask);
			events++;
		}
	}
	/* What is worth telling: not the files that came and went. */
	free(w->shown);
	w->shown = cb_xcalloc(w->n_changes + 1, sizeof *w->shown);
	w->n_shown = 0;
	for (i = 0; i < w->n_changes; i++)
		if (!w->changes[i].created || w->changes[i].exists)
			w->shown[w->n_shown++] = w->changes[i].path;
	return rc < 0 ? rc : events;
}

size_t cb_watch_changes(const cb_watch *w)
{
	return w->n_shown;
}

const char *cb_watch_change(const cb_watch *w, size_t i)
{
	return i < w->n_shown ? w->shown[i] : NULL;
}

void cb_watch_clear(cb_watch *w)
{
	size_t i;

	for (i = 0; i < w->n_changes; i++)
		free(w->changes[i].path);
	w->n_changes = 0;
	free(w->shown);
	w->shown = NULL;
	w->n_shown = 0;
}
