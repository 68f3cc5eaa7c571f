/*
 * cb_reuse: the persistent build cache (see cb_reuse.h).
 *
 * dir/build.cache is a text file, one record a line, fields separated by
 * tabs (tabs, newlines and backslashes in text are escaped):
 *
 *   casebook-cache 2                                  the format
 *   key <hex>                                         the build's key
 *   out <folder>                                      the output folder
 *   result <cases> <pages> <editions>
 *   f <size> <sec> <nsec> <inode> <id> <path>          stat cache (inputs)
 *   o <size> <sec> <nsec> <inode> <path>               output files
 *   d <severity> <line> <col> <code> <path> <message> <hint>   diagnostics
 *   s <prefix> <key> <pre>                             a site (an edition) and
 *                                                      the part of its key
 *                                                      known before the latest
 *   p <prefix> <path>                                  one of its pages
 *   e <prefix> <severity> <line> <col> <code> <path> <message> <hint>
 *                                                      what its build reported
 *   end
 *
 * Anything else, or no `end`, and the whole file is ignored.
 */
#include "cb_reuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cb_fs.h"
#include "cb_git.h"
#include "cb_mem.h"
#include "cb_pool.h"
#include "cb_value.h"

#define FORMAT "casebook-cache 2"

typedef struct stat_entry {
	char *path;
	unsigned long long size, sec, nsec, ino;
	char id[CB_OID_HEXSZ + 1];
	int used; /* looked up (or made) by this build: saved */
	int later;   /* keyed with cb_reuse_key_tree_later: id not known yet */
	int learned; /* ... and since learned from the loader (cb_reuse_learn_id) */
} stat_entry;

/* A file whose id cb_reuse_key_tree_later left out of the key: its stat
 * cache entry, the listing's stat of it, and where its placeholder is in
 * the key. */
typedef struct later_file {
	size_t entry;
	struct stat st;
	size_t at;
} later_file;

typedef struct saved_diag {
	int severity;
	unsigned line, col;
	char *code, *path, *msg, *hint;
} saved_diag;

typedef struct site_rec {
	char *prefix, *key, *pre;
	char **pages;
	size_t n_pages;
	saved_diag *diags;
	size_t n_diags;
	/* Its files: outs[lo, hi), and whether out/prefix holds exactly them
	 * (1 yes, -1 no, 0 not asked yet): asked once a build. */
	size_t lo, hi;
	int intact;
	int moved; /* its folder was moved into the new site whole */
} site_rec;

struct cb_reuse {
	char *dir;
	int threads; /* for keying (-j) */
	/* From the file. */
	char *key, *out;
	cb_reuse_result res;
	stat_entry *outs; /* output files (id unused) */
	size_t n_outs;
	saved_diag *diags;
	size_t n_diags;
	site_rec *sites; /* from the file */
	size_t n_sites;
	site_rec *rec;   /* recorded by this build */
	size_t n_rec;
	/* The stat cache: path -> index into stats. */
	cb_value *index;
	stat_entry *stats;
	size_t n_stats, cap_stats;
	/* Keyed later (cb_reuse_key_tree_later). */
	later_file *later;
	size_t n_later, cap_later;
	pthread_mutex_t learn_lock;
};

/* ---- text fields ------------------------------------------------------------- */

static void put_field(cb_buf *b, const char *s)
{
	if (!s) {
		cb_buf_puts(b, "\\-");
		return;
	}
	for (; *s; s++) {
		if (*s == '\t')
			cb_buf_puts(b, "\\t");
		else if (*s == '\n')
			cb_buf_puts(b, "\\n");
		else if (*s == '\\')
			cb_buf_puts(b, "\\\\");
		else
			cb_buf_putc(b, *s);
	}
}

