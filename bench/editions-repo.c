/*
 * editions-repo: turn a handbook folder into a git repository with editions,
 * for the editions benchmark (bench/run). Uses libgit2, as
 * casebook does; the git program is never needed.
 *
 *   editions-repo DIR EDITIONS PERCENT
 *
 * Commits DIR as it is and tags the commit edition-1; then, for each next
 * edition k, changes PERCENT % of the cases (a sentence added at the end of
 * each, so its last section changes), commits and tags edition-k. Which
 * cases change is fixed by k and the case's position, so runs are
 * reproducible. Commits are dated a month apart from 2024-01-01.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int rc, const char *what)
{
	const git_error *e;

	if (rc >= 0)
		return;
	e = git_error_last();
	fprintf(stderr, "editions-repo: %s: %s\n", what, e && e->message ? e->message : "error");
	exit(1);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case files of DIR/content/cases, sorted. */
static char **list_cases(const char *dir, size_t *n)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t len = 0, cap = 0;

	snprintf(path, sizeof path, "%s/content/cases", dir);
	if (!(d = opendir(path))) {
		perror(path);
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".md") != 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof *v);
		}
		v[len++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, len, sizeof *v, cmp_str);
	*n = len;
	return v;
}

static git_oid commit_all(git_repository *repo, const char *msg, long long when, int first)
{
	git_index *idx;
	git_oid tree_id, id, parent_id;
	git_tree *tree;
	git_signature *sig;
	git_commit *parent = NULL;
	char all_[] = "*", *all = all_;
	git_strarray spec = {&all, 1};

	check(git_repository_index(&idx, repo), "index");
	check(git_index_add_all(idx, &spec, GIT_INDEX_ADD_DEFAULT, NULL, NULL), "add");
	check(git_index_update_all(idx, &spec, NULL, NULL), "update");
	check(git_index_write(idx), "write index");
	check(git_index_write_tree(&tree_id, idx), "write tree");
	git_index_free(idx);
	check(git_tree_lookup(&tree, repo, &tree_id), "tree");
	check(git_signature_new(&sig, "Bench Editor", "editor@example.org", (git_time_t)when, 0),
	      "signature");
	if (!first) {
		check(git_reference_name_to_id(&parent_id, repo, "HEAD"), "HEAD");
		check(git_commit_lookup(&parent, repo, &parent_id), "parent");
	}
	check(git_commit_create_v(&id, repo, "HEAD", sig, sig, NULL, msg, tree, first ? 0 : 1,
	                          parent),
	      "commit");
	git_commit_free(parent);
	git_signature_free(sig);
	git_tree_free(tree);
	return id;
}

int main(int argc, char **argv)
{
	git_repository *repo;
	char **cases, path[4096], name[64], msg[128];
	size_t n, i;
	int editions, percent, k;
	long long t0 = 1704110400LL; /* 2024-01-01 12:00 UTC */

	if (argc != 4) {
		fprintf(stderr, "usage: editions-repo DIR EDITIONS PERCENT\n");
		return 2;
	}
	editions = atoi(argv[2]);
	percent = atoi(argv[3]);
	git_libgit2_init();
	check(git_repository_init(&repo, argv[1], 0), "init");
	cases = list_cases(argv[1], &n);
	for (k = 1; k <= editions; k++) {
		git_oid id;
		git_object *obj;
		size_t changed = 0;

		if (k > 1)
			for (i = 0; i < n; i++) {
				FILE *f;
				/* A spread-out, fixed choice of cases per edition. */
				if ((i * 7919u + (size_t)k * 104729u) % 10000u >= (size_t)percent * 100u)
					continue;
				snprintf(path, sizeof path, "%s/content/cases/%s", argv[1], cases[i]);
				if (!(f = fopen(path, "a"))) {
					perror(path);
					return 1;
				}
				fprintf(f, "\nRevised for edition %d.\n", k);
				fclose(f);
				changed++;
			}
		snprintf(msg, sizeof msg, "Edition %d: %zu cases changed", k, changed);
		id = commit_all(repo, msg, t0 + (long long)(k - 1) * 30 * 86400, k == 1);
		snprintf(name, sizeof name, "edition-%d", k);
		check(git_object_lookup(&obj, repo, &id, GIT_OBJECT_COMMIT), "lookup");
		check(git_tag_create_lightweight(&id, repo, name, obj, 0), "tag");
		git_object_free(obj);
		fprintf(stderr, "editions-repo: %s: %zu of %zu cases changed\n", name, changed, n);
	}
	for (i = 0; i < n; i++)
		free(cases[i]);
	free(cases);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}
