/*
 * cb_git: libgit2 adapter (see cb_git.h).
 *
 * Every call into libgit2 happens with the repository's lock held: libgit2
 * objects may be used from one thread at a time, and the loader reads a git
 * source from several threads.
 */
#include "cb_git.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cb_mem.h"
#include "cb_path.h"
#include "cb_value.h"

void cb_git_init(void)
{
	git_libgit2_init();
}

void cb_git_shutdown(void)
{
	git_libgit2_shutdown();
}

int cb_git_hash_blob(const char *data, size_t len, char *out)
{
	git_oid oid;

	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return -1;
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, &oid);
	return 0;
}

/* libgit2's message for the last error on this thread (never NULL). */
static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

void cb_git_time_date(cb_git_time t, char *out)
{
	long long s = t.time + (long long)t.offset * 60;
	long long days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
	/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = yoe + era * 400;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;

	if (m <= 2)
		y++;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

/* ---- repositories -------------------------------------------------------- */

struct cb_git_repo {
	git_repository *repo;
	char *prefix;
	pthread_mutex_t lock;
};

/* Whether a repository holds `dir` that opening refused: git's ownership
 * rule (libgit2 1.5 reports it as "not found"; discovery does not check). */
static int owned_elsewhere(const char *dir)
{
	git_buf found = GIT_BUF_INIT;
	int yes = git_repository_discover(&found, dir, 0, NULL) == 0;

	git_buf_dispose(&found);
	return yes;
}

int cb_git_repo_open(cb_git_repo **out, const char *dir, cb_diag_list *diags)
{
	git_repository *repo = NULL;
	cb_git_repo *r = NULL;
	char real[PATH_MAX], work[PATH_MAX];
	const char *wd;
	size_t wl;
	int rc;

	*out = NULL;
	if (!realpath(dir, real))
		return CB_GIT_ENOREPO;
	rc = git_repository_open_ext(&repo, real, 0, NULL);
	if (rc == GIT_ENOTFOUND || rc == GIT_EOWNER)
		return owned_elsewhere(real) ? CB_GIT_EOWNER : CB_GIT_ENOREPO;
	if (rc < 0)
		return cb_diag_error(diags, "git", NULL, 0, 0, "cannot open the git repository of %s: %s",
		                     dir, git_msg());
	wd = git_repository_workdir(repo);
	if (!wd || !realpath(wd, work)) {
		git_repository_free(repo);
		return CB_GIT_ENOREPO;
	}
	wl = strlen(work);
	if (strcmp(work, "/") == 0)
		wl = 0;
	if (strncmp(real, work, wl) != 0 || (real[wl] != '\0' && real[wl] != '/')) {
		git_repository_free(repo);
		return CB_GIT_ENOREPO;
	}
	r = cb_xcalloc(1, sizeof *r);
	r->repo = repo;
	r->prefix = real[wl] ? cb_xasprintf("%s/", real + wl + 1) : cb_xstrdup("");
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void cb_git_repo_free(cb_git_repo *repo)
{
	if (!repo)
		return;
	git_repository_free(repo->repo);
	free(repo->prefix);
	pthread_mutex_destroy(&repo->lock);
	free(repo);
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cb_git_repo_state(cb_git_repo *repo, cb_buf *out)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];

	pthread_mutex_lock(&repo->lock);
	if (git_reference_name_to_id(&id, repo->repo, "HEAD") == 0)
		cb_buf_printf(out, "HEAD %s\n", git_oid_tostr(hex, sizeof hex, &id));
	else
		cb_buf_puts(out, "HEAD none\n");
	cb_buf_printf(out, "shallow %d\nworkdir %s\n", git_repository_is_shallow(repo->repo),
	              git_repository_workdir(repo->repo) ? git_repository_workdir(repo->repo) : "");
	if (git_reference_iterator_new(&it, repo->repo) == 0) {
		char **v = NULL;
		size_t n = 0, i;
		while (git_reference_next(&ref, it) == 0) {
			const git_oid *t = git_reference_target(ref);
			const char *sym = git_reference_symbolic_target(ref);
			v = cb_xreallocarray(v, n + 1, sizeof *v);
			v[n++] = cb_xasprintf("ref %s %s\n", git_reference_name(ref),
			                      t ? git_oid_tostr(hex, sizeof hex, t) : sym ? sym : "?");
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
		/* The iterator's order is the filesystem's: sort. */
		if (n)
			qsort(v, n, sizeof *v, cmp_cstr);
		for (i = 0; i < n; i++) {
			cb_buf_puts(out, v[i]);
			free(v[i]);
		}
		free(v);
	} else {
		cb_buf_puts(out, "refs unreadable\n");
	}
	pthread_mutex_unlock(&repo->lock);
}

const char *cb_git_repo_prefix(const cb_git_repo *repo)
{
	return repo->prefix;
}

int cb_git_repo_is_shallow(cb_git_repo *repo)
{
	int s;

	pthread_mutex_lock(&repo->lock);
	s = git_repository_is_shallow(repo->repo) == 1;
	pthread_mutex_unlock(&repo->lock);
	return s;
}

static cb_git_time author_time(const git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	cb_git_time t;

	t.time = a ? (long long)a->when.time : (long long)git_commit_time(c);
	t.offset = a ? a->when.offset : git_commit_time_offset(c);
	return t;
}

int cb_git_resolve(cb_git_repo *repo, const char *rev, char *id, cb_git_time *when)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc = CB_GIT_ENOTFOUND;

	pthread_mutex_lock(&repo->lock);
	if (!*rev || git_revparse_single(&obj, repo->repo, rev) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0)
		goto out;
	git_oid_tostr(id, CB_OID_HEXSZ + 1, git_object_id(peeled));
	if (when)
		*when = author_time((const git_commit *)peeled);
	rc = 0;
out:
	git_object_free(peeled);
	git_object_free(obj);
	pthread_mutex_unlock(&repo->lock);
	return rc;
}

static char *trimmed(const char *s)
{
	size_t len;

	if (!s)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
	               s[len - 1] == '\r'))
		len--;
	return len ? cb_xstrndup(s, len) : NULL;
}

