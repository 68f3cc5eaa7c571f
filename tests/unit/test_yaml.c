/* Unit tests for cb_yaml: YAML 1.2 scalars, positions, aliases, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cb_yaml.h"

static cb_value *parse(const char *text, cb_diag_list *d)
{
	cb_value *v = NULL;

	cb_yaml_parse(&v, text, strlen(text), "t.yml", 1, d);
	return v;
}

static void test_core_schema(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *v = parse("a: yes\nb: NO\nc: true\nd: ~\ne: 0x1F\nf: 1.5e3\ng: 2016-05-01\n"
	                    "h: \"12\"\ni: 2016-02-30x\nj: -7\nk: .inf\n",
	                    d);

	(void)state;
	assert_non_null(v);
	assert_int_equal(cb_value_type(cb_value_getc(v, "a")), CB_STRING); /* not YAML 1.1 bool */
	assert_string_equal(cb_value_cstr(cb_value_getc(v, "b")), "NO");
	assert_int_equal(cb_value_type(cb_value_getc(v, "c")), CB_BOOL);
	assert_int_equal(cb_value_type(cb_value_getc(v, "d")), CB_NULL);
	assert_int_equal(cb_value_int(cb_value_getc(v, "e")), 31);
	assert_true(cb_value_float(cb_value_getc(v, "f")) == 1500.0);
	assert_int_equal(cb_value_type(cb_value_getc(v, "g")), CB_DATE);
	assert_int_equal(cb_value_type(cb_value_getc(v, "h")), CB_STRING);
	assert_int_equal(cb_value_type(cb_value_getc(v, "i")), CB_STRING);
	assert_int_equal(cb_value_int(cb_value_getc(v, "j")), -7);
	assert_int_equal(cb_value_type(cb_value_getc(v, "k")), CB_FLOAT);
	assert_int_equal(cb_diag_count(d), 0);
	cb_value_unref(v);
	cb_diag_list_free(d);
}

static void test_positions(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *v = parse("title: x\nlist:\n  - one\n  - two\n", d);
	const cb_value *two;

	(void)state;
	/* line_offset 1: the text starts on line 2 of its file. */
	assert_int_equal(cb_value_key_line(v, 1), 3);
	two = cb_value_at(cb_value_getc(v, "list"), 1);
	assert_int_equal(cb_value_line(two), 5);
	assert_int_equal(cb_value_col(two), 5);
	cb_value_unref(v);
	cb_diag_list_free(d);
}

static void test_errors(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	const cb_diag *e;

	(void)state;
	assert_null(parse("a: 1\na: 2\n", d));
	e = cb_diag_at(d, 0);
	assert_string_equal(e->code, "yaml-duplicate-key");
	assert_int_equal(e->line, 3);
	assert_non_null(strstr(e->msg, "first given on line 2"));
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	assert_null(parse("a: 99999999999999999999999\n", d));
	assert_string_equal(cb_diag_at(d, 0)->code, "yaml-number");
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	assert_null(parse("a: [1, 2\n", d));
	e = cb_diag_at(d, 0);
	assert_string_equal(e->code, "yaml-syntax");
	assert_int_equal(e->line, 2);
	assert_int_equal(e->col, 4);
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	assert_null(parse("a: 1\n---\nb: 2\n", d));
	assert_string_equal(cb_diag_at(d, 0)->code, "yaml-multiple-documents");
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	assert_null(parse("a: 2016-02-30\n", d));
	assert_string_equal(cb_diag_at(d, 0)->code, "yaml-date");
	cb_diag_list_free(d);
}

static void test_aliases(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *v = parse("base: &b {x: 1}\nother: *b\n", d);
	/* "Billion laughs": each level doubles ten times. */
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

	(void)state;
	assert_non_null(v);
	assert_ptr_equal(cb_value_getc(v, "base"), cb_value_getc(v, "other")); /* shared */
	cb_value_unref(v);
	assert_null(parse(bomb, d));
	assert_string_equal(cb_diag_at(d, 0)->code, "yaml-alias-expansion");
	cb_diag_list_free(d);
}

static void test_deep_nesting(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	char buf[4096];
	int i, n = 0;

	(void)state;
	for (i = 0; i < 200; i++)
		buf[n++] = '[';
	for (i = 0; i < 200; i++)
		buf[n++] = ']';
	buf[n] = '\0';
	assert_null(parse(buf, d));
	assert_true(cb_diag_errors(d) > 0);
	cb_diag_list_free(d);
}

static void test_empty(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *v = parse("", d);

	(void)state;
	assert_int_equal(cb_value_type(v), CB_NULL);
	cb_value_unref(v);
	cb_diag_list_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_core_schema), cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_errors),      cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests_name("cb_yaml", tests, NULL, NULL);
}
