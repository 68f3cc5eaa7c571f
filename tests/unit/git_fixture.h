/*
 * Throw-away git repositories for tests, made with libgit2 (never the git
 * program): files written into a fresh working tree, commits with fixed
 * authors and dates, tags, branches and merges.
 *
 *     fx_repo fx;
 *     fx_init(&fx);
 *     fx_write(&fx, "casebook.yml", "title: T\n");
 *     git_oid c1 = fx_commit(&fx, "First", "Ann", "ann@example.org", FX_DAY(2024, 1, 10));
 *     fx_tag(&fx, "edition-1", &c1, "First edition", FX_DAY(2024, 2, 1));
 *     ...
 *     fx_free(&fx);   // removes the folder
 *
 * Included by the test files that need it; every function is static.
 */
#ifndef GIT_FIXTURE_H
#define GIT_FIXTURE_H

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cb_fs.h"
#include "cb_mem.h"

/* Fail the test with libgit2's message when a call fails. */
#define FX_GIT(call)                                                                           \
	do {                                                                                   \
		int fx_rc_ = (call);                                                           \
		if (fx_rc_ < 0) {                                                              \
			const git_error *fx_e_ = git_error_last();                             \
			fail_msg("%s failed (%d): %s", #call, fx_rc_,                          \
			         fx_e_ && fx_e_->message ? fx_e_->message : "");               \
		}                                                                              \
	} while (0)

/* Noon UTC of a day, as seconds since the epoch. */
#define FX_DAY(y, m, d) fx_day((y), (m), (d))

typedef struct fx_repo {
	git_repository *repo;
	char dir[256];
	git_oid head;
	int has_head;
} fx_repo;

static inline long long fx_day(int y, int m, int d)
{
	/* Days from civil (Howard Hinnant). */
	long long yy = m <= 2 ? y - 1 : y;
	long long era = (yy >= 0 ? yy : yy - 399) / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + 12 * 3600;
}

static inline void fx_init(fx_repo *fx)
{
	memset(fx, 0, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "%s", "/tmp/cb-repo-XXXXXX");
	if (!mkdtemp(fx->dir))
		fail_msg("mkdtemp failed");
	FX_GIT(git_repository_init(&fx->repo, fx->dir, 0));
}

static inline void fx_free(fx_repo *fx)
{
	git_repository_free(fx->repo);
	fx->repo = NULL;
	cb_fs_remove_tree(fx->dir);
}

/* Write a file of the working tree (folders are made as needed). */
static inline void fx_write(fx_repo *fx, const char *path, const char *text)
{
	char *full = cb_xasprintf("%s/%s", fx->dir, path);
	char *slash = strrchr(full, '/');

	*slash = '\0';
	if (cb_fs_mkdirs(full) < 0)
		fail_msg("cannot make %s", full);
	*slash = '/';
	if (cb_fs_write(full, text, strlen(text)) < 0)
		fail_msg("cannot write %s", full);
	free(full);
}

static inline void fx_remove(fx_repo *fx, const char *path)
{
	char *full = cb_xasprintf("%s/%s", fx->dir, path);

	if (remove(full) < 0)
		fail_msg("cannot remove %s", full);
	free(full);
}

static inline void fx_rename(fx_repo *fx, const char *from, const char *to)
{
	char *a = cb_xasprintf("%s/%s", fx->dir, from), *b = cb_xasprintf("%s/%s", fx->dir, to);

	if (rename(a, b) < 0)
		fail_msg("cannot rename %s", a);
	free(a);
	free(b);
}

/* The working tree as a tree object (through the index). */
static inline git_oid fx_tree(fx_repo *fx)
{
	git_index *idx = NULL;
	git_oid tree;
	char *all = (char *)"*";
	git_strarray spec = {&all, 1};

	FX_GIT(git_repository_index(&idx, fx->repo));
	FX_GIT(git_index_add_all(idx, &spec, GIT_INDEX_ADD_DEFAULT, NULL, NULL));
	FX_GIT(git_index_update_all(idx, &spec, NULL, NULL));
	FX_GIT(git_index_write(idx));
	FX_GIT(git_index_write_tree(&tree, idx));
	git_index_free(idx);
	return tree;
}