static int cmp_tag(const void *a, const void *b)
{
	return strcmp(((const cb_git_tag *)a)->name, ((const cb_git_tag *)b)->name);
}

int cb_git_tags(cb_git_repo *repo, const char *glob, cb_git_tag **out, size_t *n,
                cb_diag_list *diags)
{
	git_strarray names = {NULL, 0};
	cb_git_tag *tags = NULL;
	size_t i, count = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&repo->lock);
	if (git_tag_list_match(&names, glob, repo->repo) < 0) {
		rc = cb_diag_error(diags, "git", NULL, 0, 0, "cannot list tags: %s", git_msg());
		goto out;
	}
	if (names.count)
		tags = cb_xcalloc(names.count, sizeof *tags);
	for (i = 0; i < names.count; i++) {
		char *ref = cb_xasprintf("refs/tags/%s", names.strings[i]);
		git_object *obj = NULL, *commit = NULL;

		if (git_revparse_single(&obj, repo->repo, ref) == 0 &&
		    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0) {
			cb_git_tag *t = &tags[count++];
			t->name = cb_xstrdup(names.strings[i]);
			git_oid_tostr(t->commit, sizeof t->commit, git_object_id(commit));
			t->when = author_time((const git_commit *)commit);
			if (git_object_type(obj) == GIT_OBJECT_TAG) {
				const git_tag *tag = (const git_tag *)obj;
				const git_signature *who = git_tag_tagger(tag);
				if (who) {
					t->when.time = (long long)who->when.time;
					t->when.offset = who->when.offset;
				}
				t->message = trimmed(git_tag_message(tag));
			}
		}
		git_object_free(commit);
		git_object_free(obj);
		free(ref);
	}
	if (count)
		qsort(tags, count, sizeof *tags, cmp_tag);
	else {
		free(tags);
		tags = NULL;
	}
	*out = tags;
	*n = count;
out:
	git_strarray_dispose(&names);
	pthread_mutex_unlock(&repo->lock);
	return rc;
}

