/* Unit tests for cb_git (the libgit2 adapter), on throw-away repositories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cb_git.h"
#include "git_fixture.h"

static int setup(void **state)
{
	(void)state;
	cb_git_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cb_git_shutdown();
	return 0;
}

static void test_open_and_prefix(void **state)
{
	fx_repo fx;
	cb_git_repo *r = NULL;
	cb_diag_list *d = cb_diag_list_new();
	char *sub, dir[] = "/tmp/cb-norepo-XXXXXX";

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "hb/casebook.yml", "title: T\n");
	assert_int_equal(cb_git_repo_open(&r, fx.dir, d), 0);
	assert_string_equal(cb_git_repo_prefix(r), "");
	assert_int_equal(cb_git_repo_is_shallow(r), 0);
	cb_git_repo_free(r);

	sub = cb_xasprintf("%s/hb", fx.dir);
	assert_int_equal(cb_git_repo_open(&r, sub, d), 0);
	assert_string_equal(cb_git_repo_prefix(r), "hb/");
	cb_git_repo_free(r);
	free(sub);

	/* Outside any repository: CB_GIT_ENOREPO, nothing reported. */
	assert_non_null(mkdtemp(dir));
	r = (cb_git_repo *)1;
	assert_int_equal(cb_git_repo_open(&r, dir, d), CB_GIT_ENOREPO);
	assert_null(r);
	cb_fs_remove_tree(dir);
	assert_int_equal(cb_diag_count(d), 0);
	cb_diag_list_free(d);
	fx_free(&fx);
}