/* Unescape field s in place; NULL for the "\-" of a missing value. */
static char *get_field(char *s)
{
	char *r = s, *w = s;

	if (strcmp(s, "\\-") == 0)
		return NULL;
	while (*r) {
		if (*r == '\\' && r[1]) {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
			r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Split line at tabs into at most max fields; returns their number. */
static size_t split(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		char *tab = strchr(line, '\t');
		f[n++] = line;
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

static int parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int is_hex_id(const char *s)
{
	size_t i;

	for (i = 0; i < CB_OID_HEXSZ; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[CB_OID_HEXSZ] == '\0';
}

/* ---- the stat cache --------------------------------------------------------- */

static stat_entry *add_stat(cb_reuse *c, const char *path)
{
	stat_entry *e;

	if (c->n_stats == c->cap_stats) {
		c->cap_stats = c->cap_stats ? c->cap_stats * 2 : 1024;
		c->stats = cb_xreallocarray(c->stats, c->cap_stats, sizeof *c->stats);
	}
	e = &c->stats[c->n_stats];
	memset(e, 0, sizeof *e);
	e->path = cb_xstrdup(path);
	cb_value_setc(c->index, path, cb_value_new_int((long long)c->n_stats));
	c->n_stats++;
	return e;
}

static void stat_of(const struct stat *st, unsigned long long *size, unsigned long long *sec,
                    unsigned long long *nsec, unsigned long long *ino)
{
	*size = (unsigned long long)st->st_size;
	*sec = (unsigned long long)st->st_mtim.tv_sec;
	*nsec = (unsigned long long)st->st_mtim.tv_nsec;
	*ino = (unsigned long long)st->st_ino;
}

/* Whether st has the size, modification time and inode e recorded. */
static int stat_matches(const stat_entry *e, const struct stat *st)
{
	unsigned long long size, sec, nsec, ino;

	stat_of(st, &size, &sec, &nsec, &ino);
	return e->size == size && e->sec == sec && e->nsec == nsec && e->ino == ino;
}

static void free_diags(saved_diag *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].code);
		free(v[i].path);
		free(v[i].msg);
		free(v[i].hint);
	}
	free(v);
}

static void free_sites(site_rec *v, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		free(v[i].prefix);
		free(v[i].key);
		free(v[i].pre);
		for (k = 0; k < v[i].n_pages; k++)
			free(v[i].pages[k]);
		free(v[i].pages);
		free_diags(v[i].diags, v[i].n_diags);
	}
	free(v);
}

static site_rec *find_site(site_rec *v, size_t n, const char *prefix)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].prefix, prefix) == 0)
			return &v[i];
	return NULL;
}

/* Parse the fields of a diagnostic (severity, line, col, code, path,
 * message, hint) into a new entry of *v. Returns 0 or -1. */
static int read_diag(char **f, saved_diag **v, size_t *n)
{
	unsigned long long sev, line, col;
	saved_diag *d;

	if (parse_ull(f[0], &sev) < 0 || sev > CB_ERROR || parse_ull(f[1], &line) < 0 ||
	    parse_ull(f[2], &col) < 0 || !get_field(f[5]))
		return -1;
	*v = cb_xreallocarray(*v, *n + 1, sizeof **v);
	d = &(*v)[(*n)++];
	d->severity = (int)sev;
	d->line = (unsigned)line;
	d->col = (unsigned)col;
	d->code = get_field(f[3]) ? cb_xstrdup(f[3]) : NULL;
	d->path = get_field(f[4]) ? cb_xstrdup(f[4]) : NULL;
	d->msg = cb_xstrdup(f[5]);
	d->hint = get_field(f[6]) ? cb_xstrdup(f[6]) : NULL;
	return 0;
}

static void replay(const saved_diag *v, size_t n, cb_diag_list *diags)
{
	size_t i;

	for (i = 0; i < n; i++)
		cb_diag_add(diags, (cb_severity)v[i].severity, v[i].code, v[i].path, v[i].line,
		            v[i].col, v[i].hint, "%s", v[i].msg);
}

static void put_diag(cb_buf *b, const cb_diag *d)
{
	cb_buf_printf(b, "%d\t%u\t%u\t", (int)d->severity, d->line, d->col);
	put_field(b, d->code);
	cb_buf_putc(b, '\t');
	put_field(b, d->path);
	cb_buf_putc(b, '\t');
	put_field(b, d->msg ? d->msg : "");
	cb_buf_putc(b, '\t');
	put_field(b, d->hint);
	cb_buf_putc(b, '\n');
}

/* Free everything read from the file (not the stat cache). */
static void drop_file(cb_reuse *c)
{
	size_t i;

	free_sites(c->sites, c->n_sites);
	c->sites = NULL;
	c->n_sites = 0;

	free(c->key);
	free(c->out);
	c->key = c->out = NULL;
	for (i = 0; i < c->n_outs; i++)
		free(c->outs[i].path);
	free(c->outs);
	c->outs = NULL;
	c->n_outs = 0;
	free_diags(c->diags, c->n_diags);
	c->diags = NULL;
	c->n_diags = 0;
}

static void drop_stats(cb_reuse *c)
{
	size_t i;

	for (i = 0; i < c->n_stats; i++)
		free(c->stats[i].path);
	free(c->stats);
	c->stats = NULL;
	c->n_stats = c->cap_stats = 0;
	cb_value_unref(c->index);
	c->index = cb_value_new_map();
}