void cb_git_tags_free(cb_git_tag *tags, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(tags[i].name);
		free(tags[i].message);
	}
	free(tags);
}

/* ---- a source over a commit's tree --------------------------------------- */

typedef struct tree_src {
	cb_git_repo *repo;
	git_tree *root;   /* the handbook folder in the commit, or NULL if absent */
	/* Folders looked up so far (path -> index into trees): libgit2 caches
	 * only small trees, and content/cases is a big one. */
	cb_value *dirs;
	git_tree **trees; /* NULL where the path is no folder */
	size_t n_trees;
} tree_src;

/* The tree of folder dir ("" for the root), or NULL. Lock held. */
static git_tree *tree_at(tree_src *s, const char *dir)
{
	const cb_value *v;
	git_tree *parent, *t = NULL;
	const git_tree_entry *e;
	const char *slash;
	char *up;

	if (!*dir)
		return s->root;
	if ((v = cb_value_getc(s->dirs, dir)) != NULL)
		return s->trees[cb_value_int(v)];
	slash = strrchr(dir, '/');
	up = slash ? cb_xstrndup(dir, (size_t)(slash - dir)) : cb_xstrdup("");
	parent = tree_at(s, up);
	free(up);
	if (parent && (e = git_tree_entry_byname(parent, slash ? slash + 1 : dir)) != NULL &&
	    git_tree_entry_type(e) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&t, s->repo->repo, git_tree_entry_id(e)) < 0)
		t = NULL;
	s->trees = cb_xreallocarray(s->trees, s->n_trees + 1, sizeof *s->trees);
	s->trees[s->n_trees] = t;
	cb_value_setc(s->dirs, dir, cb_value_new_int((long long)s->n_trees));
	s->n_trees++;
	return t;
}

/* The entry at path under src's root (borrowed from a cached tree), or
 * NULL. Lock held. */
static const git_tree_entry *entry_at(tree_src *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	git_tree *t;

	if (!s->root || !*path)
		return NULL;
	dir = slash ? cb_xstrndup(path, (size_t)(slash - path)) : cb_xstrdup("");
	t = tree_at(s, dir);
	free(dir);
	return t ? git_tree_entry_byname(t, slash ? slash + 1 : path) : NULL;
}

static cb_fs_kind entry_kind(const git_tree_entry *e)
{
	switch (git_tree_entry_filemode(e)) {
	case GIT_FILEMODE_TREE: return CB_FS_DIR;
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE: return CB_FS_FILE;
	case GIT_FILEMODE_LINK: return CB_FS_LINK;
	default: return CB_FS_OTHER;
	}
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const cb_fs_entry *)a)->name, ((const cb_fs_entry *)b)->name);
}

static int tree_list(void *impl, const char *dir, cb_fs_entry **out, size_t *n)
{
	tree_src *s = impl;
	git_tree *tree;
	cb_fs_entry *v = NULL;
	size_t i, count;
	int rc = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&s->repo->lock);
	if (!(tree = tree_at(s, dir))) {
		rc = *dir && entry_at(s, dir) ? -ENOTDIR : -ENOENT;
		goto out;
	}
	count = git_tree_entrycount(tree);
	v = count ? cb_xcalloc(count, sizeof *v) : NULL;
	for (i = 0; i < count; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(tree, i);
		v[i].name = cb_xstrdup(git_tree_entry_name(te));
		v[i].kind = entry_kind(te);
		v[i].size = 0;
	}
	if (count > 1)
		qsort(v, count, sizeof *v, cmp_entry);
	*out = v;
	*n = count;
out:
	pthread_mutex_unlock(&s->repo->lock);
	return rc;
}

