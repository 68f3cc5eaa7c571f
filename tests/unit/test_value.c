/* Unit tests for cb_value: the shared value tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "cb_buf.h"
#include "cb_mem.h"
#include "cb_value.h"

static void test_scalars(void **state)
{
	cb_value *v;
	size_t len;
	int y, m, d;

	(void)state;
	v = cb_value_new_string("a\0b", 3);
	assert_int_equal(cb_value_type(v), CB_STRING);
	assert_memory_equal(cb_value_str(v, &len), "a\0b", 3);
	assert_int_equal(len, 3);
	assert_null(cb_value_cstr(NULL));
	cb_value_unref(v);

	v = cb_value_new_date(2024, 2, 29);
	assert_non_null(v);
	assert_true(cb_value_date(v, &y, &m, &d));
	assert_int_equal(y * 10000 + m * 100 + d, 20240229);
	cb_value_unref(v);
	assert_null(cb_value_new_date(2023, 2, 29));
	assert_null(cb_value_new_date(2023, 13, 1));

	v = cb_value_new_int(7);
	assert_int_equal(cb_value_int(v), 7);
	assert_true(cb_value_float(v) == 7.0);
	assert_int_equal(cb_value_bool(v), 0); /* not a boolean */
	cb_value_unref(v);
	assert_int_equal(cb_value_type(NULL), CB_NULL);
}

static void test_map_order_and_replace(void **state)
{
	cb_value *m = cb_value_new_map();
	char key[16];
	int i;

	(void)state;
	cb_value_set_int(m, "b", 1);
	cb_value_set_int(m, "a", 2);
	cb_value_set_int(m, "b", 3); /* replaces in place */
	assert_int_equal(cb_value_len(m), 2);
	assert_string_equal(cb_value_key(m, 0, NULL), "b");
	assert_int_equal(cb_value_int(cb_value_getc(m, "b")), 3);
	/* Past the hash threshold, lookups, replacement and deletion still work. */
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		cb_value_set_int(m, key, i);
	}
	for (i = 0; i < 2000; i += 7) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(cb_value_int(cb_value_getc(m, key)), i);
	}
	assert_true(cb_value_del(m, "k5"));
	assert_false(cb_value_del(m, "k5"));
	assert_null(cb_value_getc(m, "k5"));
	assert_int_equal(cb_value_int(cb_value_getc(m, "k6")), 6);
	assert_string_equal(cb_value_key(m, 2, NULL), "k0");
	assert_null(cb_value_getc(m, "missing"));
	cb_value_unref(m);
}

static void test_text(void **state)
{
	cb_buf b = CB_BUF_INIT;
	cb_value *v;

	(void)state;
	v = cb_value_new_float(1.21);
	cb_value_text(v, &b);
	assert_string_equal(b.ptr, "1.21");
	cb_value_unref(v);
	cb_buf_clear(&b);
	v = cb_value_new_float(0.1 + 0.2);
	cb_value_text(v, &b);
	assert_string_equal(b.ptr, "0.30000000000000004");
	cb_value_unref(v);
	cb_buf_clear(&b);
	v = cb_value_new_float(300.0);
	cb_value_text(v, &b);
	assert_string_equal(b.ptr, "300");
	cb_value_unref(v);
	cb_buf_clear(&b);
	v = cb_value_new_float(1e20);
	cb_value_text(v, &b);
	assert_string_equal(b.ptr, "1e+20");
	cb_value_unref(v);
	cb_buf_clear(&b);
	v = cb_value_new_date(2025, 6, 1);
	cb_value_text(v, &b);
	assert_string_equal(b.ptr, "2025-06-01");
	cb_value_unref(v);
	cb_buf_dispose(&b);
}