/* Read one record; returns 1 for `end`, 0 for a record, -1 if bad. */
static int read_record(cb_reuse *c, char *line)
{
	char *f[10];
	size_t n = split(line, f, 10);
	unsigned long long v[4];
	size_t i;

	if (strcmp(f[0], "end") == 0 && n == 1)
		return 1;
	if (strcmp(f[0], "key") == 0 && n == 2 && !c->key) {
		c->key = cb_xstrdup(f[1]);
	} else if (strcmp(f[0], "out") == 0 && n == 2 && !c->out && get_field(f[1])) {
		c->out = cb_xstrdup(f[1]);
	} else if (strcmp(f[0], "result") == 0 && n == 4) {
		for (i = 0; i < 3; i++)
			if (parse_ull(f[i + 1], &v[i]) < 0)
				return -1;
		c->res.cases = (size_t)v[0];
		c->res.pages = (size_t)v[1];
		c->res.editions = (size_t)v[2];
	} else if ((strcmp(f[0], "f") == 0 && n == 7) || (strcmp(f[0], "o") == 0 && n == 6)) {
		stat_entry *e;
		const char *path;
		for (i = 0; i < 4; i++)
			if (parse_ull(f[i + 1], &v[i]) < 0)
				return -1;
		path = get_field(f[n - 1]);
		if (!path || !*path)
			return -1;
		if (f[0][0] == 'f') {
			if (!is_hex_id(f[5]) || cb_value_getc(c->index, path))
				return -1;
			e = add_stat(c, path);
			memcpy(e->id, f[5], sizeof e->id);
		} else {
			c->outs = cb_xreallocarray(c->outs, c->n_outs + 1, sizeof *c->outs);
			e = &c->outs[c->n_outs++];
			memset(e, 0, sizeof *e);
			e->path = cb_xstrdup(path);
		}
		e->size = v[0];
		e->sec = v[1];
		e->nsec = v[2];
		e->ino = v[3];
	} else if (strcmp(f[0], "d") == 0 && n == 8) {
		return read_diag(f + 1, &c->diags, &c->n_diags);
	} else if (strcmp(f[0], "s") == 0 && n == 4) {
		site_rec *r;
		if (!get_field(f[1]) || find_site(c->sites, c->n_sites, f[1]))
			return -1;
		c->sites = cb_xreallocarray(c->sites, c->n_sites + 1, sizeof *c->sites);
		r = &c->sites[c->n_sites++];
		memset(r, 0, sizeof *r);
		r->prefix = cb_xstrdup(f[1]);
		r->key = cb_xstrdup(f[2]);
		r->pre = cb_xstrdup(f[3]);
	} else if ((strcmp(f[0], "p") == 0 && n == 3) || (strcmp(f[0], "e") == 0 && n == 9)) {
		site_rec *r = get_field(f[1]) ? find_site(c->sites, c->n_sites, f[1]) : NULL;
		if (!r)
			return -1;
		if (f[0][0] == 'e')
			return read_diag(f + 2, &r->diags, &r->n_diags);
		if (!get_field(f[2]))
			return -1;
		r->pages = cb_xreallocarray(r->pages, r->n_pages + 1, sizeof *r->pages);
		r->pages[r->n_pages++] = cb_xstrdup(f[2]);
	} else {
		return -1;
	}
	return 0;
}

cb_reuse *cb_reuse_open(const char *dir, int threads)
{
	cb_reuse *c = cb_xcalloc(1, sizeof *c);
	char *path = cb_xasprintf("%s/build.cache", dir), *data = NULL, *line, *nl;
	size_t len;
	int ok = 0, r = 0;

	c->dir = cb_xstrdup(dir);
	c->threads = threads;
	pthread_mutex_init(&c->learn_lock, NULL);
	c->index = cb_value_new_map();
	if (cb_fs_read(path, 0, &data, &len) < 0 || memchr(data, '\0', len))
		goto out;
	line = data;
	nl = strchr(line, '\n');
	if (!nl || (size_t)(nl - line) != strlen(FORMAT) || strncmp(line, FORMAT, strlen(FORMAT)) != 0)
		goto out;
	for (line = nl + 1; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if ((r = read_record(c, line)) != 0)
			break;
	}
	ok = r == 1 && c->key && c->out;
out:
	if (!ok) {
		/* Corrupt, truncated or foreign: as if there were none. */
		drop_file(c);
		drop_stats(c);
		memset(&c->res, 0, sizeof c->res);
	}
	free(data);
	free(path);
	return c;
}

void cb_reuse_free(cb_reuse *c)
{
	if (!c)
		return;
	drop_file(c);
	drop_stats(c);
	free_sites(c->rec, c->n_rec);
	cb_value_unref(c->index);
	free(c->later);
	pthread_mutex_destroy(&c->learn_lock);
	free(c->dir);
	free(c);
}

/* ---- keys -------------------------------------------------------------------------- */

/* One file to key. The stat cache is looked up and updated on the calling
 * thread; only reading and hashing the files it does not know runs on
 * several (key_hash). */