static int tree_read(void *impl, const char *path, size_t max, char **data, size_t *len)
{
	tree_src *s = impl;
	const git_tree_entry *e;
	git_blob *blob = NULL;
	int rc = 0;

	*data = NULL;
	*len = 0;
	pthread_mutex_lock(&s->repo->lock);
	if (!(e = entry_at(s, path))) {
		rc = -ENOENT;
		goto out;
	}
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
		rc = -EISDIR;
		goto out;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, s->repo->repo, git_tree_entry_id(e)) < 0) {
		rc = -EIO;
		goto out;
	}
	if (max && (size_t)git_blob_rawsize(blob) > max) {
		rc = CB_FS_TOOBIG;
		goto out;
	}
	*len = (size_t)git_blob_rawsize(blob);
	*data = cb_xmalloc(*len + 1);
	memcpy(*data, git_blob_rawcontent(blob), *len);
	(*data)[*len] = '\0';
out:
	git_blob_free(blob);
	pthread_mutex_unlock(&s->repo->lock);
	return rc;
}

static int tree_blob_id(void *impl, const char *path, const char *data, size_t len, char *out)
{
	tree_src *s = impl;
	const git_tree_entry *e;
	int rc = 0;

	(void)data;
	(void)len;
	pthread_mutex_lock(&s->repo->lock);
	if (!(e = entry_at(s, path)))
		rc = -ENOENT;
	else
		git_oid_tostr(out, CB_OID_HEXSZ + 1, git_tree_entry_id(e));
	pthread_mutex_unlock(&s->repo->lock);
	return rc;
}

static const char *tree_fs_root(void *impl)
{
	(void)impl;
	return NULL;
}

static void tree_free(void *impl)
{
	tree_src *s = impl;
	size_t i;

	pthread_mutex_lock(&s->repo->lock);
	for (i = 0; i < s->n_trees; i++)
		git_tree_free(s->trees[i]);
	git_tree_free(s->root);
	pthread_mutex_unlock(&s->repo->lock);
	cb_value_unref(s->dirs);
	free(s->trees);
	free(s);
}

static const cb_source_ops tree_ops = {tree_list, tree_read, tree_blob_id, tree_fs_root,
                                       tree_free};

int cb_git_source_open(cb_source **out, cb_git_repo *repo, const char *id, const char *label,
                       cb_diag_list *diags)
{
	git_oid oid;
	git_commit *commit = NULL;
	git_tree *tree = NULL, *root = NULL;
	git_tree_entry *e = NULL;
	tree_src *s;
	int rc = -1;

	*out = NULL;
	pthread_mutex_lock(&repo->lock);
	if (git_oid_fromstr(&oid, id) < 0 || git_commit_lookup(&commit, repo->repo, &oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0) {
		cb_diag_error(diags, "git", NULL, 0, 0, "cannot read commit %s: %s", id, git_msg());
		goto out;
	}
	if (!*repo->prefix) {
		root = tree;
		tree = NULL;
	} else {
		char *p = cb_xstrndup(repo->prefix, strlen(repo->prefix) - 1);
		if (git_tree_entry_bypath(&e, tree, p) == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
		    git_tree_lookup(&root, repo->repo, git_tree_entry_id(e)) < 0) {
			free(p);
			cb_diag_error(diags, "git", NULL, 0, 0, "cannot read commit %s: %s", id, git_msg());
			goto out;
		}
		free(p);
	}
	s = cb_xcalloc(1, sizeof *s);
	s->repo = repo;
	s->root = root;
	s->dirs = cb_value_new_map();
	*out = cb_source_new(&tree_ops, s, label);
	rc = 0;
out:
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(commit);
	pthread_mutex_unlock(&repo->lock);
	return rc;
}

/* ---- history --------------------------------------------------------------- */

/* A commit while the walk collects the graph. */
typedef struct node {
	git_oid oid;
	long long time;
	git_oid *parent_oids;
	size_t n_parent_oids;
	int boundary;
	size_t children; /* for the topological sort */
	size_t order;    /* position in the final order */
} node;

typedef struct graph {
	node *v;
	size_t len, cap;
	cb_value *index; /* hex id -> position in v */
} graph;

static long graph_find(const graph *g, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];
	const cb_value *v;

	git_oid_tostr(hex, sizeof hex, oid);
	v = cb_value_getc(g->index, hex);
	return v ? (long)cb_value_int(v) : -1;
}