static void test_json(void **state)
{
	cb_value *m = cb_value_new_map(), *l = cb_value_new_list();
	cb_buf b = CB_BUF_INIT;

	(void)state;
	cb_value_push(l, cb_value_new_int(1));
	cb_value_push(l, cb_value_new_null());
	cb_value_push(l, cb_value_new_float(NAN));
	cb_value_setc(m, "list", l);
	cb_value_set_str(m, "s", "q\"\\\n\x01</script>\xE2\x80\xA8");
	cb_value_set_bool(m, "t", 1);
	cb_value_json(m, &b, 0);
	assert_string_equal(b.ptr, "{\"list\":[1,null,null],\"s\":\"q\\\"\\\\\\n\\u0001<\\/script>\\u2028\",\"t\":true}");
	cb_buf_clear(&b);
	cb_value_json(cb_value_getc(m, "list"), &b, 2);
	assert_string_equal(b.ptr, "[\n  1,\n  null,\n  null\n]");
	cb_buf_dispose(&b);
	cb_value_unref(m);
}

/* What cb_value_json_flushing hands out: the pieces, and their sizes. */
typedef struct pieces {
	cb_buf all;
	size_t n, smallest;
} pieces;

static void take_piece(void *ctx, const char *data, size_t len)
{
	pieces *p = ctx;

	cb_buf_put(&p->all, data, len);
	if (p->n++ == 0 || len < p->smallest)
		p->smallest = len;
}

/* JSON handed out in pieces is the JSON written whole: pieces of at least
 * the chunk size, cut between values, with the rest left in the buffer. */
static void test_json_flushing(void **state)
{
	cb_value *v = cb_value_new_list();
	cb_buf whole = CB_BUF_INIT, rest = CB_BUF_INIT;
	pieces p = {CB_BUF_INIT, 0, 0};
	int indent, i;

	(void)state;
	for (i = 0; i < 500; i++) {
		cb_value *m = cb_value_new_map(), *l = cb_value_new_list();
		cb_value_set_int(m, "i", i);
		cb_value_set_str(m, "text", "a lesson's text, \"quoted\"");
		cb_value_push(l, cb_value_new_cstr("x"));
		cb_value_push(l, cb_value_new_float(1.5));
		cb_value_setc(m, "list", l);
		cb_value_push(v, m);
	}
	for (indent = 0; indent <= 2; indent += 2) {
		cb_buf_clear(&whole);
		cb_buf_clear(&rest);
		cb_buf_clear(&p.all);
		p.n = 0;
		cb_value_json(v, &whole, indent);
		cb_value_json_flushing(v, &rest, indent, 1000, take_piece, &p);
		assert_true(p.n >= whole.len / 2000);
		assert_true(p.smallest >= 1000);
		assert_true(rest.len < 1000 + 200); /* one item past the cut at most */
		cb_buf_put(&p.all, rest.ptr, rest.len);
		assert_int_equal(p.all.len, whole.len);
		assert_memory_equal(p.all.ptr, whole.ptr, whole.len);
	}
	/* A scalar, or JSON under the chunk size: nothing is flushed. */
	p.n = 0;
	cb_buf_clear(&rest);
	cb_value_json_flushing(cb_value_at(v, 0), &rest, 0, 1000, take_piece, &p);
	assert_int_equal(p.n, 0);
	assert_string_equal(rest.ptr, "{\"i\":0,\"text\":\"a lesson's text, \\\"quoted\\\"\",\"list\":[\"x\",1.5]}");
	cb_buf_dispose(&whole);
	cb_buf_dispose(&rest);
	cb_buf_dispose(&p.all);
	cb_value_unref(v);
}

static void test_equal_copy_sharing(void **state)
{
	cb_value *a = cb_value_new_map(), *shared = cb_value_new_list(), *c;

	(void)state;
	cb_value_push(shared, cb_value_new_cstr("x"));
	cb_value_setc(a, "one", cb_value_ref(shared));
	cb_value_setc(a, "two", shared); /* the same subtree twice */
	c = cb_value_copy(a);
	assert_true(cb_value_equal(a, c));
	cb_value_push(cb_value_getc(c, "one"), cb_value_new_int(1));
	assert_false(cb_value_equal(a, c)); /* the copy is deep */
	/* The shared subtree is changed through either key. */
	cb_value_push(cb_value_getc(a, "one"), cb_value_new_int(2));
	assert_int_equal(cb_value_len(cb_value_getc(a, "two")), 2);
	cb_value_unref(a);
	cb_value_unref(c);
}