typedef struct key_job {
	char *path;
	char *line;   /* what the key gets for it, once known */
	struct stat st; /* lstat before reading (or the listing's stat) */
	int stated;   /* st is the listing's: no lstat needed */
	long entry;   /* its stat cache entry, or -1 */
	long later;   /* its index in c->later, or -1 */
	char id[CB_OID_HEXSZ + 1];
	int rc;       /* reading: 0, a CB_FS_* error, or 1 when hashing failed */
	int stable;   /* the same size, time and inode after reading as before */
} key_job;

typedef struct key_run {
	key_job *v;
	size_t *todo; /* indices into v of the files to read and hash */
	size_t n_todo;
} key_run;

/* Read and hash the t-th file to do (cb_pool_each). */
static void key_hash(void *arg, size_t t)
{
	key_run *run = arg;
	key_job *j = &run->v[run->todo[t]];
	struct stat st;
	stat_entry before;
	char *data = NULL;
	size_t len;

	j->rc = cb_fs_read(j->path, 0, &data, &len);
	if (j->rc < 0)
		return;
	if (cb_git_hash_blob(data, len, j->id) < 0)
		j->rc = 1;
	free(data);
	/* A file changed while it was read is keyed by what was read, but its
	 * stat is not trusted for next time. */
	stat_of(&j->st, &before.size, &before.sec, &before.nsec, &before.ino);
	j->stable = lstat(j->path, &st) == 0 && stat_matches(&before, &st);
}

/* The placeholder of an id keyed later, and what replaces an id that cannot
 * be trusted (a file changed during the build): neither is ever an id. */
#define LATER_ID "????????????????????????????????????????"
#define SPOILT_ID "########################################"

/* Key the files v[0..n-1] into key, in that order (an entry with its line
 * already set is put as it is). With `later`, the files the stat cache does
 * not know are not read: they get a placeholder (cb_reuse_key_finish). */
static void key_files(cb_reuse *c, key_job *v, size_t n, cb_buf *key, int later)
{
	key_run run;
	size_t i;

	run.v = v;
	run.todo = cb_xcalloc(n ? n : 1, sizeof *run.todo);
	run.n_todo = 0;
	for (i = 0; i < n; i++) {
		key_job *j = &v[i];
		const cb_value *iv;

		j->entry = -1;
		j->later = -1;
		if (j->line) /* a missing folder (list_tree) */
			continue;
		if (!j->stated && lstat(j->path, &j->st) < 0) {
			j->line = cb_xasprintf("%s missing\n", j->path);
			continue;
		}
		if (S_ISLNK(j->st.st_mode)) {
			char target[4096];
			ssize_t len = readlink(j->path, target, sizeof target - 1);
			target[len > 0 ? len : 0] = '\0';
			j->line = cb_xasprintf("%s link %s\n", j->path, target);
			continue;
		}
		if (!S_ISREG(j->st.st_mode)) {
			j->line = cb_xasprintf("%s other\n", j->path);
			continue;
		}
		iv = cb_value_getc(c->index, j->path);
		if (iv) {
			stat_entry *e = &c->stats[cb_value_int(iv)];
			j->entry = (long)cb_value_int(iv);
			/* (A file keyed later has no id yet.) */
			if (stat_matches(e, &j->st) && !e->later) {
				e->used = 1;
				j->line = cb_xasprintf("%s %s\n", j->path, e->id);
				continue;
			}
		}
		if (later) {
			stat_entry *e = j->entry >= 0 ? &c->stats[j->entry] : add_stat(c, j->path);
			later_file *lf;
			if (c->n_later == c->cap_later) {
				c->cap_later = c->cap_later ? c->cap_later * 2 : 256;
				c->later = cb_xreallocarray(c->later, c->cap_later, sizeof *c->later);
			}
			lf = &c->later[c->n_later];
			lf->entry = (size_t)(e - c->stats);
			lf->st = j->st;
			j->later = (long)c->n_later++;
			e->used = 0;
			e->later = 1;
			e->learned = 0;
			stat_of(&j->st, &e->size, &e->sec, &e->nsec, &e->ino);
			j->line = cb_xasprintf("%s " LATER_ID "\n", j->path);
			continue;
		}
		run.todo[run.n_todo++] = i;
	}
	cb_pool_each(c->threads, run.n_todo, key_hash, &run);
	for (i = 0; i < run.n_todo; i++) {
		key_job *j = &v[run.todo[i]];
		stat_entry *e;

		if (j->rc < 0) {
			j->line = cb_xasprintf("%s unreadable %d\n", j->path, j->rc);
			continue;
		}
		e = j->entry >= 0 ? &c->stats[j->entry] : add_stat(c, j->path);
		if (j->rc > 0) {
			e->used = 0;
			j->line = cb_xasprintf("%s unhashed\n", j->path);
			continue;
		}
		memcpy(e->id, j->id, sizeof e->id);
		stat_of(&j->st, &e->size, &e->sec, &e->nsec, &e->ino);
		e->used = j->stable;
		if (e->later) /* keyed later too: known now, if it held still */
			e->learned = j->stable;
		j->line = cb_xasprintf("%s %s\n", j->path, e->id);
	}
	for (i = 0; i < n; i++) {
		if (v[i].later >= 0)
			c->later[v[i].later].at = key->len + strlen(v[i].path) + 1;
		cb_buf_puts(key, v[i].line);
		free(v[i].line);
		v[i].line = NULL;
	}
	free(run.todo);
}

