/* Unit tests for cb_history: per-case histories from a log, on hand-made logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_history.h"
#include "cb_mem.h"

/* A log built by hand, newest commit first (as cb_git_log_read gives). */
typedef struct mk {
	cb_git_log log;
	size_t cap;
} mk;

static void mk_init(mk *m, size_t n)
{
	memset(m, 0, sizeof *m);
	m->log.commits = cb_xcalloc(n, sizeof(cb_git_commit));
	m->cap = n;
}

/* Commit number i (its id is "c<i>" padded), dated day `day` of 2024-01,
 * by `author`, with one parent `parent` (-1: none). */
static cb_git_commit *mk_commit(mk *m, const char *author, int day, long parent)
{
	cb_git_commit *c = &m->log.commits[m->log.n];

	snprintf(c->id, sizeof c->id, "c%039zu", m->log.n);
	c->when.time = 1704067200LL + (long long)(day - 1) * 86400 + 3600; /* 2024-01-DD 01:00 */
	c->author = cb_xstrdup(author);
	c->email = cb_xasprintf("%s@example.org", author);
	c->subject = cb_xasprintf("commit %zu", m->log.n);
	if (parent >= 0) {
		c->parents = cb_xcalloc(1, sizeof(size_t));
		c->parents[0] = (size_t)parent;
		c->n_parents = 1;
	}
	m->log.n++;
	return c;
}

static void mk_change(cb_git_commit *c, char status, const char *path, const char *old)
{
	cb_git_change *ch;

	c->changes = cb_xreallocarray(c->changes, c->n_changes + 1, sizeof *c->changes);
	ch = &c->changes[c->n_changes++];
	ch->status = status;
	ch->path = cb_xstrdup(path);
	ch->old_path = old ? cb_xstrdup(old) : NULL;
}

/* The log is freed as cb_git_log_read's are (cb_git_log_free frees the
 * struct too, so it gets a heap copy). */
static void mk_free(mk *m)
{
	cb_git_log *log = cb_xmalloc(sizeof *log);

	*log = m->log;
	cb_git_log_free(log);
}

/* "date subject (author kind)" of each entry, joined by "; ". */
static char *entries_text(const cb_value *h)
{
	const cb_value *e = cb_value_getc(h, "entries");
	cb_buf b = CB_BUF_INIT;
	size_t i;

	for (i = 0; i < cb_value_len(e); i++) {
		const cb_value *x = cb_value_at(e, i);
		cb_buf_printf(&b, "%s%s %s (%s %s)", i ? "; " : "", cb_value_cstr(cb_value_getc(x, "date")),
		              cb_value_cstr(cb_value_getc(x, "subject")),
		              cb_value_cstr(cb_value_getc(x, "author")),
		              cb_value_cstr(cb_value_getc(x, "kind")));
	}
	return cb_buf_detach(&b);
}

static void assert_entries(const cb_value *h, const char *want)
{
	char *got;

	assert_non_null(h);
	got = entries_text(h);
	assert_string_equal(got, want);
	free(got);
}

/* c2: M a, R b -> bee, D c.  c1: A a, A b, A c.  c3: M a. */
static void test_linear_with_rename(void **state)
{
	mk m;
	cb_git_commit *c;
	cb_history *h;
	const char *tips[2];
	const cb_value *v;

	(void)state;
	mk_init(&m, 3);
	c = mk_commit(&m, "Cat", 20, 1);  /* 0: newest */
	mk_change(c, 'M', "a.md", NULL);
	c = mk_commit(&m, "Bob", 10, 2);  /* 1 */
	mk_change(c, 'M', "a.md", NULL);
	mk_change(c, 'R', "bee.md", "b.md");
	mk_change(c, 'D', "c.md", NULL);
	c = mk_commit(&m, "Ann", 1, -1);  /* 2: root */
	mk_change(c, 'A', "a.md", NULL);
	mk_change(c, 'A', "b.md", NULL);
	mk_change(c, 'A', "c.md", NULL);
	tips[0] = m.log.commits[0].id; /* the newest */
	tips[1] = m.log.commits[2].id; /* the first commit */
	h = cb_history_new(&m.log, tips, 2);
	mk_free(&m); /* the history keeps what it needs */

	v = cb_history_get(h, 0, "a.md");
	assert_entries(v, "2024-01-20 commit 0 (Cat changed); 2024-01-10 commit 1 (Bob changed); "
	                  "2024-01-01 commit 2 (Ann added)");
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "updated")), "2024-01-20");
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "added")), "2024-01-01");
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "authors_text")), "Ann, Bob and Cat");
	assert_int_equal(cb_value_len(cb_value_getc(v, "authors")), 3);
	assert_string_equal(cb_value_cstr(cb_value_getc(cb_value_at(cb_value_getc(v, "authors"), 1),
	                                                "email")),
	                    "Bob@example.org");

	/* The rename is followed back to the old name's first commit. */
	v = cb_history_get(h, 0, "bee.md");
	assert_entries(v, "2024-01-10 commit 1 (Bob renamed); 2024-01-01 commit 2 (Ann added)");
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "added")), "2024-01-01");
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "authors_text")), "Ann and Bob");
	assert_null(cb_history_get(h, 0, "b.md"));
	assert_null(cb_history_get(h, 0, "c.md")); /* deleted before the tip */
	assert_int_equal(cb_history_count(h, 0), 2);

	/* From the first commit, everything was just added. */
	assert_entries(cb_history_get(h, 1, "b.md"), "2024-01-01 commit 2 (Ann added)");
	assert_entries(cb_history_get(h, 1, "c.md"), "2024-01-01 commit 2 (Ann added)");
	assert_null(cb_history_get(h, 1, "bee.md"));
	assert_int_equal(cb_history_count(h, 1), 3);
	assert_null(cb_history_get(h, 2, "a.md")); /* no such tip */
	cb_history_free(h);
}