/* Reserving room changes nothing visible: lengths, order and lookups are
 * as without it, also past the reserved size and the hash index size. */
static void test_reserve(void **state)
{
	cb_value *l = cb_value_new_list(), *m = cb_value_new_map(), *s = cb_value_new_cstr("x");
	char key[16];
	int i;

	(void)state;
	cb_value_reserve(l, 3);
	cb_value_reserve(m, 3);
	cb_value_reserve(s, 3); /* not a container: nothing happens */
	assert_int_equal(cb_value_len(l), 0);
	assert_int_equal(cb_value_len(m), 0);
	assert_string_equal(cb_value_cstr(s), "x");
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "k%d", i);
		cb_value_push(l, cb_value_new_int(i));
		cb_value_setc(m, key, cb_value_new_int(i));
		if (i == 1) {
			cb_value_reserve(l, 1); /* smaller than the length: nothing happens */
			cb_value_reserve(m, 12);
		}
	}
	assert_int_equal(cb_value_len(l), 20);
	assert_int_equal(cb_value_len(m), 20);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(cb_value_int(cb_value_at(l, (size_t)i)), i);
		assert_int_equal(cb_value_int(cb_value_getc(m, key)), i);
		assert_string_equal(cb_value_key(m, (size_t)i, NULL), key);
	}
	cb_value_unref(l);
	cb_value_unref(m);
	cb_value_unref(s);
}

static void *ref_storm(void *arg)
{
	cb_value *v = arg;
	int i;

	for (i = 0; i < 100000; i++)
		cb_value_unref(cb_value_ref(v));
	return NULL;
}

static void test_atomic_refs(void **state)
{
	cb_value *v = cb_value_new_cstr("shared");
	pthread_t t[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, ref_storm, v);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_string_equal(cb_value_cstr(v), "shared"); /* still alive, one ref left */
	cb_value_unref(v);
}

/* put (an escape) on text, whose byte at is escaped or not: the bytes
 * before and after it are copied as they are, and an escape starts with
 * first. */
static void check_escaped(void (*put)(cb_buf *, const char *, size_t), const char *text,
                          size_t at, int escaped, char first)
{
	cb_buf b = CB_BUF_INIT;
	size_t len = strlen(text);

	put(&b, text, len);
	assert_int_equal(b.len != len, escaped);
	assert_memory_equal(b.ptr, text, at);
	assert_string_equal(b.ptr + b.len - (len - 1 - at), text + at + 1);
	if (escaped)
		assert_int_equal(b.ptr[at], first);
	cb_buf_dispose(&b);
}

/* cb_buf's escapes: every byte HTML or JSON changes, and the bytes around
 * them (most of a text) copied as they are, at the start, middle and end. */
static void test_buf_escapes(void **state)
{
	/* "—" is e2 80 94: its first byte starts U+2028 and U+2029 too. */
	static const char in[] = "<a href='x'>\"Tom\" & \\ \x01\t\r\n\x7f\x1f</p> \xe2\x80\x94 "
	                         "\xe2\x80\xa8\xe2\x80\xa9<\xe2";
	cb_buf b = CB_BUF_INIT;
	int c;

	(void)state;
	cb_buf_put_html(&b, in, sizeof in - 1);
	assert_string_equal(b.ptr, "&lt;a href=&#39;x&#39;&gt;&quot;Tom&quot; &amp; \\ \x01\t\r\n\x7f"
	                           "\x1f&lt;/p&gt; \xe2\x80\x94 \xe2\x80\xa8\xe2\x80\xa9&lt;\xe2");
	cb_buf_clear(&b);
	cb_buf_put_json(&b, in, sizeof in - 1);
	assert_string_equal(b.ptr, "<a href='x'>\\\"Tom\\\" & \\\\ \\u0001\\t\\r\\n\\u007f\\u001f<\\/p> "
	                           "\xe2\x80\x94 \\u2028\\u2029<\xe2");
	/* Every other byte is copied. */
	for (c = 1; c < 256; c++) {
		char one[2] = {(char)c, 0};
		int html = strchr("&<>\"'", c) != NULL;
		int json = c < 0x20 || c == 0x7f || c == '"' || c == '\\';
		cb_buf_clear(&b);
		cb_buf_put_html(&b, one, 1);
		assert_int_equal(b.len != 1, html);
		cb_buf_clear(&b);
		cb_buf_put_json(&b, one, 1);
		assert_int_equal(b.len != 1, json);
	}
	/* The same byte inside a longer text, at each place of the 16-byte
	 * blocks the scan takes at a time and of the bytes after the last
	 * block: found there, the rest copied around it. */
	for (c = 1; c < 256; c++) {
		static const size_t at[] = {0, 1, 14, 15, 16, 17, 31, 32, 40, 46};
		size_t k;
		for (k = 0; k < sizeof at / sizeof at[0]; k++) {
			char text[48];
			int html = strchr("&<>\"'", c) != NULL;
			int json = c < 0x20 || c == 0x7f || c == '"' || c == '\\';
			memset(text, 'x', sizeof text - 1);
			text[sizeof text - 1] = '\0';
			text[at[k]] = (char)c;
			check_escaped(cb_buf_put_html, text, at[k], html, '&');
			check_escaped(cb_buf_put_json, text, at[k], json, '\\');
		}
	}
	cb_buf_dispose(&b);
}

