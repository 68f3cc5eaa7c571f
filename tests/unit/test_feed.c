/* Unit tests for cb_feed (XML escaping, case dates) and cb_export (CSV). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_export.h"
#include "cb_feed.h"

static void test_xml(void **state)
{
	cb_buf b = CB_BUF_INIT;
	const char s[] = "a<b>&\"c'\x01\td\xC5\x81";

	(void)state;
	cb_feed_put_xml(&b, s, sizeof s - 1);
	assert_string_equal(b.ptr, "a&lt;b&gt;&amp;&quot;c&apos;\td\xC5\x81");
	cb_buf_dispose(&b);
}

static cb_doc *doc(const char *fm)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_doc *out = NULL;
	char *text = NULL;
	cb_doc_opts o;

	memset(&o, 0, sizeof o);

	assert_true(asprintf(&text, "---\n%s---\n\n## Context\n\nx\n", fm) > 0);
	cb_doc_parse(&out, CB_DOC_CASE, "content/cases/a.md", text, strlen(text), &o, d);
	free(text);
	cb_diag_list_free(d);
	assert_non_null(out);
	return out;
}

static void test_dates(void **state)
{
	cb_doc *a = doc("title: A\nyear: 2012\n"), *b = doc("title: B\n");
	cb_value *h = cb_value_new_map();
	char date[11];

	(void)state;
	assert_int_equal(cb_feed_case_date(a, date), 0);
	assert_string_equal(date, "2012-01-01");
	assert_int_equal(cb_feed_case_date(b, date), -1);
	/* A history date, as a string or a date value, comes first. */
	cb_value_set_str(h, "updated", "2024-03-05");
	cb_doc_set_var(a, "history", h);
	assert_int_equal(cb_feed_case_date(a, date), 0);
	assert_string_equal(date, "2024-03-05");
	h = cb_value_new_map();
	cb_value_setc(h, "updated", cb_value_new_date(2025, 11, 2));
	cb_doc_set_var(a, "history", h);
	assert_int_equal(cb_feed_case_date(a, date), 0);
	assert_string_equal(date, "2025-11-02");
	h = cb_value_new_map();
	cb_value_set_str(h, "updated", "yesterday");
	cb_doc_set_var(a, "history", h);
	assert_int_equal(cb_feed_case_date(a, date), 0);
	assert_string_equal(date, "2012-01-01");
	cb_doc_free(a);
	cb_doc_free(b);
}

static char *field(const char *s)
{
	cb_buf b = CB_BUF_INIT;

	cb_export_csv_field(&b, s, strlen(s));
	return cb_buf_detach(&b);
}

static void test_csv(void **state)
{
	char *f;
	cb_value *l = cb_value_new_list(), *m = cb_value_new_map();
	cb_buf b = CB_BUF_INIT;

	(void)state;
	f = field("plain text; with semicolon");
	assert_string_equal(f, "plain text; with semicolon");
	free(f);
	f = field("a, b");
	assert_string_equal(f, "\"a, b\"");
	free(f);
	f = field("say \"hi\"");
	assert_string_equal(f, "\"say \"\"hi\"\"\"");
	free(f);
	f = field("two\r\nlines");
	assert_string_equal(f, "\"two\r\nlines\"");
	free(f);
	f = field("");
	assert_string_equal(f, "");
	free(f);
	cb_value_push(l, cb_value_new_cstr("Belgium"));
	cb_value_push(l, cb_value_new_int(2012));
	cb_value_push(l, cb_value_new_bool(1));
	cb_export_cell_text(&b, l);
	assert_string_equal(b.ptr, "Belgium; 2012; true");
	cb_buf_clear(&b);
	cb_value_set_str(m, "k", "v");
	cb_export_cell_text(&b, m);
	assert_string_equal(b.ptr, "{\"k\":\"v\"}");
	cb_buf_clear(&b);
	cb_export_cell_text(&b, NULL);
	assert_string_equal(b.ptr, "");
	cb_buf_dispose(&b);
	cb_value_unref(l);
	cb_value_unref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_csv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