void cb_reuse_key_file(cb_reuse *c, const char *path, cb_buf *key)
{
	key_job j;

	memset(&j, 0, sizeof j);
	j.path = (char *)path;
	key_files(c, &j, 1, key, 0);
}

typedef struct path_list {
	key_job *v;
	size_t n, cap;
} path_list;

/* A new, zeroed entry at the end of l. */
static key_job *push_job(path_list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = cb_xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

/* Every file under root, in name order, but hidden entries and skip; a
 * missing folder is an entry without a path and with its line already. */
static void list_tree(const char *root, const char *skip, path_list *l)
{
	cb_fs_entry *e = NULL;
	size_t n = 0, i;
	key_job *j;

	if (skip && strcmp(root, skip) == 0)
		return;
	if (cb_fs_list(root, &e, &n) < 0) {
		push_job(l)->line = cb_xasprintf("%s missing\n", root);
		return;
	}
	for (i = 0; i < n; i++) {
		char *p;
		if (e[i].name[0] == '.')
			continue;
		p = cb_xasprintf("%s/%s", root, e[i].name);
		if (e[i].kind == CB_FS_DIR) {
			list_tree(p, skip, l);
			free(p);
			continue;
		}
		j = push_job(l);
		j->path = p;
		/* The listing's stat: no second one per file. */
		if (e[i].stated) {
			j->stated = 1;
			j->st.st_mode = e[i].kind == CB_FS_FILE   ? S_IFREG
			                : e[i].kind == CB_FS_LINK ? S_IFLNK
			                                          : 0;
			j->st.st_size = (off_t)e[i].size;
			j->st.st_mtim.tv_sec = (time_t)e[i].mtime_sec;
			j->st.st_mtim.tv_nsec = (long)e[i].mtime_nsec;
			j->st.st_ino = (ino_t)e[i].ino;
		}
	}
	cb_fs_list_free(e, n);
}

static void key_tree(cb_reuse *c, const char *root, const char *skip, cb_buf *key, int later)
{
	path_list l = {NULL, 0, 0};
	size_t i;

	list_tree(root, skip, &l);
	key_files(c, l.v, l.n, key, later);
	for (i = 0; i < l.n; i++)
		free(l.v[i].path);
	free(l.v);
}

void cb_reuse_key_tree(cb_reuse *c, const char *root, const char *skip, cb_buf *key)
{
	key_tree(c, root, skip, key, 0);
}

int cb_reuse_has_record(const cb_reuse *c)
{
	return c->key != NULL;
}

void cb_reuse_key_tree_later(cb_reuse *c, const char *root, const char *skip, cb_buf *key)
{
	key_tree(c, root, skip, key, 1);
}

void cb_reuse_learn_id(cb_reuse *c, const char *path, const char *id)
{
	const cb_value *iv = cb_value_getc(c->index, path);
	stat_entry *e;

	if (!iv)
		return;
	e = &c->stats[cb_value_int(iv)];
	pthread_mutex_lock(&c->learn_lock);
	if (e->later && !e->learned) {
		memcpy(e->id, id, CB_OID_HEXSZ);
		e->id[CB_OID_HEXSZ] = '\0';
		e->learned = 1;
	}
	pthread_mutex_unlock(&c->learn_lock);
}

void cb_reuse_key_finish(cb_reuse *c, cb_buf *key)
{
	key_run run;
	key_job *v;
	size_t i;

	if (!c->n_later)
		return;
	/* What the loader did not read is read and hashed now, on the cores,
	 * and trusted only if unchanged since it was listed: the build may
	 * have read it before it changed. */
	v = cb_xcalloc(c->n_later, sizeof *v);
	run.v = v;
	run.todo = cb_xcalloc(c->n_later, sizeof *run.todo);
	run.n_todo = 0;
	for (i = 0; i < c->n_later; i++) {
		stat_entry *e = &c->stats[c->later[i].entry];
		v[i].path = e->path;
		v[i].st = c->later[i].st;
		if (!e->learned)
			run.todo[run.n_todo++] = i;
	}
	cb_pool_each(c->threads, run.n_todo, key_hash, &run);
	for (i = 0; i < c->n_later; i++) {
		later_file *lf = &c->later[i];
		stat_entry *e = &c->stats[lf->entry];
		if (!e->learned && v[i].rc == 0 && v[i].stable) {
			memcpy(e->id, v[i].id, sizeof e->id);
			e->learned = 1;
		}
		e->later = 0;
		e->used = e->learned;
		if (lf->at + CB_OID_HEXSZ <= key->len)
			memcpy(key->ptr + lf->at, e->learned ? e->id : SPOILT_ID, CB_OID_HEXSZ);
	}
	free(run.todo);
	free(v);
	free(c->later);
	c->later = NULL;
	c->n_later = c->cap_later = 0;
}

int cb_reuse_known_id(cb_reuse *c, const char *path, char *out)
{
	const cb_value *iv = cb_value_getc(c->index, path);
	const stat_entry *e;
	struct stat st;

	if (!iv)
		return -1;
	e = &c->stats[cb_value_int(iv)];
	/* used: keyed by this build, and not changing while it was read. */
	if (!e->used || lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || !stat_matches(e, &st))
		return -1;
	memcpy(out, e->id, CB_OID_HEXSZ + 1);
	return 0;
}

/* ---- the output folder ------------------------------------------------------- */

typedef struct file_list {
	stat_entry *v;
	size_t n, cap;
	int failed;
	/* Sites of the last build whose folders were moved into this one
	 * (site_rec.moved): their files are taken from the records instead
	 * of being listed. NULL for none. */
	const cb_reuse *moved;
} file_list;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A new zeroed entry at the end of l. */
static stat_entry *push_entry(file_list *l)
{
	stat_entry *f;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = cb_xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	f = &l->v[l->n++];
	memset(f, 0, sizeof *f);
	return f;
}

static void push_file(file_list *l, char *rel, const struct stat *st)
{
	stat_entry *f = push_entry(l);

	f->path = rel;
	stat_of(st, &f->size, &f->sec, &f->nsec, &f->ino);
}

/* If folder rel is a site moved whole, add its recorded files and return 1. */
static int push_moved(file_list *l, const char *rel)
{
	const cb_reuse *c = l->moved;
	size_t i, k, rl = strlen(rel);

	for (k = 0; c && k < c->n_sites; k++) {
		const site_rec *r = &c->sites[k];
		if (!r->moved || strncmp(r->prefix, rel, rl) != 0 || strcmp(r->prefix + rl, "/") != 0)
			continue;
		for (i = r->lo; i < r->hi; i++) {
			stat_entry *f = push_entry(l);
			*f = c->outs[i];
			f->path = cb_xstrdup(c->outs[i].path);
		}
		return 1;
	}
	return 0;
}

static void list_output_fd(int fd, const char *rel, file_list *l);

/* list_output_fd for folder `name` in folder dirfd. */
static void list_output_at(int dirfd, const char *name, const char *rel, file_list *l)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

	if (fd < 0)
		l->failed = 1;
	else
		list_output_fd(fd, rel, l);
}