/* cb_buf_printf and cb_xasprintf: short and long results, and results
 * around the room a buffer has (they format once, and again when the
 * first try did not fit). */
static void test_printf(void **state)
{
	char big[1001];
	cb_buf b = CB_BUF_INIT;
	size_t n;
	char *p;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cb_buf_printf(&b, "%d-%s", 42, "a");
	assert_string_equal(b.ptr, "42-a");
	cb_buf_printf(&b, "[%s]", big);
	assert_int_equal(b.len, 4 + 1002);
	assert_memory_equal(b.ptr + 4, "[xxx", 4);
	assert_string_equal(b.ptr + b.len - 3, "xx]");
	cb_buf_dispose(&b);
	/* Results shorter and longer than the room the buffer has. */
	for (n = 0; n < 200; n++) {
		size_t before;
		cb_buf_grow(&b, 300);
		while (b.cap - b.len > 65 + n % 70)
			cb_buf_putc(&b, 'y');
		before = b.len;
		cb_buf_printf(&b, "%.*s|", (int)n, big);
		assert_int_equal(b.len, before + n + 1);
		assert_int_equal(b.ptr[b.len - 1], '|');
		assert_int_equal(b.ptr[b.len], '\0');
		assert_int_equal(b.ptr[before], n ? 'x' : '|');
		cb_buf_dispose(&b);
	}
	p = cb_xasprintf("%s/%d", "cases", 7);
	assert_string_equal(p, "cases/7");
	free(p);
	for (n = 250; n < 260; n++) {
		p = cb_xasprintf("%.*s!", (int)n, big);
		assert_int_equal(strlen(p), n + 1);
		assert_int_equal(p[n], '!');
		free(p);
	}
	p = cb_xasprintf("%s", big);
	assert_string_equal(p, big);
	free(p);
}

/* cb_buf_put_uint writes what "%llu" writes. */
static void test_put_uint(void **state)
{
	const unsigned long long v[] = {0, 1, 9, 10, 99, 100, 12345, 4294967295ULL, 4294967296ULL,
	                                18446744073709551615ULL};
	cb_buf b = CB_BUF_INIT;
	char want[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		cb_buf_clear(&b);
		cb_buf_putc(&b, '<');
		cb_buf_put_uint(&b, v[i]);
		cb_buf_putc(&b, '>');
		snprintf(want, sizeof want, "<%llu>", v[i]);
		assert_string_equal(b.ptr, want);
	}
	cb_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),      cmocka_unit_test(test_map_order_and_replace),
	    cmocka_unit_test(test_text),         cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_flushing),
	    cmocka_unit_test(test_equal_copy_sharing), cmocka_unit_test(test_atomic_refs),
	    cmocka_unit_test(test_reserve),      cmocka_unit_test(test_buf_escapes),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_put_uint),
	};
	return cmocka_run_group_tests_name("cb_value", tests, NULL, NULL);
}
