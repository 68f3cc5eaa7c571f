/* Unit tests for cb_output: the atomic output folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cb_fs.h"
#include "cb_output.h"

static char *read_all(const char *path)
{
	char *data = NULL;
	size_t len;

	if (cb_fs_read(path, 0, &data, &len) < 0)
		return NULL;
	return data;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || strncmp(e->d_name, ".site", 5) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_commit_and_abort(void **state)
{
	char base[] = "/tmp/cb-out-XXXXXX";
	char site[64], file[128], keep[128];
	cb_diag_list *d = cb_diag_list_new();
	cb_output *o = NULL;
	char *s;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(site, sizeof site, "%s/site", base);
	/* First build: the folder does not exist yet. */
	assert_int_equal(cb_output_open(&o, site, d), 0);
	assert_int_equal(cb_output_write(o, "index.html", "one", 3), 0);
	assert_int_equal(cb_output_write(o, "cases/a.html", "a", 1), 0);
	assert_int_equal(cb_output_count(o), 2);
	assert_int_equal(cb_output_commit(o), 0);
	cb_output_free(o);
	snprintf(file, sizeof file, "%s/index.html", site);
	s = read_all(file);
	assert_string_equal(s, "one");
	free(s);
	snprintf(keep, sizeof keep, "%s/.gitignore", site);
	assert_int_equal(cb_fs_write(keep, "*\n", 2), 0);

	/* A failed build: the old site stays, the temporary folder goes. */
	assert_int_equal(cb_output_open(&o, site, d), 0);
	assert_int_equal(cb_output_write(o, "index.html", "two", 3), 0);
	cb_output_free(o);
	s = read_all(file);
	assert_string_equal(s, "one");
	free(s);
	assert_int_equal(count_entries(base), 1); /* only site/ */

	/* Paths that leave the folder are refused. */
	assert_int_equal(cb_output_open(&o, site, d), 0);
	assert_int_equal(cb_output_write(o, "../escape.html", "x", 1), -1);
	assert_int_equal(cb_output_write(o, "/etc/x", "x", 1), -1);
	assert_int_equal(cb_output_write(o, "a/./b.html", "x", 1), -1);
	/* A successful build replaces the site and keeps its .gitignore. */
	assert_int_equal(cb_output_write(o, "index.html", "three", 5), 0);
	assert_int_equal(cb_output_commit(o), 0);
	cb_output_free(o);
	s = read_all(file);
	assert_string_equal(s, "three");
	free(s);
	s = read_all(keep);
	assert_string_equal(s, "*\n");
	free(s);
	snprintf(file, sizeof file, "%s/cases/a.html", site);
	assert_null(read_all(file)); /* not in the new build: gone */
	assert_int_equal(count_entries(base), 1);
	assert_int_equal(cb_diag_errors(d), 3);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

/* The text of site/path, or NULL (caller frees). */
static char *read_at(const char *site, const char *path)
{
	char full[256];

	snprintf(full, sizeof full, "%s/%s", site, path);
	return read_all(full);
}

static void assert_text(const char *site, const char *path, const char *want)
{
	char *s = read_at(site, path);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* Folders of the previous site adopted whole: moved across at the swap,
 * refused where they cannot be, moved back when the swap fails. */
static void test_adopt(void **state)
{
	char base[] = "/tmp/cb-out-XXXXXX";
	char site[64], gone[128];
	cb_diag_list *d = cb_diag_list_new();
	cb_output *o = NULL;
	struct stat before, after;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(site, sizeof site, "%s/site", base);
	assert_int_equal(cb_output_open(&o, site, d), 0);
	/* No previous site: nothing to adopt. */
	assert_int_equal(cb_output_adopt(o, "editions/1", 2), -1);
	assert_int_equal(cb_output_write(o, "index.html", "one", 3), 0);
	assert_int_equal(cb_output_write(o, "editions/1/index.html", "e1", 2), 0);
	assert_int_equal(cb_output_write(o, "editions/1/cases/a.html", "e1a", 3), 0);
	assert_int_equal(cb_output_write(o, "editions/2/index.html", "e2", 2), 0);
	assert_int_equal(cb_output_write(o, "old/x.html", "x", 1), 0);
	assert_int_equal(cb_output_commit(o), 0);
	cb_output_free(o);

	/* The next build writes the latest and takes editions/1 whole. */
	snprintf(gone, sizeof gone, "%s/editions/1/cases/a.html", site);
	assert_int_equal(lstat(gone, &before), 0);
	assert_int_equal(cb_output_open(&o, site, d), 0);
	assert_int_equal(cb_output_write(o, "index.html", "two", 3), 0);
	assert_int_equal(cb_output_write(o, "editions/2/index.html", "e2 again", 8), 0);
	assert_int_equal(cb_output_adopt(o, "editions/3", 1), -1);   /* not in the old site */
	assert_int_equal(cb_output_adopt(o, "editions/2", 1), -1);   /* written anew */
	assert_int_equal(cb_output_adopt(o, "index.html", 1), -1);   /* not a folder */
	assert_int_equal(cb_output_adopt(o, "../site/editions/1", 2), -1); /* not a site path */
	assert_int_equal(cb_output_adopt(o, "editions/1", 2), 0);
	assert_int_equal(cb_output_count(o), 4);
	/* Until the swap, the old site is whole. */
	assert_text(site, "editions/1/cases/a.html", "e1a");
	assert_int_equal(cb_output_commit(o), 0);
	cb_output_free(o);
	assert_text(site, "index.html", "two");
	assert_text(site, "editions/1/index.html", "e1");
	assert_text(site, "editions/1/cases/a.html", "e1a");
	assert_text(site, "editions/2/index.html", "e2 again");
	assert_null(read_at(site, "old/x.html"));
	assert_int_equal(lstat(gone, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino); /* moved, not copied */
	assert_int_equal(count_entries(base), 1);

	/* A swap that fails puts the adopted folders back. */
	assert_int_equal(cb_output_open(&o, site, d), 0);
	assert_int_equal(cb_output_write(o, "index.html", "three", 5), 0);
	assert_int_equal(cb_output_adopt(o, "editions/1", 2), 0);
	assert_int_equal(cb_output_adopt(o, "editions/2", 1), 0);
	snprintf(gone, sizeof gone, "%s/editions/2", site);
	assert_int_equal(cb_fs_remove_tree(gone), 0); /* gone before the swap */
	assert_int_equal(cb_diag_errors(d), 0);
	assert_int_equal(cb_output_commit(o), -1);
	assert_int_equal(cb_diag_errors(d), 1);
	cb_output_free(o);
	assert_text(site, "index.html", "two");
	assert_text(site, "editions/1/cases/a.html", "e1a");
	assert_int_equal(count_entries(base), 1);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commit_and_abort),
	    cmocka_unit_test(test_adopt),
	};
	return cmocka_run_group_tests_name("cb_output", tests, NULL, NULL);
}