/* Every file under folder fd (site path rel, "" at the top), in name order
 * (bytewise, as a sorted list of paths compares). One fstatat per entry. */
static void list_output_fd(int fd, const char *rel, file_list *l)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d) {
		close(fd);
		l->failed = 1;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = cb_xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = cb_xstrdup(e->d_name);
	}
	if (n)
		qsort(names, n, sizeof *names, cmp_name);
	for (i = 0; i < n; i++) {
		struct stat st;
		char *r = *rel ? cb_xasprintf("%s/%s", rel, names[i]) : cb_xstrdup(names[i]);

		if (l->failed || fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			l->failed = 1;
			free(r);
		} else if (S_ISDIR(st.st_mode)) {
			if (!push_moved(l, r))
				list_output_at(dirfd(d), names[i], r, l);
			free(r);
		} else if (S_ISREG(st.st_mode)) {
			push_file(l, r, &st);
		} else {
			l->failed = 1; /* casebook writes only regular files */
			free(r);
		}
		free(names[i]);
	}
	free(names);
	closedir(d);
}

/* Every file under dir, folder by folder, each folder's entries in name
 * order: the same order for the same files, which is all comparing a
 * listing with the one saved needs. */
static void list_output(const char *dir, file_list *l)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		l->failed = 1;
		return;
	}
	list_output_fd(fd, "", l);
}

