/* Unit tests for cb_lint (placeholders, lessons, empty sections) and the
 * schema's deference to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_lint.h"
#include "cb_md.h"
#include "cb_schema.h"

#define GOOD_FM                                                                                  \
	"---\ntitle: \"A case\"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n"

/* Parse text as content/cases/a.md, run the schema and lint; return every
 * diagnostic as "line:col code" lines. */
static char *lint(const char *text, size_t len, int *rc)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_doc_opts o;
	cb_doc *doc = NULL;
	cb_buf out = CB_BUF_INIT;
	size_t i;

	memset(&o, 0, sizeof o);
	o.find_word = CB_LINT_PLACEHOLDER;
	cb_doc_parse(&doc, CB_DOC_CASE, "content/cases/a.md", text, len, &o, d);
	assert_non_null(doc);
	if (cb_doc_meta_ok(doc))
		cb_schema_check(doc, d);
	*rc = cb_lint_case(doc, text, len, d);
	for (i = 0; i < cb_diag_count(d); i++) {
		const cb_diag *g = cb_diag_at(d, i);
		cb_buf_printf(&out, "%u:%u %s %s\n", g->line, g->col, g->code, g->msg);
	}
	cb_doc_free(doc);
	cb_diag_list_free(d);
	return cb_buf_detach(&out);
}

static char *lint_s(const char *text, int *rc)
{
	return lint(text, strlen(text), rc);
}

static void test_has_placeholder(void **state)
{
	(void)state;
	assert_true(cb_lint_has_placeholder("TODO", 4));
	assert_true(cb_lint_has_placeholder("TODO: write it", 14));
	assert_true(cb_lint_has_placeholder("Łódź (TODO)", strlen("Łódź (TODO)")));
	assert_true(cb_lint_has_placeholder("a\nTODO\n", 7));
	assert_false(cb_lint_has_placeholder("TODOS", 5));
	assert_false(cb_lint_has_placeholder("XTODO", 5));
	assert_false(cb_lint_has_placeholder("TODO_x", 6));
	assert_false(cb_lint_has_placeholder("TODOé", strlen("TODOé")));
	assert_false(cb_lint_has_placeholder("todo", 4));
	assert_false(cb_lint_has_placeholder("TOD", 3));
	assert_false(cb_lint_has_placeholder("", 0));
	/* Only the first len bytes count. */
	assert_false(cb_lint_has_placeholder("TODO", 3));
}

static void test_clean(void **state)
{
	int rc;
	char *s = lint_s(GOOD_FM "\n## Context\n\nText.\n\n## Lessons for practice\n\n- One.\n", &rc);

	(void)state;
	assert_string_equal(s, "");
	assert_int_equal(rc, 0);
	free(s);
}

static void test_front_matter_placeholders(void **state)
{
	int rc;
	char *s = lint_s("---\n"
	                 "# TODO in a comment\n"
	                 "title: \"TODO: a title\"\n"
	                 "country: [Peru, TODO]\n"
	                 "year: TODO\n"
	                 "sector: health # TODO in a comment after a value\n"
	                 "extra: {deep: [\"x\", \"it is TODO\"]}\n"
	                 "sources:\n  - >\n    folded,\n    TODO here\n"
	                 "---\n\n## Lessons for practice\n\n- One.\n",
	                 &rc);

	(void)state;
	assert_int_equal(rc, -1);
	/* At the word itself; year: TODO is not also a type error. */
	assert_string_equal(s, "3:9 placeholder title still holds a placeholder: \"TODO: a title\"\n"
	                       "4:17 placeholder country still holds a placeholder: \"TODO\"\n"
	                       "5:7 placeholder year still holds a placeholder: \"TODO\"\n"
	                       "7:28 placeholder extra still holds a placeholder: \"it is TODO\"\n"
	                       "11:5 placeholder sources still holds a placeholder: \"folded, TODO here\"\n");
	free(s);
}