static size_t graph_add(graph *g, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (g->len == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = cb_xreallocarray(g->v, g->cap, sizeof *g->v);
	}
	memset(&g->v[g->len], 0, sizeof g->v[g->len]);
	git_oid_cpy(&g->v[g->len].oid, oid);
	git_oid_tostr(hex, sizeof hex, oid);
	cb_value_setc(g->index, hex, cb_value_new_int((long long)g->len));
	return g->len++;
}

/* A max-heap of node indices by (time, then id), for the topological order. */
typedef struct heap {
	size_t *v;
	size_t len;
	const graph *g;
} heap;

static int heap_before(const heap *h, size_t a, size_t b)
{
	const node *x = &h->g->v[a], *y = &h->g->v[b];

	if (x->time != y->time)
		return x->time > y->time;
	return git_oid_cmp(&x->oid, &y->oid) > 0;
}

static void heap_push(heap *h, size_t item)
{
	size_t i = h->len++;

	h->v[i] = item;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		size_t t;
		if (!heap_before(h, h->v[i], h->v[p]))
			break;
		t = h->v[i], h->v[i] = h->v[p], h->v[p] = t;
		i = p;
	}
}

static size_t heap_pop(heap *h)
{
	size_t top = h->v[0], i = 0;

	h->v[0] = h->v[--h->len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < h->len && heap_before(h, h->v[l], h->v[m]))
			m = l;
		if (r < h->len && heap_before(h, h->v[r], h->v[m]))
			m = r;
		if (m == i)
			break;
		t = h->v[i], h->v[i] = h->v[m], h->v[m] = t;
		i = m;
	}
	return top;
}

/* Collect every commit reachable from the tips. Lock held. */
static int collect(cb_git_repo *repo, graph *g, const char *const *tips, size_t n_tips,
                   cb_diag_list *diags)
{
	git_odb *odb = NULL;
	size_t i, next = 0;
	int rc = 0;

	if (git_repository_odb(&odb, repo->repo) < 0)
		return cb_diag_error(diags, "git", NULL, 0, 0, "cannot read the repository: %s",
		                     git_msg());
	for (i = 0; i < n_tips; i++) {
		git_oid oid;
		if (git_oid_fromstr(&oid, tips[i]) < 0) {
			rc = cb_diag_error(diags, "git", NULL, 0, 0, "not a commit id: %s", tips[i]);
			goto out;
		}
		if (graph_find(g, &oid) < 0)
			graph_add(g, &oid);
	}
	while (next < g->len) {
		git_commit *c = NULL;
		size_t k, np;
		node *nd;

		if (git_commit_lookup(&c, repo->repo, &g->v[next].oid) < 0) {
			rc = cb_diag_error(diags, "git", NULL, 0, 0, "cannot read commit: %s", git_msg());
			goto out;
		}
		np = git_commit_parentcount(c);
		nd = &g->v[next];
		nd->time = (long long)git_commit_time(c);
		nd->parent_oids = np ? cb_xcalloc(np, sizeof(git_oid)) : NULL;
		for (k = 0; k < np; k++) {
			const git_oid *p = git_commit_parent_id(c, k);
			if (!p || !git_odb_exists(odb, p)) {
				nd->boundary = 1;
				continue;
			}
			git_oid_cpy(&nd->parent_oids[nd->n_parent_oids++], p);
		}
		git_commit_free(c);
		for (k = 0; k < g->v[next].n_parent_oids; k++)
			if (graph_find(g, &g->v[next].parent_oids[k]) < 0)
				graph_add(g, &g->v[next].parent_oids[k]);
		next++;
	}
out:
	git_odb_free(odb);
	return rc;
}