/* The same output file, untouched: path, size, modification time, inode. */
static int same_output(const stat_entry *a, const stat_entry *b)
{
	return strcmp(a->path, b->path) == 0 && a->size == b->size && a->sec == b->sec &&
	       a->nsec == b->nsec && a->ino == b->ino;
}

static void file_list_dispose(file_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

int cb_reuse_fresh(cb_reuse *c, const char *key, const char *out, cb_reuse_result *res,
                   cb_diag_list *diags)
{
	file_list l;
	size_t i;
	int fresh;

	if (!c->key || strcmp(c->key, key) != 0 || strcmp(c->out, out) != 0)
		return 0;
	memset(&l, 0, sizeof l);
	list_output(out, &l);
	fresh = !l.failed && l.n == c->n_outs;
	for (i = 0; fresh && i < l.n; i++)
		fresh = same_output(&l.v[i], &c->outs[i]);
	file_list_dispose(&l);
	if (!fresh)
		return 0;
	*res = c->res;
	replay(c->diags, c->n_diags, diags);
	return 1;
}

/* ---- sites reused whole ---------------------------------------------------- */

const char *const *cb_reuse_site_pages(const cb_reuse *c, const char *prefix, size_t *n)
{
	site_rec *r = find_site(c->sites, c->n_sites, prefix);

	*n = r ? r->n_pages : 0;
	return r ? (const char *const *)r->pages : NULL;
}

/* Does folder out/prefix hold exactly the files the last build wrote there,
 * as it left them? Finds r->lo and r->hi on the way (the files of a folder
 * are listed together, so they are one run of outs). Looks once a build. */
static int files_intact(const cb_reuse *c, site_rec *r, const char *out)
{
	size_t i, pl = strlen(r->prefix);
	file_list l;
	char *dir, *rel;
	int ok;

	if (r->intact)
		return r->intact > 0;
	r->intact = -1;
	for (i = 0; i < c->n_outs && strncmp(c->outs[i].path, r->prefix, pl) != 0; i++)
		;
	r->lo = i;
	for (; i < c->n_outs && strncmp(c->outs[i].path, r->prefix, pl) == 0; i++)
		;
	r->hi = i;
	if (r->lo == r->hi || pl < 2 || r->prefix[pl - 1] != '/')
		return 0;
	memset(&l, 0, sizeof l);
	rel = cb_xstrndup(r->prefix, pl - 1);
	dir = cb_xasprintf("%s/%s", out, rel);
	list_output_at(AT_FDCWD, dir, rel, &l);
	ok = !l.failed && l.n == r->hi - r->lo;
	for (i = 0; ok && i < l.n; i++)
		ok = same_output(&l.v[i], &c->outs[r->lo + i]);
	file_list_dispose(&l);
	free(dir);
	free(rel);
	r->intact = ok ? 1 : -1;
	return ok;
}

/* Did the last build write site prefix into out, with the key (or, with
 * whole 0, the part pre of it) given, and is its folder as it left it? */
static int site_matches(cb_reuse *c, const char *prefix, int whole, const char *key,
                        const char *out)
{
	site_rec *r = find_site(c->sites, c->n_sites, prefix);

	return r && c->out && strcmp(c->out, out) == 0 &&
	       strcmp(whole ? r->key : r->pre, key) == 0 && files_intact(c, r, out);
}

int cb_reuse_site_intact(cb_reuse *c, const char *prefix, const char *pre, const char *out)
{
	return site_matches(c, prefix, 0, pre, out);
}

int cb_reuse_site_fresh(cb_reuse *c, const char *prefix, const char *key, const char *out)
{
	return site_matches(c, prefix, 1, key, out);
}

int cb_reuse_site_reuse(cb_reuse *c, const char *prefix, const char *out,
                        int (*move)(void *ctx, const char *dir, size_t files),
                        int (*link)(void *ctx, const char *path, const char *from), void *ctx,
                        cb_diag_list *diags)
{
	site_rec *r = find_site(c->sites, c->n_sites, prefix);
	char *dir;
	size_t i;
	int rc = 0;

	if (!r || r->intact <= 0)
		return -1; /* not found fresh: nothing to give (a caller's mistake) */
	dir = cb_xstrndup(r->prefix, strlen(r->prefix) - 1);
	r->moved = move && move(ctx, dir, r->hi - r->lo) == 0;
	free(dir);
	for (i = r->lo; !r->moved && rc == 0 && i < r->hi; i++) {
		char *from = cb_xasprintf("%s/%s", out, c->outs[i].path);
		rc = link(ctx, c->outs[i].path, from);
		free(from);
	}
	replay(r->diags, r->n_diags, diags);
	return rc;
}

void cb_reuse_site_record(cb_reuse *c, const char *prefix, const char *pre, const char *key,
                          const char *const *pages, size_t n, const cb_diag_list *diags)
{
	site_rec *r;
	size_t i;

	c->rec = cb_xreallocarray(c->rec, c->n_rec + 1, sizeof *c->rec);
	r = &c->rec[c->n_rec++];
	memset(r, 0, sizeof *r);
	r->prefix = cb_xstrdup(prefix);
	r->key = cb_xstrdup(key);
	r->pre = cb_xstrdup(pre);
	r->pages = cb_xcalloc(n ? n : 1, sizeof *r->pages);
	for (i = 0; i < n; i++)
		r->pages[i] = cb_xstrdup(pages[i]);
	r->n_pages = n;
	for (i = 0; diags && i < cb_diag_count((cb_diag_list *)diags); i++) {
		const cb_diag *d = cb_diag_at((cb_diag_list *)diags, i);
		saved_diag *sd;
		if (d->severity == CB_NOTE)
			continue;
		r->diags = cb_xreallocarray(r->diags, r->n_diags + 1, sizeof *r->diags);
		sd = &r->diags[r->n_diags++];
		sd->severity = (int)d->severity;
		sd->line = d->line;
		sd->col = d->col;
		sd->code = d->code ? cb_xstrdup(d->code) : NULL;
		sd->path = d->path ? cb_xstrdup(d->path) : NULL;
		sd->msg = cb_xstrdup(d->msg ? d->msg : "");
		sd->hint = d->hint ? cb_xstrdup(d->hint) : NULL;
	}
}

static void put_stat(cb_buf *b, char kind, const stat_entry *e)
{
	cb_buf_printf(b, "%c\t%llu\t%llu\t%llu\t%llu\t", kind, e->size, e->sec, e->nsec, e->ino);
	if (kind == 'f')
		cb_buf_printf(b, "%s\t", e->id);
	put_field(b, e->path);
	cb_buf_putc(b, '\n');
}

int cb_reuse_save(cb_reuse *c, const char *key, const char *out, const cb_reuse_result *res,
                  const cb_diag_list *diags)
{
	cb_buf b = CB_BUF_INIT;
	file_list l;
	char *tmp = NULL, *path = NULL;
	size_t i;
	int rc = -1;

	memset(&l, 0, sizeof l);
	l.moved = c;
	list_output(out, &l);
	if (l.failed)
		goto out;
	cb_buf_printf(&b, "%s\nkey\t%s\nout\t", FORMAT, key);
	put_field(&b, out);
	cb_buf_printf(&b, "\nresult\t%zu\t%zu\t%zu\n", res->cases, res->pages, res->editions);
	for (i = 0; i < c->n_stats; i++)
		if (c->stats[i].used)
			put_stat(&b, 'f', &c->stats[i]);
	for (i = 0; i < l.n; i++)
		put_stat(&b, 'o', &l.v[i]);
	for (i = 0; i < cb_diag_count((cb_diag_list *)diags); i++) {
		const cb_diag *d = cb_diag_at((cb_diag_list *)diags, i);
		if (d->severity == CB_NOTE)
			continue;
		cb_buf_puts(&b, "d\t");
		put_diag(&b, d);
	}
	for (i = 0; i < c->n_rec; i++) {
		const site_rec *r = &c->rec[i];
		size_t k;
		cb_buf_puts(&b, "s\t");
		put_field(&b, r->prefix);
		cb_buf_printf(&b, "\t%s\t%s\n", r->key, r->pre);
		for (k = 0; k < r->n_pages; k++) {
			cb_buf_puts(&b, "p\t");
			put_field(&b, r->prefix);
			cb_buf_putc(&b, '\t');
			put_field(&b, r->pages[k]);
			cb_buf_putc(&b, '\n');
		}
		for (k = 0; k < r->n_diags; k++) {
			cb_diag d;
			d.severity = (cb_severity)r->diags[k].severity;
			d.line = r->diags[k].line;
			d.col = r->diags[k].col;
			d.code = r->diags[k].code;
			d.path = r->diags[k].path;
			d.msg = r->diags[k].msg;
			d.hint = r->diags[k].hint;
			cb_buf_puts(&b, "e\t");
			put_field(&b, r->prefix);
			cb_buf_putc(&b, '\t');
			put_diag(&b, &d);
		}
	}
	cb_buf_puts(&b, "end\n");
	if (cb_fs_mkdirs(c->dir) < 0)
		goto out;
	path = cb_xasprintf("%s/build.cache", c->dir);
	tmp = cb_xasprintf("%s/build.cache.%ld.tmp", c->dir, (long)getpid());
	if (cb_fs_write(tmp, b.ptr, b.len) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	file_list_dispose(&l);
	cb_buf_dispose(&b);
	free(tmp);
	free(path);
	return rc;
}
