/* Unit tests for cb_path, cb_utf8 and cb_text: paths, slugs, folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cb_path.h"
#include "cb_text.h"
#include "cb_utf8.h"

static void check_norm(const char *in, const char *want)
{
	char *got = cb_path_normalize(in, strlen(in));

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_normalize(void **state)
{
	(void)state;
	check_norm("a/./b//c", "a/b/c");
	check_norm("a/b/../c", "a/c");
	check_norm("content/cases/../pages/x.md", "content/pages/x.md");
	check_norm("", "");
	check_norm("../x", NULL);
	check_norm("a/../../x", NULL);
	check_norm("/etc/passwd", NULL);
}

static void check_rel(const char *from, const char *to, const char *want)
{
	cb_buf b = CB_BUF_INIT;

	cb_path_relative(&b, from, to);
	assert_string_equal(b.ptr, want);
	cb_buf_dispose(&b);
}

static void test_relative(void **state)
{
	(void)state;
	check_rel("", "cases/a.html", "cases/a.html");
	check_rel("cases", "cases/a.html", "a.html");
	check_rel("cases", "index.html", "../index.html");
	check_rel("a/b", "a/c.html", "../c.html");
	check_rel("phase", "cases/a.html", "../cases/a.html");
	check_rel("casesx", "cases/a.html", "../cases/a.html");
	check_rel("editions/2025/cases", "editions/2025/index.html", "../index.html");
}

static void test_misc(void **state)
{
	cb_buf b = CB_BUF_INIT;
	char *d = cb_path_dirname("a/b/c.md");

	(void)state;
	assert_string_equal(d, "a/b");
	free(d);
	assert_string_equal(cb_path_ext("a/b.tar.gz"), ".gz");
	assert_string_equal(cb_path_ext("a.b/c"), "");
	assert_string_equal(cb_path_ext(".gitignore"), "");
	cb_path_root_prefix(&b, "a/b");
	assert_string_equal(b.ptr, "../../");
	cb_buf_dispose(&b);
	assert_true(cb_path_is_slug("abc-12", 6));
	assert_false(cb_path_is_slug("Abc", 3));
	assert_false(cb_path_is_slug("", 0));
	assert_true(cb_path_is_absolute_url("https://x.org"));
	assert_true(cb_path_is_absolute_url("mailto:a@b"));
	assert_true(cb_path_is_absolute_url("//cdn.example"));
	assert_false(cb_path_is_absolute_url("other.md"));
	assert_true(cb_path_is_absolute_url("a:b/c")); /* "a:" is a scheme by URL syntax */
}

static void check_slug(const char *in, const char *want)
{
	cb_buf b = CB_BUF_INIT;

	cb_utf8_slug(&b, in, strlen(in));
	assert_string_equal(b.ptr, want);
	cb_buf_dispose(&b);
}

static void test_utf8(void **state)
{
	cb_buf b = CB_BUF_INIT;
	size_t bad;
	int nul;

	(void)state;
	cb_utf8_fold(&b, "Łódź Straße ÆØ Crème", strlen("Łódź Straße ÆØ Crème"));
	assert_string_equal(b.ptr, "lodz strasse aeo creme");
	/* Appended; runs of ASCII and other letters meet at every boundary. */
	cb_utf8_fold(&b, " ABC\xc3\x89xyZ\xff", 10);
	assert_string_equal(b.ptr, "lodz strasse aeo creme abcexyz");
	assert_int_equal(b.len, strlen("lodz strasse aeo creme abcexyz"));
	cb_buf_dispose(&b);
	check_slug("What happened?", "what-happened");
	check_slug("  Lessons for practice  ", "lessons-for-practice");
	check_slug("Children's centres (UK)", "childrens-centres-uk");
	check_slug("Ελληνικά 2", "ελληνικα-2");
	check_slug("!!!", "");
	assert_true(cb_utf8_check("Łódź", strlen("Łódź"), NULL, NULL));
	assert_false(cb_utf8_check("ab\xff", 3, &bad, &nul));
	assert_int_equal(bad, 2);
	assert_false(nul);
	assert_false(cb_utf8_check("ab\0c", 4, &bad, &nul));
	assert_int_equal(bad, 2);
	assert_true(nul);
	assert_false(cb_utf8_check("\xed\xa0\x80", 3, &bad, &nul)); /* a surrogate */
	assert_int_equal(cb_utf8_chars("Łó", 4), 2);
}

/* cb_utf8_check skips ASCII 16 bytes at a time: put a NUL, a stray byte, a
 * bad sequence and a good one at every place of three blocks and the bytes
 * after them, in ASCII text, and check what is found and where. */
static void test_utf8_check_blocks(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int ok, nul;
	} put[] = {
	    {"\0", 1, 0, 1},           {"\x80", 1, 0, 0},         {"\xff", 1, 0, 0},
	    {"\xc3", 1, 0, 0},         {"\xed\xa0\x80", 3, 0, 0}, {"\xc3\xa9", 2, 1, 0},
	    {"\xe2\x80\x93", 3, 1, 0}, {"\xf0\x9f\x98\x80", 4, 1, 0},
	};
	char text[64];
	size_t k, at, len, bad;
	int nul;

	(void)state;
	for (k = 0; k < sizeof put / sizeof put[0]; k++)
		for (at = 0; at + put[k].len <= 53; at++) {
			len = at + put[k].len + (at % 7); /* some ASCII after it, or none */
			memset(text, 'a', sizeof text);
			memcpy(text + at, put[k].bytes, put[k].len);
			bad = 999;
			nul = -1;
			assert_int_equal(cb_utf8_check(text, len, &bad, &nul), put[k].ok);
			assert_int_equal(nul, put[k].nul);
			if (!put[k].ok)
				assert_int_equal(bad, at);
			/* The same bytes end the text: a sequence cut short there. */
			if (put[k].len > 1)
				assert_false(cb_utf8_check(text, at + 1, &bad, &nul));
		}
	memset(text, 'a', sizeof text);
	assert_true(cb_utf8_check(text, sizeof text, NULL, NULL));
	assert_true(cb_utf8_check(text, 0, NULL, NULL));
}

static void test_suggest(void **state)
{
	const char *const phases[] = {"co-commissioning", "co-design", "co-delivery", "co-assessment"};

	(void)state;
	assert_int_equal(cb_text_distance("kitten", "sitting", 10), 3);
	assert_int_equal(cb_text_distance("abc", "abcdefgh", 2), 3);
	assert_string_equal(cb_text_suggest("co-desing", phases, 4), "co-design");
	assert_string_equal(cb_text_suggest("co-designing", phases, 4), "co-design");
	assert_null(cb_text_suggest("policing", phases, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize), cmocka_unit_test(test_relative),
	    cmocka_unit_test(test_misc),      cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_utf8_check_blocks),
	    cmocka_unit_test(test_suggest),
	};
	return cmocka_run_group_tests_name("cb_path, cb_utf8, cb_text", tests, NULL, NULL);
}
