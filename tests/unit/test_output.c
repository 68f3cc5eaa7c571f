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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commit_and_abort),
	};
	return cmocka_run_group_tests_name("cb_output", tests, NULL, NULL);
}