/* Commit the working tree with the given parents (none: the current head,
 * if any) and move HEAD there when move_head is set. */
static inline git_oid fx_commit_with(fx_repo *fx, const char *msg, const char *name,
                                     const char *email, long long when, const git_oid *parents,
                                     size_t n_parents, int move_head)
{
	git_oid tree_id = fx_tree(fx), id;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	const git_commit *pc[4] = {NULL, NULL, NULL, NULL};
	git_commit *owned[4] = {NULL, NULL, NULL, NULL};
	size_t i, np = 0;

	FX_GIT(git_tree_lookup(&tree, fx->repo, &tree_id));
	FX_GIT(git_signature_new(&sig, name, email, (git_time_t)when, 0));
	if (n_parents == 0 && fx->has_head) {
		FX_GIT(git_commit_lookup(&owned[0], fx->repo, &fx->head));
		np = 1;
	}
	for (i = 0; i < n_parents && i < 4; i++) {
		FX_GIT(git_commit_lookup(&owned[i], fx->repo, &parents[i]));
		np = i + 1;
	}
	for (i = 0; i < np; i++)
		pc[i] = owned[i];
	FX_GIT(git_commit_create(&id, fx->repo, move_head ? "HEAD" : NULL, sig, sig, NULL, msg,
	                         tree, np, pc));
	for (i = 0; i < 4; i++)
		git_commit_free(owned[i]);
	git_signature_free(sig);
	git_tree_free(tree);
	if (move_head) {
		fx->head = id;
		fx->has_head = 1;
	}
	return id;
}

static inline git_oid fx_commit(fx_repo *fx, const char *msg, const char *name,
                                const char *email, long long when)
{
	return fx_commit_with(fx, msg, name, email, when, NULL, 0, 1);
}

/* An annotated tag with message, or a lightweight one (message NULL). */
static inline void fx_tag(fx_repo *fx, const char *name, const git_oid *commit,
                          const char *message, long long when)
{
	git_object *target = NULL;
	git_signature *sig = NULL;
	git_oid id;

	FX_GIT(git_object_lookup(&target, fx->repo, commit, GIT_OBJECT_COMMIT));
	if (message) {
		FX_GIT(git_signature_new(&sig, "Tagger", "tagger@example.org", (git_time_t)when, 0));
		FX_GIT(git_tag_create(&id, fx->repo, name, target, sig, message, 0));
		git_signature_free(sig);
	} else {
		FX_GIT(git_tag_create_lightweight(&id, fx->repo, name, target, 0));
	}
	git_object_free(target);
}

static inline char *fx_hex(const git_oid *id)
{
	char *s = cb_xmalloc(GIT_OID_HEXSZ + 1);

	git_oid_tostr(s, GIT_OID_HEXSZ + 1, id);
	return s;
}

/* Make the repository a shallow clone cut at `edge`: record it in
 * .git/shallow and delete the loose object of its (only) parent. */
static inline void fx_make_shallow(fx_repo *fx, const git_oid *edge, const git_oid *parent)
{
	char hex[GIT_OID_HEXSZ + 1], line[GIT_OID_HEXSZ + 2];
	char *p;

	git_oid_tostr(hex, sizeof hex, edge);
	snprintf(line, sizeof line, "%s\n", hex);
	p = cb_xasprintf("%s/.git/shallow", fx->dir);
	if (cb_fs_write(p, line, strlen(line)) < 0)
		fail_msg("cannot write %s", p);
	free(p);
	git_oid_tostr(hex, sizeof hex, parent);
	p = cb_xasprintf("%s/.git/objects/%.2s/%s", fx->dir, hex, hex + 2);
	if (remove(p) < 0)
		fail_msg("cannot remove %s", p);
	free(p);
	/* Reopen so that libgit2 forgets what it cached. */
	git_repository_free(fx->repo);
	FX_GIT(git_repository_open(&fx->repo, fx->dir));
}

/* Read a file into a malloc'd string (NULL if missing). */
static inline char *fx_read(const char *dir, const char *path)
{
	char *full = cb_xasprintf("%s/%s", dir, path), *data = NULL;
	size_t len;

	if (cb_fs_read(full, 0, &data, &len) < 0)
		data = NULL;
	free(full);
	return data;
}

#endif
