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

/* The usual mistakes, each reported where it is (lines of the file: the
 * text starts on line 2; columns in characters), with what to write. */
static void test_syntax_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line, col;
		const char *msg, *hint;
	} cases[] = {
	    {"a: 1\n\tb: 2\n", 3, 1, "a tab character in the indentation", "spaces"},
	    {"a:\n\t- x\n", 3, 1, "a tab character in the indentation", "spaces"},
	    {"city: Lyon: centre\n", 2, 11, "': ' inside a value", "city: \"Lyon: centre\""},
	    {"t: Caf\xc3\xa9: \"x\"\n", 2, 8, "': ' inside a value", "t: \"Caf\xc3\xa9: \\\"x\\\"\""},
	    {"s: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: b\n", 2, 75,
	     "': ' inside a value", "s: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""},
	    {"a: 1\n  b: 2\n", 3, 4, "'b' is indented more than the line above it",
	     "column 1, as on line 2"},
	    {"a: \"x\nb: \"y\"\nc: 1\n", 2, 4, "not closed on its line: it runs on to line 3",
	     "end it with \" on this line"},
	    {"a: 'x\nb: 2\n", 2, 4, "this quoted value is never closed", "same quote mark"},
	    {"a: [x, y\nb: 2\n", 2, 4, "this list opened with '[' is not closed", "close it with ']'"},
	    {"a: {x: 1\nb: 2\n", 2, 4, "this mapping opened with '{' is not closed", "'}'"},
	    {"a: [x, y], z]\nb: 2\n", 2, 10, "text after the closing ']'", "a: [x, y, z]"},
	    {"a: \"x\" y\n", 2, 8, "text after the closing quote", "inside the quotes"},
	    {"a:\n  - x\n - y\nc: 3\n", 4, 2, "list item is indented unlike the one above it",
	     "column 3, as on line 3"},
	    {"a:\n  x: 1\n y: 2\n", 4, 2, "indentation matches none of the fields above it",
	     "column 1, as on line 2, or at column 3, as on line 3"},
	    {"a: 1\n- b\n", 3, 1, "a list item among the fields", "'tags:'"},
	    {"a: 1\nb:2\nc: 3\n", 3, 3, "a space is missing after ':'", "space after the colon"},
	    {"a: 1\nb 2\nc: 3\n", 3, 1, "no ':' after its field's name", "'name: value'"},
	    {"a: @x\n", 2, 4, "cannot start with '@'", "a: \"@x\""},
	    /* Not one of the usual: libyaml's own words. */
	    {"a: *x\n", 2, 4, "undefined alias", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cb_diag_list *d = cb_diag_list_new();
		const cb_diag *e;

		assert_null(parse(cases[i].text, d));
		assert_int_equal(cb_diag_count(d), 1);
		e = cb_diag_at(d, 0);
		if (!strstr(e->msg, cases[i].msg) || e->line != cases[i].line ||
		    e->col != cases[i].col ||
		    (cases[i].hint && (!e->hint || !strstr(e->hint, cases[i].hint))))
			fail_msg("case %zu: %u:%u: %s (hint: %s)", i, e->line, e->col, e->msg,
			         e->hint ? e->hint : "none");
		cb_diag_list_free(d);
	}
}

/* Every one-byte change of a small front matter (to each character the
 * usual mistakes are made of) and every cut of it parses or fails with
 * diagnostics placed inside the text: the recognisers above read the lines
 * around libyaml's marks, so a mark at the end or on an empty line must not
 * take them out of it (ASan checks the reads). */
static void test_syntax_errors_placed_inside(void **state)
{
	static const char base[] = "title: \"A \\\"b\\\" c\"\ncountry: [Peru, 'Chile']\n"
	                           "sources:\n  - \"x: y\"\n  - {a: 1}\nyear: 2010 # c\n";
	static const char set[] = "\t:\"'[]{}- \n#@\\,";
	char buf[sizeof base];
	size_t n = sizeof base - 1, i, k, lines = 1;

	(void)state;
	for (i = 0; i < n; i++)
		lines += base[i] == '\n';
	for (i = 0; i <= n; i++) {
		for (k = 0; k <= sizeof set - 1; k++) {
			cb_diag_list *d;
			cb_value *v = NULL;
			size_t len = n, j;

			if (k < sizeof set - 1 && i == n)
				continue;
			memcpy(buf, base, n);
			if (k < sizeof set - 1)
				buf[i] = set[k];      /* one byte changed */
			else
				len = i;              /* cut at i */
			d = cb_diag_list_new();
			if (cb_yaml_parse(&v, buf, len, "t.yml", 1, d) < 0)
				assert_true(cb_diag_count(d) > 0);
			for (j = 0; j < cb_diag_count(d); j++) {
				const cb_diag *e = cb_diag_at(d, j);
				assert_in_range(e->line, 2, lines + 1);
				assert_in_range(e->col, 1, n + 1);
			}
			cb_value_unref(v);
			cb_diag_list_free(d);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_core_schema), cmocka_unit_test(test_positions),
	    cmocka_unit_test(test_errors),      cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_deep_nesting), cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_syntax_errors_placed_inside),
	};
	return cmocka_run_group_tests_name("cb_yaml", tests, NULL, NULL);
}