static void test_resolve_and_tags(void **state)
{
	fx_repo fx;
	cb_git_repo *r = NULL;
	cb_diag_list *d = cb_diag_list_new();
	git_oid c1, c2;
	char id[CB_OID_HEXSZ + 1], date[11], *h1, *h2, shortid[8];
	cb_git_time when;
	cb_git_tag *tags = NULL;
	size_t n = 0;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "a.txt", "one\n");
	c1 = fx_commit(&fx, "First\n\nBody.", "Ann", "ann@example.org", FX_DAY(2024, 1, 10));
	fx_write(&fx, "a.txt", "two\n");
	c2 = fx_commit(&fx, "Second", "Ann", "ann@example.org", FX_DAY(2024, 3, 5));
	fx_tag(&fx, "edition-2024", &c1, "The first edition\n", FX_DAY(2024, 2, 1));
	fx_tag(&fx, "edition-2025", &c2, NULL, 0);
	fx_tag(&fx, "release-1", &c2, NULL, 0);
	h1 = fx_hex(&c1);
	h2 = fx_hex(&c2);
	assert_int_equal(cb_git_repo_open(&r, fx.dir, d), 0);

	assert_int_equal(cb_git_resolve(r, "HEAD", id, &when), 0);
	assert_string_equal(id, h2);
	cb_git_time_date(when, date);
	assert_string_equal(date, "2024-03-05");
	memcpy(shortid, h1, 7);
	shortid[7] = '\0';
	assert_int_equal(cb_git_resolve(r, shortid, id, NULL), 0);
	assert_string_equal(id, h1);
	assert_int_equal(cb_git_resolve(r, "edition-2024", id, NULL), 0); /* peeled */
	assert_string_equal(id, h1);
	assert_int_equal(cb_git_resolve(r, "no-such-ref", id, NULL), CB_GIT_ENOTFOUND);
	assert_int_equal(cb_git_resolve(r, "HEAD:a.txt", id, NULL), CB_GIT_ENOTFOUND); /* a blob */
	assert_int_equal(cb_git_resolve(r, "", id, NULL), CB_GIT_ENOTFOUND);

	assert_int_equal(cb_git_tags(r, "edition-*", &tags, &n, d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(tags[0].name, "edition-2024");
	assert_string_equal(tags[0].commit, h1);
	assert_string_equal(tags[0].message, "The first edition");
	cb_git_time_date(tags[0].when, date);
	assert_string_equal(date, "2024-02-01"); /* the tagger's date */
	assert_string_equal(tags[1].name, "edition-2025");
	assert_null(tags[1].message);
	cb_git_time_date(tags[1].when, date);
	assert_string_equal(date, "2024-03-05"); /* lightweight: the commit's */
	cb_git_tags_free(tags, n);
	assert_int_equal(cb_git_tags(r, "nothing-*", &tags, &n, d), 0);
	assert_int_equal(n, 0);
	assert_null(tags);

	assert_int_equal(cb_diag_count(d), 0);
	cb_git_repo_free(r);
	cb_diag_list_free(d);
	free(h1);
	free(h2);
	fx_free(&fx);
}

static void test_source(void **state)
{
	fx_repo fx;
	cb_git_repo *r = NULL;
	cb_source *s = NULL;
	cb_diag_list *d = cb_diag_list_new();
	git_oid c1;
	char *h1, *sub, *data = NULL, id[CB_OID_HEXSZ + 1], want[CB_OID_HEXSZ + 1];
	cb_fs_entry *e = NULL;
	size_t n = 0, len;
	cb_fs_kind kind;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "outside.txt", "x");
	fx_write(&fx, "hb/casebook.yml", "title: T\n");
	fx_write(&fx, "hb/content/cases/b.md", "bee\n");
	fx_write(&fx, "hb/content/cases/a.md", "ay\n");
	fx_write(&fx, "hb/content/cases/img/x.png", "png");
	c1 = fx_commit(&fx, "First", "Ann", "ann@example.org", FX_DAY(2024, 1, 10));
	/* Later changes to the working tree are not seen through the source. */
	fx_write(&fx, "hb/content/cases/a.md", "changed\n");
	h1 = fx_hex(&c1);
	sub = cb_xasprintf("%s/hb", fx.dir);
	assert_int_equal(cb_git_repo_open(&r, sub, d), 0);
	assert_int_equal(cb_git_source_open(&s, r, h1, "edition-1", d), 0);
	assert_string_equal(cb_source_label(s), "edition-1");
	assert_null(cb_source_fs_root(s));

	assert_int_equal(cb_source_list(s, "", &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "casebook.yml");
	assert_int_equal(e[0].kind, CB_FS_FILE);
	assert_string_equal(e[1].name, "content");
	assert_int_equal(e[1].kind, CB_FS_DIR);
	cb_fs_list_free(e, n);
	assert_int_equal(cb_source_list(s, "content/cases", &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, "a.md"); /* sorted by name */
	assert_string_equal(e[1].name, "b.md");
	assert_string_equal(e[2].name, "img");
	cb_fs_list_free(e, n);
	assert_int_equal(cb_source_list(s, "nope", &e, &n), -ENOENT);
	assert_int_equal(cb_source_list(s, "casebook.yml", &e, &n), -ENOTDIR);

	assert_int_equal(cb_source_read(s, "content/cases/a.md", 0, &data, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(data, "ay\n");
	assert_int_equal(cb_source_blob_id(s, "content/cases/a.md", NULL, 0, id), 0);
	assert_int_equal(cb_git_hash_blob(data, len, want), 0);
	assert_string_equal(id, want);
	free(data);
	assert_int_equal(cb_source_read(s, "content/cases/a.md", 2, &data, &len), CB_FS_TOOBIG);
	assert_int_equal(cb_source_read(s, "content/cases/z.md", 0, &data, &len), -ENOENT);
	assert_int_equal(cb_source_read(s, "content", 0, &data, &len), -EISDIR);
	assert_int_equal(cb_source_read(s, "../outside.txt", 0, &data, &len), -ENOENT);
	assert_int_equal(cb_source_kind(s, "content/cases/img", &kind), 0);
	assert_int_equal(kind, CB_FS_DIR);
	assert_int_equal(cb_source_kind(s, "content/cases/img/x.png", &kind), 0);
	assert_int_equal(kind, CB_FS_FILE);

	/* A commit id that names nothing is reported. */
	cb_source_free(s);
	assert_int_equal(cb_git_source_open(&s, r, "0123456789012345678901234567890123456789", "x", d),
	                 -1);
	assert_null(s);
	assert_int_equal(cb_diag_errors(d), 1);
	cb_git_repo_free(r);
	cb_diag_list_free(d);
	free(h1);
	free(sub);
	fx_free(&fx);
}

static const cb_git_change *find_change(const cb_git_commit *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->n_changes; i++)
		if (strcmp(c->changes[i].path, path) == 0)
			return &c->changes[i];
	return NULL;
}

static void test_log(void **state)
{
	fx_repo fx;
	cb_git_repo *r = NULL;
	cb_git_log *log = NULL;
	cb_diag_list *d = cb_diag_list_new();
	git_oid c1, c2, side, c3, merge, parents[2];
	char *tips[1];
	const cb_git_commit *c;
	const cb_git_change *ch;
	const char *long_text = "A long enough case text, so that renaming it with a small change "
	                        "is still recognised as a rename by the similarity check.\n"
	                        "Second line of the case.\nThird line of the case.\n";
	char *edited;
	long i;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, ".mailmap", "Robert Builder <bob@example.org> Bob <bob@example.org>\n");
	fx_write(&fx, "content/cases/a.md", "a1\n");
	fx_write(&fx, "content/cases/b.md", long_text);
	fx_write(&fx, "content/cases/c.md", "c1\n");
	fx_write(&fx, "content/pages/index.md", "home\n");
	c1 = fx_commit(&fx, "Add cases", "Ann", "ann@example.org", FX_DAY(2024, 1, 10));

	fx_write(&fx, "content/cases/a.md", "a2\n");
	fx_remove(&fx, "content/cases/b.md");
	edited = cb_xasprintf("%sFourth line.\n", long_text);
	fx_write(&fx, "content/cases/bee.md", edited);
	free(edited);
	fx_remove(&fx, "content/cases/c.md");
	fx_write(&fx, "content/pages/index.md", "home 2\n"); /* not under content/cases */
	c2 = fx_commit(&fx, "Edit a, rename b, drop c\n\nDetails.", "Bob", "bob@example.org",
	               FX_DAY(2024, 3, 5));

	/* A side branch changes d; main changes a; then they merge. */
	fx_write(&fx, "content/cases/d.md", "d1\n");
	side = fx_commit_with(&fx, "Add d on a branch", "Cat", "cat@example.org", FX_DAY(2024, 4, 1),
	                      &c2, 1, 0);
	fx_remove(&fx, "content/cases/d.md");
	fx_write(&fx, "content/cases/a.md", "a3\n");
	c3 = fx_commit(&fx, "Edit a again", "Ann", "ann@example.org", FX_DAY(2024, 4, 2));
	fx_write(&fx, "content/cases/d.md", "d1\n");
	parents[0] = c3;
	parents[1] = side;
	merge = fx_commit_with(&fx, "Merge branch", "Ann", "ann@example.org", FX_DAY(2024, 4, 3),
	                       parents, 2, 1);

	assert_int_equal(cb_git_repo_open(&r, fx.dir, d), 0);
	tips[0] = fx_hex(&merge);
	assert_int_equal(cb_git_log_read(&log, r, (const char *const *)tips, 1, "content/cases", d), 0);
	assert_int_equal(log->n, 5);
	assert_int_equal(log->shallow, 0);
	/* Children first, newest first among the rest. */
	assert_string_equal(log->commits[0].subject, "Merge branch");
	assert_string_equal(log->commits[1].subject, "Edit a again");
	assert_string_equal(log->commits[2].subject, "Add d on a branch");
	assert_string_equal(log->commits[3].subject, "Edit a, rename b, drop c");
	assert_string_equal(log->commits[4].subject, "Add cases");
	assert_int_equal(log->commits[0].n_parents, 2);
	assert_int_equal(log->commits[0].parents[0], 1);
	assert_int_equal(log->commits[0].parents[1], 2);

	/* The merge did nothing of its own: d comes from the branch. */
	assert_int_equal(log->commits[0].n_changes, 0);
	c = &log->commits[2];
	assert_int_equal(c->n_changes, 1);
	assert_int_equal(c->changes[0].status, 'A');
	assert_string_equal(c->changes[0].path, "content/cases/d.md");

	c = &log->commits[3];
	assert_string_equal(c->author, "Robert Builder"); /* .mailmap */
	assert_string_equal(c->email, "bob@example.org");
	assert_int_equal(c->n_changes, 3); /* the page is not under content/cases */
	ch = find_change(c, "content/cases/a.md");
	assert_non_null(ch);
	assert_int_equal(ch->status, 'M');
	ch = find_change(c, "content/cases/bee.md");
	assert_non_null(ch);
	assert_int_equal(ch->status, 'R');
	assert_string_equal(ch->old_path, "content/cases/b.md");
	ch = find_change(c, "content/cases/c.md");
	assert_non_null(ch);
	assert_int_equal(ch->status, 'D');

	c = &log->commits[4];
	assert_int_equal(c->n_changes, 3);
	assert_int_equal(c->n_parents, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(c->changes[i].status, 'A');
	assert_int_equal(cb_git_log_find(log, tips[0]), 0);
	assert_int_equal(cb_git_log_find(log, "nope"), -1);
	cb_git_log_free(log);
	free(tips[0]);

	/* Tips that share history are walked once. */
	{
		char *two[2];
		two[0] = fx_hex(&c1);
		two[1] = fx_hex(&c3);
		assert_int_equal(cb_git_log_read(&log, r, (const char *const *)two, 2, "content/cases", d),
		                 0);
		assert_int_equal(log->n, 3);
		cb_git_log_free(log);
		free(two[0]);
		free(two[1]);
	}
	assert_int_equal(cb_diag_count(d), 0);
	cb_git_repo_free(r);
	cb_diag_list_free(d);
	fx_free(&fx);
}

static void test_log_shallow(void **state)
{
	fx_repo fx;
	cb_git_repo *r = NULL;
	cb_git_log *log = NULL;
	cb_diag_list *d = cb_diag_list_new();
	git_oid c1, c2, c3;
	char *tip;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "content/cases/a.md", "a1\n");
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_write(&fx, "content/cases/a.md", "a2\n");
	c2 = fx_commit(&fx, "Two", "Ann", "ann@example.org", FX_DAY(2024, 2, 1));
	fx_write(&fx, "content/cases/a.md", "a3\n");
	c3 = fx_commit(&fx, "Three", "Ann", "ann@example.org", FX_DAY(2024, 3, 1));
	fx_make_shallow(&fx, &c2, &c1);

	assert_int_equal(cb_git_repo_open(&r, fx.dir, d), 0);
	assert_int_equal(cb_git_repo_is_shallow(r), 1);
	tip = fx_hex(&c3);
	assert_int_equal(cb_git_log_read(&log, r, (const char *const *)&tip, 1, "content/cases", d), 0);
	assert_int_equal(log->n, 2);
	assert_int_equal(log->shallow, 1);
	assert_int_equal(log->commits[0].boundary, 0);
	assert_int_equal(log->commits[0].n_changes, 1);
	assert_int_equal(log->commits[1].boundary, 1); /* its parent is gone */
	assert_int_equal(log->commits[1].n_parents, 0);
	assert_int_equal(log->commits[1].n_changes, 0);
	assert_int_equal(cb_diag_count(d), 0);
	cb_git_log_free(log);
	free(tip);
	cb_git_repo_free(r);
	cb_diag_list_free(d);
	fx_free(&fx);
}

static void test_dates(void **state)
{
	char date[11];
	cb_git_time t;

	(void)state;
	t.time = 0;
	t.offset = 0;
	cb_git_time_date(t, date);
	assert_string_equal(date, "1970-01-01");
	t.time = FX_DAY(2024, 2, 29) - 12 * 3600 + 30 * 60; /* 00:30 UTC */
	t.offset = -60; /* still the 28th an hour west */
	cb_git_time_date(t, date);
	assert_string_equal(date, "2024-02-28");
	t.offset = 0;
	cb_git_time_date(t, date);
	assert_string_equal(date, "2024-02-29");
	t.time = FX_DAY(1969, 12, 31);
	cb_git_time_date(t, date);
	assert_string_equal(date, "1969-12-31");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_prefix),
	    cmocka_unit_test(test_resolve_and_tags),
	    cmocka_unit_test(test_source),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_log_shallow),
	    cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