/* Children before parents; among commits ready at once, the newest first. */
static size_t *topo_order(graph *g)
{
	size_t *order = cb_xcalloc(g->len ? g->len : 1, sizeof *order);
	heap h;
	size_t i, k, n = 0;

	for (i = 0; i < g->len; i++)
		for (k = 0; k < g->v[i].n_parent_oids; k++)
			g->v[graph_find(g, &g->v[i].parent_oids[k])].children++;
	h.v = cb_xcalloc(g->len ? g->len : 1, sizeof *h.v);
	h.len = 0;
	h.g = g;
	for (i = 0; i < g->len; i++)
		if (g->v[i].children == 0)
			heap_push(&h, i);
	while (h.len) {
		size_t c = heap_pop(&h);
		g->v[c].order = n;
		order[n++] = c;
		for (k = 0; k < g->v[c].n_parent_oids; k++) {
			size_t p = (size_t)graph_find(g, &g->v[c].parent_oids[k]);
			if (--g->v[p].children == 0)
				heap_push(&h, p);
		}
	}
	free(h.v);
	return order;
}

/* The blob id at path in tree, if any. Lock held. */
static int blob_at(git_tree *tree, const char *path, git_oid *out)
{
	git_tree_entry *e = NULL;
	int found = 0;

	if (tree && git_tree_entry_bypath(&e, tree, path) == 0) {
		git_oid_cpy(out, git_tree_entry_id(e));
		found = 1;
	}
	git_tree_entry_free(e);
	return found;
}

static void add_change(cb_git_commit *c, char status, const char *path, const char *old_path,
                       size_t plen)
{
	cb_git_change *ch;

	c->changes = cb_xreallocarray(c->changes, c->n_changes + 1, sizeof *c->changes);
	ch = &c->changes[c->n_changes++];
	ch->status = status;
	ch->path = cb_xstrdup(path + plen);
	ch->old_path = old_path ? cb_xstrdup(old_path + plen) : NULL;
}

/* What commit c did to the files under pathspec, against its first parent.
 * Lock held. */
static int read_changes(cb_git_repo *repo, git_commit *c, cb_git_commit *out, const char *spec,
                        cb_diag_list *diags)
{
	git_tree *tree = NULL, *ptree = NULL;
	git_tree **others = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	git_diff_find_options fopts;
	char *specs[1];
	size_t i, k, n_others = 0, plen = strlen(repo->prefix);
	int rc = -1;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	git_diff_find_options_init(&fopts, GIT_DIFF_FIND_OPTIONS_VERSION);
	specs[0] = (char *)spec;
	opts.pathspec.strings = specs;
	opts.pathspec.count = 1;
	fopts.flags = GIT_DIFF_FIND_RENAMES;
	if (git_commit_tree(&tree, c) < 0)
		goto fail;
	if (out->n_parents > 0) {
		if (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&ptree, parent) < 0)
			goto fail;
		git_commit_free(parent);
		parent = NULL;
	}
	if (out->n_parents > 1) {
		others = cb_xcalloc(out->n_parents - 1, sizeof *others);
		for (k = 1; k < git_commit_parentcount(c); k++) {
			if (git_commit_parent(&parent, c, (unsigned)k) < 0)
				continue; /* missing: a shallow edge */
			if (git_commit_tree(&others[n_others], parent) == 0)
				n_others++;
			git_commit_free(parent);
			parent = NULL;
		}
	}
	if (git_diff_tree_to_tree(&diff, repo->repo, ptree, tree, &opts) < 0 ||
	    git_diff_find_similar(diff, &fopts) < 0)
		goto fail;
	for (i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *path = d->new_file.path, *old = NULL;
		char status;
		int keep = 1;

		switch (d->status) {
		case GIT_DELTA_ADDED: status = 'A'; break;
		case GIT_DELTA_DELETED: status = 'D'; path = d->old_file.path; break;
		case GIT_DELTA_RENAMED: status = 'R'; old = d->old_file.path; break;
		case GIT_DELTA_MODIFIED:
		case GIT_DELTA_TYPECHANGE: status = 'M'; break;
		default: continue;
		}
		if (strncmp(path, repo->prefix, plen) != 0 || (old && strncmp(old, repo->prefix, plen) != 0))
			continue;
		/* A merge did only what differs from every parent. */
		for (k = 0; keep && k < n_others; k++) {
			git_oid there;
			int has = blob_at(others[k], path, &there);
			if (status == 'D' ? !has : (has && git_oid_equal(&there, &d->new_file.id)))
				keep = 0;
		}
		if (keep)
			add_change(out, status, path, old, plen);
	}
	rc = 0;
	goto out;
