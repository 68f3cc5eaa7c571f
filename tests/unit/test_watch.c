/* Unit tests for cb_watch: which changes to a source folder are noticed.
 * inotify queues an event before the system call that caused it returns,
 * so every change is readable at once: no sleeping, no timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cb_fs.h"
#include "cb_mem.h"
#include "cb_watch.h"

typedef struct fixture {
	char dir[64];
	cb_watch *w;
} fixture;

static char *at(const fixture *f, const char *rel)
{
	return cb_xasprintf("%s/%s", f->dir, rel);
}

static void put(const fixture *f, const char *rel, const char *text)
{
	char *p = at(f, rel);

	assert_int_equal(cb_fs_write(p, text, strlen(text)), 0);
	free(p);
}

static void make_dir(const fixture *f, const char *rel)
{
	char *p = at(f, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void move(const fixture *f, const char *from, const char *to)
{
	char *a = at(f, from), *b = at(f, to);

	assert_int_equal(rename(a, b), 0);
	free(a);
	free(b);
}

static void removed(const fixture *f, const char *rel)
{
	char *p = at(f, rel);

	assert_int_equal(cb_fs_remove_tree(p), 0);
	free(p);
}

/* Read what is waiting and check the list of changes is exactly `want`
 * (a NULL-terminated list), then clear it. */
static void expect(const fixture *f, const char *const *want)
{
	size_t n = 0, i;

	assert_true(cb_watch_read(f->w) >= 0);
	while (want[n])
		n++;
	if (cb_watch_changes(f->w) != n) {
		for (i = 0; i < cb_watch_changes(f->w); i++)
			print_message("changed: %s\n", cb_watch_change(f->w, i));
		fail_msg("%zu changes, wanted %zu", cb_watch_changes(f->w), n);
	}
	for (i = 0; i < n; i++)
		assert_string_equal(cb_watch_change(f->w, i), want[i]);
	cb_watch_clear(f->w);
}

#define EXPECT(f, ...)                                                                         \
	do {                                                                                   \
		const char *const want_[] = {__VA_ARGS__, NULL};                               \
		expect(f, want_);                                                              \
	} while (0)

static void expect_nothing(const fixture *f)
{
	const char *const none[] = {NULL};
	expect(f, none);
}

static int setup(void **state)
{
	static const char *const names[] = {"casebook.yml", "content", "themes", NULL};
	fixture *f = calloc(1, sizeof *f);

	strcpy(f->dir, "/tmp/cb-watch-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	put(f, "casebook.yml", "title: x\n");
	make_dir(f, "content");
	make_dir(f, "content/cases");
	make_dir(f, "content/cases/img");
	make_dir(f, "site");
	put(f, "content/cases/a.md", "a");
	assert_int_equal(cb_watch_new(&f->w), 0);
	assert_int_equal(cb_watch_add(f->w, f->dir, names), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	cb_watch_free(f->w);
	cb_fs_remove_tree(f->dir);
	free(f);
	return 0;
}

static void test_files(void **state)
{
	const fixture *f = *state;

	/* The root, content, content/cases and content/cases/img. */
	assert_int_equal(cb_watch_count(f->w), 4);
	expect_nothing(f);
	put(f, "content/cases/a.md", "changed");
	EXPECT(f, "content/cases/a.md");
	put(f, "casebook.yml", "title: y\n");
	EXPECT(f, "casebook.yml");
	put(f, "content/cases/img/map.png", "png");
	put(f, "content/cases/b.md", "b");
	put(f, "content/cases/a.md", "again");
	EXPECT(f, "content/cases/img/map.png", "content/cases/b.md", "content/cases/a.md");
	removed(f, "content/cases/b.md");
	EXPECT(f, "content/cases/b.md");
	/* The rest of the root is not the source. */
	put(f, "site/index.html", "out");
	put(f, "notes.txt", "n");
	expect_nothing(f);
}

static void test_scratch_files(void **state)
{
	const fixture *f = *state;

	put(f, "content/cases/.a.md.swp", "vim");
	put(f, "content/cases/a.md~", "backup");
	put(f, "content/cases/#a.md#", "emacs");
	put(f, "content/cases/.#a.md", "emacs lock");
	put(f, "content/cases/4913", "vim probe");
	expect_nothing(f);
	/* Save by writing a temporary file and renaming it over the case:
	 * only the case changed. */
	put(f, "content/cases/sedX1b2c3", "new a");
	move(f, "content/cases/sedX1b2c3", "content/cases/a.md");
	EXPECT(f, "content/cases/a.md");
	/* A file that came and went between two reads is no change either. */
	put(f, "content/cases/tmp123", "t");
	assert_true(cb_watch_read(f->w) > 0);
	removed(f, "content/cases/tmp123");
	expect_nothing(f);
}

static void test_new_folders(void **state)
{
	const fixture *f = *state;

	/* A new sub-folder is watched as soon as it is seen. */
	make_dir(f, "content/cases/docs");
	EXPECT(f, "content/cases/docs");
	put(f, "content/cases/docs/report.pdf", "pdf");
	EXPECT(f, "content/cases/docs/report.pdf");
	/* Renamed: watched under its new name, not its old one. */
	move(f, "content/cases/docs", "content/cases/files");
	EXPECT(f, "content/cases/docs", "content/cases/files");
	put(f, "content/cases/files/report.pdf", "pdf 2");
	EXPECT(f, "content/cases/files/report.pdf");
	/* A named folder that did not exist at first (themes/), nested. */
	make_dir(f, "themes");
	EXPECT(f, "themes");
	make_dir(f, "themes/mine");
	EXPECT(f, "themes/mine");
	make_dir(f, "themes/mine/templates");
	EXPECT(f, "themes/mine/templates");
	put(f, "themes/mine/templates/case.mustache", "{{title}}");
	EXPECT(f, "themes/mine/templates/case.mustache");
	/* Hidden folders are not content. */
	make_dir(f, "content/.git");
	put(f, "content/.git/HEAD", "ref");
	expect_nothing(f);
	/* A deleted folder stops being watched. */
	removed(f, "themes");
	assert_true(cb_watch_read(f->w) > 0);
	cb_watch_clear(f->w);
	assert_int_equal(cb_watch_count(f->w), 5); /* root, content, cases, img, files */
}

static void test_missing_root(void **state)
{
	static const char *const names[] = {"content", NULL};
	cb_watch *w = NULL;

	(void)state;
	assert_int_equal(cb_watch_new(&w), 0);
	assert_true(cb_watch_add(w, "/tmp/cb-watch-does-not-exist", names) < 0);
	assert_int_equal(cb_watch_count(w), 0);
	assert_int_equal(cb_watch_read(w), 0);
	cb_watch_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scratch_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_folders, setup, teardown),
	    cmocka_unit_test(test_missing_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
