/* Unit tests for cb_diag (formats, order) and cb_config (casebook.yml). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_config.h"
#include "cb_diag.h"
#include "cb_fs.h"

static char *print(cb_diag_list *l, cb_diag_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cb_diag_print(l, f, fmt, 0);
	fclose(f);
	return buf;
}

static void test_formats(void **state)
{
	cb_diag_list *l = cb_diag_list_new();
	char *s;

	(void)state;
	cb_diag_add(l, CB_ERROR, "unknown-term", "content/cases/b.md", 4, 9, "did you mean 'co-design'?",
	            "unknown phase '%s'", "co-desing");
	cb_diag_warn(l, "raw-html", "content/cases/a.md", 12, 3, "raw HTML, 100%% dropped");
	cb_diag_error(l, "no-config", NULL, 0, 0, "no casebook.yml");
	assert_int_equal(cb_diag_errors(l), 2);
	assert_int_equal(cb_diag_warnings(l), 1);

	s = print(l, CB_DIAG_TEXT);
	/* Sorted by path then line; a diagnostic without a path comes first. */
	assert_string_equal(s, "casebook: error: no casebook.yml\n"
	                       "content/cases/a.md:12:3: warning: raw HTML, 100% dropped\n"
	                       "content/cases/b.md:4:9: error: unknown phase 'co-desing'\n"
	                       "    hint: did you mean 'co-design'?\n");
	free(s);
	s = print(l, CB_DIAG_GITHUB);
	assert_non_null(strstr(s, "::warning file=content/cases/a.md,line=12,col=3,title=casebook raw-html::raw HTML, 100%25 dropped\n"));
	assert_non_null(strstr(s, "::error file=content/cases/b.md,line=4,col=9,title=casebook unknown-term::unknown phase 'co-desing'%0Ahint: did you mean 'co-design'?\n"));
	free(s);
	s = print(l, CB_DIAG_JSON);
	assert_non_null(strstr(s, "{\"file\": \"content/cases/b.md\", \"line\": 4, \"col\": 9, \"severity\": \"error\", \"code\": \"unknown-term\", \"message\": \"unknown phase 'co-desing'\", \"hint\": \"did you mean 'co-design'?\"}"));
	assert_non_null(strstr(s, "{\"file\": null, \"line\": 0, \"col\": 0"));
	free(s);
	cb_diag_list_free(l);

	/* No file: a workflow command with the title alone. A hint of several
	 * lines keeps its shape in text. A file-level diagnostic has no line. */
	l = cb_diag_list_new();
	cb_diag_error(l, "no-config", NULL, 0, 0, "no casebook.yml");
	cb_diag_add(l, CB_ERROR, "field-missing", "content/cases/a.md", 1, 1,
	            "sources:\n  - \"A, B. (2010).\"", "missing required field 'sources'");
	cb_diag_add(l, CB_ERROR, "case-symlink", "content/cases/b.md", 0, 0, NULL, "a link");
	s = print(l, CB_DIAG_GITHUB);
	assert_string_equal(s, "::error title=casebook no-config::no casebook.yml\n"
	                       "::error file=content/cases/a.md,line=1,col=1,title=casebook "
	                       "field-missing::missing required field 'sources'%0Ahint: sources:%0A  - "
	                       "\"A, B. (2010).\"\n"
	                       "::error file=content/cases/b.md,title=casebook case-symlink::a link\n");
	free(s);
	s = print(l, CB_DIAG_TEXT);
	assert_string_equal(s, "casebook: error: no casebook.yml\n"
	                       "content/cases/a.md:1:1: error: missing required field 'sources'\n"
	                       "    hint: sources:\n"
	                       "            - \"A, B. (2010).\"\n"
	                       "content/cases/b.md: error: a link\n");
	free(s);
	cb_diag_list_free(l);

	l = cb_diag_list_new();
	s = print(l, CB_DIAG_JSON);
	assert_string_equal(s, "[]\n");
	free(s);
	cb_diag_list_free(l);
}

static cb_source *source_with(const char *yml, char *dir)
{
	cb_source *src = NULL;
	char path[300];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/casebook.yml", dir);
	assert_int_equal(cb_fs_write(path, yml, strlen(yml)), 0);
	assert_int_equal(cb_source_open_dir(&src, dir), 0);
	return src;
}

static void test_config(void **state)
{
	char dir[] = "/tmp/cb-config-XXXXXX";
	cb_source *src = source_with("title: T\nplugins: [classify, lessons]\nlessons: {x: 1}\n"
	                             "base_url: https://example.org/hb/\nthme: dark\n"
	                             "plugin_limits: {memory_mb: 0}\n",
	                             dir);
	cb_diag_list *d = cb_diag_list_new();
	cb_config *cfg = NULL;

	(void)state;
	assert_int_equal(cb_config_load(&cfg, src, d), -1);
	assert_non_null(cfg);
	assert_string_equal(cb_config_title(cfg), "T");
	assert_string_equal(cb_config_language(cfg), "en");
	assert_string_equal(cb_config_base_url(cfg), "https://example.org/hb");
	assert_int_equal(cb_config_plugin_count(cfg), 2);
	assert_string_equal(cb_config_plugin(cfg, 1), "lessons");
	/* A plugin's own key is fine; a typo is a warning with a suggestion; a
	 * bad limit is an error at its line. */
	assert_int_equal(cb_diag_warnings(d), 1);
	assert_int_equal(cb_diag_errors(d), 1);
	assert_int_equal(cb_diag_at(d, 0)->line, 5);
	assert_string_equal(cb_diag_at(d, 0)->hint, "did you mean 'theme'?");
	assert_int_equal(cb_diag_at(d, 1)->line, 6);
	cb_config_free(cfg);
	cb_diag_list_free(d);
	cb_source_free(src);
	cb_fs_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests_name("cb_diag, cb_config", tests, NULL, NULL);
}