fail:
	cb_diag_error(diags, "git", NULL, 0, 0, "cannot read commit %s: %s", out->id, git_msg());
out:
	for (k = 0; k < n_others; k++)
		git_tree_free(others[k]);
	free(others);
	git_diff_free(diff);
	git_commit_free(parent);
	git_tree_free(ptree);
	git_tree_free(tree);
	return rc;
}

int cb_git_log_read(cb_git_log **out, cb_git_repo *repo, const char *const *tips,
                    size_t n_tips, const char *under, cb_diag_list *diags)
{
	graph g;
	size_t *order = NULL, i, k;
	git_mailmap *mm = NULL;
	cb_git_log *log = NULL;
	char *spec = cb_xasprintf("%s%s", repo->prefix, under);
	int rc = -1;

	*out = NULL;
	memset(&g, 0, sizeof g);
	g.index = cb_value_new_map();
	pthread_mutex_lock(&repo->lock);
	if (collect(repo, &g, tips, n_tips, diags) < 0)
		goto out;
	order = topo_order(&g);
	/* A broken .mailmap is not worth failing the build for. */
	if (git_mailmap_from_repository(&mm, repo->repo) < 0)
		mm = NULL;

	log = cb_xcalloc(1, sizeof *log);
	log->n = g.len;
	log->commits = cb_xcalloc(g.len ? g.len : 1, sizeof *log->commits);
	for (i = 0; i < g.len; i++) {
		node *nd = &g.v[order[i]];
		cb_git_commit *c = &log->commits[i];
		git_commit *gc = NULL;
		git_signature *who = NULL;

		git_oid_tostr(c->id, sizeof c->id, &nd->oid);
		c->boundary = nd->boundary;
		log->shallow |= nd->boundary;
		c->n_parents = nd->n_parent_oids;
		c->parents = c->n_parents ? cb_xcalloc(c->n_parents, sizeof *c->parents) : NULL;
		for (k = 0; k < c->n_parents; k++)
			c->parents[k] = g.v[graph_find(&g, &nd->parent_oids[k])].order;
		if (git_commit_lookup(&gc, repo->repo, &nd->oid) < 0) {
			cb_diag_error(diags, "git", NULL, 0, 0, "cannot read commit %s: %s", c->id,
			              git_msg());
			goto out;
		}
		c->when = author_time(gc);
		if (git_commit_author_with_mailmap(&who, gc, mm) == 0) {
			c->author = cb_xstrdup(who->name ? who->name : "");
			c->email = cb_xstrdup(who->email ? who->email : "");
			git_signature_free(who);
		} else {
			c->author = cb_xstrdup("");
			c->email = cb_xstrdup("");
		}
		c->subject = cb_xstrdup(git_commit_summary(gc) ? git_commit_summary(gc) : "");
		if (!c->boundary && read_changes(repo, gc, c, spec, diags) < 0) {
			git_commit_free(gc);
			goto out;
		}
		git_commit_free(gc);
	}
	*out = log;
	log = NULL;
	rc = 0;
out:
	git_mailmap_free(mm);
	pthread_mutex_unlock(&repo->lock);
	cb_git_log_free(log);
	for (i = 0; i < g.len; i++)
		free(g.v[i].parent_oids);
	free(g.v);
	cb_value_unref(g.index);
	free(order);
	free(spec);
	return rc;
}

void cb_git_log_free(cb_git_log *log)
{
	size_t i, k;

	if (!log)
		return;
	for (i = 0; i < log->n; i++) {
		cb_git_commit *c = &log->commits[i];
		for (k = 0; k < c->n_changes; k++) {
			free(c->changes[k].path);
			free(c->changes[k].old_path);
		}
		free(c->changes);
		free(c->parents);
		free(c->author);
		free(c->email);
		free(c->subject);
	}
	free(log->commits);
	free(log);
}

long cb_git_log_find(const cb_git_log *log, const char *id)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		if (strcmp(log->commits[i].id, id) == 0)
			return (long)i;
	return -1;
}