/* A file deleted and added again starts a new history. */
static void test_delete_and_readd(void **state)
{
	mk m;
	cb_git_commit *c;
	cb_history *h;
	const char *tips[2];

	(void)state;
	mk_init(&m, 4);
	c = mk_commit(&m, "Dan", 4, 1);
	mk_change(c, 'M', "x.md", NULL);
	c = mk_commit(&m, "Cat", 3, 2);
	mk_change(c, 'A', "x.md", NULL);
	c = mk_commit(&m, "Bob", 2, 3);
	mk_change(c, 'D', "x.md", NULL);
	c = mk_commit(&m, "Ann", 1, -1);
	mk_change(c, 'A', "x.md", NULL);
	tips[0] = m.log.commits[0].id;
	tips[1] = m.log.commits[2].id; /* right after the deletion */
	h = cb_history_new(&m.log, tips, 2);
	assert_entries(cb_history_get(h, 0, "x.md"),
	               "2024-01-04 commit 0 (Dan changed); 2024-01-03 commit 1 (Cat added)");
	assert_string_equal(cb_value_cstr(cb_value_getc(cb_history_get(h, 0, "x.md"), "authors_text")),
	                    "Cat and Dan");
	assert_null(cb_history_get(h, 1, "x.md"));
	cb_history_free(h);
	mk_free(&m);
}

/* A shallow clone's edge commit knows no changes: no "added" date. */
static void test_cut_history(void **state)
{
	mk m;
	cb_git_commit *c;
	cb_history *h;
	const char *tip;
	const cb_value *v;

	(void)state;
	mk_init(&m, 2);
	c = mk_commit(&m, "Bob", 9, 1);
	mk_change(c, 'M', "a.md", NULL);
	c = mk_commit(&m, "Ann", 5, -1);
	c->boundary = 1;
	tip = m.log.commits[0].id;
	h = cb_history_new(&m.log, &tip, 1);
	v = cb_history_get(h, 0, "a.md");
	assert_entries(v, "2024-01-09 commit 0 (Bob changed)");
	assert_null(cb_value_getc(v, "added"));
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "updated")), "2024-01-09");
	cb_history_free(h);
	mk_free(&m);
}

/* Two branches from one root, each a tip: each sees only its own side. */
static void test_branches(void **state)
{
	mk m;
	cb_git_commit *c;
	cb_history *h;
	const char *tips[2];

	(void)state;
	mk_init(&m, 3);
	c = mk_commit(&m, "Bob", 3, 2); /* 0: branch one */
	mk_change(c, 'M', "a.md", NULL);
	c = mk_commit(&m, "Cat", 2, 2); /* 1: branch two */
	mk_change(c, 'M', "a.md", NULL);
	c = mk_commit(&m, "Ann", 1, -1);
	mk_change(c, 'A', "a.md", NULL);
	tips[0] = m.log.commits[0].id;
	tips[1] = m.log.commits[1].id;
	h = cb_history_new(&m.log, tips, 2);
	assert_entries(cb_history_get(h, 0, "a.md"),
	               "2024-01-03 commit 0 (Bob changed); 2024-01-01 commit 2 (Ann added)");
	assert_entries(cb_history_get(h, 1, "a.md"),
	               "2024-01-02 commit 1 (Cat changed); 2024-01-01 commit 2 (Ann added)");
	cb_history_free(h);
	mk_free(&m);
}

/* More tips than a word of bits. */
static void test_many_tips(void **state)
{
	mk m;
	cb_git_commit *c;
	cb_history *h;
	const char *tips[70];
	size_t i;

	(void)state;
	mk_init(&m, 70);
	for (i = 0; i < 70; i++) {
		c = mk_commit(&m, "Ann", 1 + (int)(i % 28), i + 1 < 70 ? (long)i + 1 : -1);
		mk_change(c, i + 1 < 70 ? 'M' : 'A', "a.md", NULL);
	}
	for (i = 0; i < 70; i++)
		tips[i] = m.log.commits[i].id;
	h = cb_history_new(&m.log, tips, 70);
	for (i = 0; i < 70; i++)
		assert_int_equal(cb_value_len(cb_value_getc(cb_history_get(h, i, "a.md"), "entries")),
		                 70 - i);
	cb_history_free(h);
	mk_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linear_with_rename),
	    cmocka_unit_test(test_delete_and_readd),
	    cmocka_unit_test(test_cut_history),
	    cmocka_unit_test(test_branches),
	    cmocka_unit_test(test_many_tips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