static void test_body_placeholders(void **state)
{
	int rc;
	char *s;
	char line[2048];
	size_t i, n;

	(void)state;
	s = lint_s(GOOD_FM "\n## Context\n\n<!-- TODO: not this -->\n\nAbout Łódź: TODO.\n\n"
	                   "## Lessons for practice\n\n- TODO: a lesson.\n- `TODO` is code.\n",
	           &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(s, "13:13 placeholder placeholder text left: \"TODO.\"\n"
	                       "17:3 placeholder placeholder text left: \"TODO: a lesson.\"\n");
	free(s);

	/* A long line is quoted up to 60 bytes, never cutting a character. */
	s = lint_s(GOOD_FM "\n## Lessons for practice\n\n"
	                   "- TODO: ééééééééééééééééééééééééééééééééééééééééééééééééééé.\n",
	           &rc);
	assert_string_equal(s, "11:3 placeholder placeholder text left: "
	                       "\"TODO: ééééééééééééééééééééééééééé...\"\n");
	free(s);

	/* Many on one line: each at its own column. */
	n = 0;
	memcpy(line, GOOD_FM "\n## Lessons for practice\n\n- ", strlen(GOOD_FM) + 28);
	n = strlen(GOOD_FM) + 28;
	for (i = 0; i < 200; i++) {
		memcpy(line + n, "TODO ", 5);
		n += 5;
	}
	line[n++] = '\n';
	line[n] = '\0';
	s = lint(line, n, &rc);
	assert_non_null(strstr(s, "11:3 placeholder"));
	assert_non_null(strstr(s, "11:8 placeholder"));
	assert_non_null(strstr(s, "11:998 placeholder"));
	for (i = 0, n = 0; s[i]; i++)
		n += s[i] == '\n';
	assert_int_equal(n, 200);
	free(s);
}

static void test_lessons(void **state)
{
	int rc;
	char *s;

	(void)state;
	/* Missing: reported on the last line with text. */
	s = lint_s(GOOD_FM "\n## Context\n\nText.\n\n\n", &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(s, "11:1 lessons-missing the case has no 'Lessons for practice' section\n");
	free(s);
	/* A heading like it is pointed at. */
	s = lint_s(GOOD_FM "\n## Context\n\nText.\n\n### Lessons learnt\n\n- One.\n", &rc);
	assert_string_equal(s, "13:1 lessons-missing no 'Lessons for practice' section; the lessons "
	                       "page collects the items of that section only, not those under "
	                       "'Lessons learnt'\n");
	free(s);
	/* Found by slug: case and punctuation do not matter. */
	s = lint_s(GOOD_FM "\n# LESSONS FOR PRACTICE:\n\n1. One.\n", &rc);
	assert_string_equal(s, "");
	assert_int_equal(rc, 0);
	free(s);
	/* No items: prose, or nothing. */
	s = lint_s(GOOD_FM "\n## Lessons for practice\n\nOne. Two.\n", &rc);
	assert_string_equal(s, "9:1 lessons-empty the 'Lessons for practice' section has no list "
	                       "items (each item is a lesson)\n");
	free(s);
	/* Items in a sub-section are not the section's own. */
	s = lint_s(GOOD_FM "\n## Lessons for practice\n\n### More\n\n- One.\n", &rc);
	assert_non_null(strstr(s, "9:1 lessons-empty"));
	free(s);
	/* Front matter never closed, with no heading: the body is unknown, so
	 * nothing is said about its sections. */
	s = lint_s("---\ntitle: x\n\nText.\n", &rc);
	assert_string_equal(s, "1:1 front-matter-unclosed the front matter is not closed\n");
	free(s);
	/* With a heading: the fields end before it, the text begins at it, and
	 * both are checked. */
	s = lint_s("---\ntitle: x\n\n## Context\n", &rc);
	assert_non_null(strstr(s, "4:1 front-matter-unclosed the front matter runs on into the "
	                          "text: no line '---' closes it before this heading\n"));
	assert_non_null(strstr(s, "1:1 field-missing missing required field 'country'\n"));
	assert_non_null(strstr(s, "4:1 section-empty the section 'Context' is empty\n"));
	assert_null(strstr(s, "field-missing missing required field 'title'"));
	free(s);
}

static void test_empty_sections(void **state)
{
	int rc;
	char *s = lint_s(GOOD_FM "\n# Title\n\n## Context\n\n<!-- note -->\n\n## What happened\n\n"
	                         "### A\n\n### B\n\n#### C\n\n## Outcomes\n\n### D\n\nText.\n\n"
	                         "## Challenges\n\n***\n\n## Lessons for practice\n\n- One.\n",
	                 &rc);

	(void)state;
	/* Warnings only; the outermost empty section of each tree. */
	assert_int_equal(rc, 0);
	assert_string_equal(s, "11:1 section-empty the section 'Context' is empty\n"
	                       "15:1 section-empty the section 'What happened' is empty\n"
	                       "29:1 section-empty the section 'Challenges' is empty\n");
	free(s);
}

static void test_bom_crlf(void **state)
{
	int rc;
	char *s = lint_s("\xEF\xBB\xBF---\r\ntitle: \"TODO\"\r\ncountry: Peru\r\nyear: 2010\r\n"
	                 "sector: health\r\nsources: [x]\r\n---\r\n\r\n"
	                 "## Lessons for practice\r\n\r\n- é TODO\r\n",
	                 &rc);

	(void)state;
	assert_string_equal(s, "2:9 placeholder title still holds a placeholder: \"TODO\"\n"
	                       "11:5 placeholder placeholder text left: \"TODO\"\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_has_placeholder),  cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_front_matter_placeholders),
	    cmocka_unit_test(test_body_placeholders), cmocka_unit_test(test_lessons),
	    cmocka_unit_test(test_empty_sections),   cmocka_unit_test(test_bom_crlf),
	};
	cb_md_init();
	return cmocka_run_group_tests_name("cb_lint", tests, NULL, NULL);
}
