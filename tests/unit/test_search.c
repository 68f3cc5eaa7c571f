/* Unit tests for cb_search (the search index) and the folding and word
 * splitting it relies on (cb_utf8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_search.h"
#include "cb_utf8.h"

/* tests/fold-cases.txt is shared with the browser tests, which check that
 * the theme's script folds every line the same way. */
static void test_fold_table(void **state)
{
	FILE *f = fopen("tests/fold-cases.txt", "r");
	char line[512];
	int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t'), *nl;
		cb_buf b = CB_BUF_INIT;
		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		if ((nl = strchr(tab + 1, '\n')))
			*nl = '\0';
		cb_utf8_fold(&b, line, strlen(line));
		if (strcmp(b.ptr, tab + 1) != 0)
			fail_msg("fold(%s) = %s, want %s", line, b.ptr, tab + 1);
		cb_buf_dispose(&b);
		n++;
	}
	fclose(f);
	assert_true(n >= 20);
}

static void test_words(void **state)
{
	const char *s = "co-production's 2012\xE2\x80\x93" "2015: \xCE\xB1\xCE\xB8\xCE\xAE\xCE\xBD\xCE\xB1, x\xFFy";
	const char *want[] = {"co", "production", "s", "2012", "2015", "\xCE\xB1\xCE\xB8\xCE\xAE\xCE\xBD\xCE\xB1", "x", "y"};
	size_t pos = 0, start, len, n = 0;

	(void)state;
	while (cb_utf8_next_word(s, strlen(s), &pos, &start, &len)) {
		assert_true(n < 8);
		assert_int_equal(len, strlen(want[n]));
		assert_memory_equal(s + start, want[n], len);
		n++;
	}
	assert_int_equal(n, 8);
	/* Folding takes runs of ASCII 16 bytes at a time: upper case at both
	 * ends of a block ('@' 'A' 'Z' '[' around the letters), and a
	 * character of several bytes inside the second block and at the end. */
	{
		static const char in[] = "@AZ[`az{ THE QUICK BROWN FOX\xC3\x89 JUMPS OVER THE LAZY DOG\xC3\x9F";
		cb_buf b = CB_BUF_INIT;
		cb_utf8_fold(&b, in, sizeof in - 1);
		assert_string_equal(b.ptr, "@az[`az{ the quick brown foxe jumps over the lazy dogss");
		cb_buf_dispose(&b);
	}
	pos = 0;
	assert_int_equal(cb_utf8_next_word(" ,;", 3, &pos, &start, &len), 0);
	assert_int_equal(pos, 3);
	/* ASCII letters and digits next to the bytes around them ('/' ':' '@'
	 * '[' '`' '{'), and letters of other scripts inside a word. */
	{
		const char *t = "/09:AZ@az[na\xC3\xAFve`Z{\xC3\xA9t\xC3\xA9";
		const char *w[] = {"09", "AZ", "az", "na\xC3\xAFve", "Z", "\xC3\xA9t\xC3\xA9"};
		pos = 0;
		for (n = 0; cb_utf8_next_word(t, strlen(t), &pos, &start, &len); n++) {
			assert_true(n < 6);
			assert_int_equal(len, strlen(w[n]));
			assert_memory_equal(t + start, w[n], len);
		}
		assert_int_equal(n, 6);
	}
}

/* ---- reading what the index wrote ---------------------------------------- */

/* The posting string of word w in a written word part, or NULL. */
static char *postings_of(const char *part, const char *w)
{
	const char *words = strstr(part, "\"w\":[");
	const char *posts = strstr(part, "\"p\":[");
	char *q = NULL;
	size_t idx = 0;
	const char *p;

	assert_non_null(words);
	assert_non_null(posts);
	p = words + 5;
	while (*p == '"') {
		const char *e = strchr(p + 1, '"');
		if ((size_t)(e - p - 1) == strlen(w) && memcmp(p + 1, w, strlen(w)) == 0)
			break;
		idx++;
		p = e + 1;
		if (*p == ',')
			p++;
	}
	if (*p != '"')
		return NULL;
	p = posts + 5;
	while (idx--) {
		p = strchr(p + 1, '"') + 1;
		if (*p == ',')
			p++;
	}
	q = strndup(p + 1, (size_t)(strchr(p + 1, '"') - p - 1));
	return q;
}

/* Decode postings into "item:fields item:fields ...". */
static char *decode(const char *s)
{
	char out[1024] = "";
	unsigned long long v = 0, cur = 0;
	size_t i, len = strlen(s);

	for (i = 0; i <= len; i++) {
		char c = i < len ? s[i] : ',';
		if (c == ',') {
			v += cur;
			cur = 0;
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%llu:%llu",
			         *out ? " " : "", v >> 4, v & 15);
		} else {
			cur = cur * 36 + (unsigned long long)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
	}
	return strdup(out);
}

static void check(const char *part, const char *word, const char *want)
{
	char *p = postings_of(part, word), *d;

	if (!want) {
		if (p)
			fail_msg("'%s' should not be indexed (postings %s)", word, p);
		return;
	}
	if (!p)
		fail_msg("'%s' is not in the part", word);
	d = decode(p);
	if (strcmp(d, want) != 0)
		fail_msg("postings of '%s': %s, want %s", word, d, want);
	free(p);
	free(d);
}

static void add(cb_search *s, int field, const char *text)
{
	cb_search_add_text(s, field, text, strlen(text));
}

static void test_index(void **state)
{
	cb_search *s = cb_search_new();
	cb_buf b = CB_BUF_INIT;
	size_t nd, nt;

	(void)state;
	/* Case 0: a title word also in the body; a facet with diacritics. */
	assert_int_equal(cb_search_add_case(s, 100), 0);
	add(s, CB_SEARCH_TITLE, "Neighbourhood Watch in \xC5\x81\xC3\xB3" "d\xC5\xBA");
	add(s, CB_SEARCH_FACET, "Poland");
	add(s, CB_SEARCH_BODY, "The watch patrols. A b c.");
	/* Two lessons, then case 1 with none. */
	assert_int_equal(cb_search_add_lesson(s), 1);
	add(s, CB_SEARCH_LESSON, "Train volunteers");
	assert_int_equal(cb_search_add_lesson(s), 2);
	add(s, CB_SEARCH_LESSON, "Keep the police informed");
	assert_int_equal(cb_search_add_case(s, 100), 1);
	add(s, CB_SEARCH_TITLE, "Police council");
	add(s, CB_SEARCH_BODY, "Volunteers and POLICE.");
	/* One character of two, three and four bytes, and two of two bytes. */
	add(s, CB_SEARCH_BODY, "\xC3\xA9 \xE4\xB8\xAD \xF0\xA0\x80\x80 \xCE\xB1\xCE\xB8");

	assert_int_equal(cb_search_case_count(s), 2);
	nt = cb_search_plan(s, 1 << 20, &nd);
	assert_int_equal(nt, 1);
	assert_int_equal(nd, 1);
	cb_search_write_terms(s, 0, &b);
	/* slots = 4 (two lessons): case 0 is item 0, its lessons 1 and 2, case
	 * 1 is item 4. Fields: 8 title, 4 facet, 2 lesson, 1 body. */
	check(b.ptr, "watch", "0:9");
	check(b.ptr, "lodz", "0:8");
	check(b.ptr, "poland", "0:4");
	check(b.ptr, "volunteers", "1:2 4:1");
	check(b.ptr, "police", "2:2 4:9");
	check(b.ptr, "the", "0:1 2:2");
	/* One-letter words are left out; nothing is kept unfolded. */
	check(b.ptr, "a", NULL);
	check(b.ptr, "b", NULL);
	check(b.ptr, "\xC5\x82\xC3\xB3" "d\xC5\xBA", NULL);
	check(b.ptr, "e", NULL);
	check(b.ptr, "\xE4\xB8\xAD", NULL);
	check(b.ptr, "\xF0\xA0\x80\x80", NULL);
	check(b.ptr, "\xCE\xB1\xCE\xB8", "4:1");
	cb_buf_clear(&b);
	cb_search_write_manifest(s, &b);
	assert_non_null(strstr(b.ptr, "casebookSearch.index({"));
	assert_non_null(strstr(b.ptr, "\"cases\":2,\"slots\":4,"));
	assert_non_null(strstr(b.ptr, "\"lo\":0"));
	assert_non_null(strstr(b.ptr, "\"docs\":[0]"));
	cb_buf_dispose(&b);
	cb_search_free(s);
}

/* Recording cases (on a recorder of their own, as the threads do) and
 * replaying them gives the same index as adding them; a word an item has
 * more than once is recorded once, with all its fields. */
static void test_record_replay(void **state)
{
	cb_search *direct = cb_search_new(), *rec = cb_search_new(), *replayed = cb_search_new();
	cb_buf r0 = CB_BUF_INIT, r1 = CB_BUF_INIT, a = CB_BUF_INIT, b = CB_BUF_INIT;
	const char *p;
	size_t nd, n;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		cb_search *s = k ? rec : direct;
		if (k)
			cb_search_record_only(s, &r0);
		cb_search_add_case(s, 100);
		add(s, CB_SEARCH_TITLE, "Police council");
		add(s, CB_SEARCH_BODY, "The council met the police; the POLICE came.");
		cb_search_add_lesson(s);
		add(s, CB_SEARCH_LESSON, "Police and council, police again");
		if (k)
			cb_search_record_only(s, &r1);
		cb_search_add_case(s, 100);
		add(s, CB_SEARCH_BODY, "police police");
		add(s, CB_SEARCH_FACET, "Police");
		if (k)
			cb_search_record_only(s, NULL);
	}
	/* "police" once per item: case 0, its lesson, case 1. */
	for (n = 0, p = r0.ptr; (p = memmem(p, r0.len - (size_t)(p - r0.ptr), "police", 6)); p++)
		n++;
	assert_int_equal(n, 2);
	for (n = 0, p = r1.ptr; (p = memmem(p, r1.len - (size_t)(p - r1.ptr), "police", 6)); p++)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(cb_search_replay(replayed, r0.ptr, r0.len), 0);
	assert_int_equal(cb_search_replay(replayed, r1.ptr, r1.len), 0);
	assert_int_equal(cb_search_posting_count(replayed), cb_search_posting_count(direct));
	cb_search_plan(direct, 1 << 20, &nd);
	cb_search_plan(replayed, 1 << 20, &nd);
	cb_search_write_terms(direct, 0, &a);
	cb_search_write_terms(replayed, 0, &b);
	assert_string_equal(a.ptr, b.ptr);
	/* Fields: 8 title, 4 facet, 2 lesson, 1 body; lesson 1 is item 1,
	 * case 1 item 2. */
	check(b.ptr, "police", "0:9 1:2 2:5");
	check(b.ptr, "the", "0:1");
	cb_buf_dispose(&a);
	cb_buf_dispose(&b);
	cb_buf_dispose(&r0);
	cb_buf_dispose(&r1);
	cb_search_free(direct);
	cb_search_free(rec);
	cb_search_free(replayed);
}

/* With a small part size, words go to several parts, and the words that
 * share their first two letters always share a part. */
static void test_split(void **state)
{
	cb_search *s = cb_search_new();
	cb_buf man = CB_BUF_INIT;
	size_t nd, nt, i, c, first, end, prev_end = 0;
	char word[32];

	(void)state;
	for (c = 0; c < 50; c++) {
		cb_search_add_case(s, 1000);
		for (i = 0; i < 40; i++) {
			snprintf(word, sizeof word, "%c%cword%zu", (int)('a' + i % 26),
			         (int)('a' + (i * 7) % 26), c % 7);
			add(s, CB_SEARCH_BODY, word);
		}
		add(s, CB_SEARCH_TITLE, "\xC5\x81\xC3\xB3" "d\xC5\xBA title");
	}
	nt = cb_search_plan(s, 2000, &nd);
	assert_true(nt > 3);
	assert_int_equal(nd, 25); /* 2 cases of 1000 bytes per part of 2000 */
	for (i = 0; i < nd; i++) {
		cb_search_doc_range(s, i, &first, &end);
		assert_int_equal(first, prev_end);
		assert_true(end > first);
		prev_end = end;
	}
	assert_int_equal(prev_end, 50);
	cb_search_write_manifest(s, &man);
	for (i = 0; i < nt; i++) {
		cb_buf b = CB_BUF_INIT;
		const char *p;
		cb_search_write_terms(s, i, &b);
		/* Every word of this part has its two-letter key mapped to it. */
		p = strstr(b.ptr, "\"w\":[") + 5;
		while (*p == '"') {
			char key[64];
			size_t kl = ((unsigned char)p[1] < 0x80 ? 1 : 2);
			kl += ((unsigned char)p[1 + kl] < 0x80 ? 1 : 2);
			snprintf(key, sizeof key, "\"%.*s\":%zu,", (int)kl, p + 1, i);
			if (!strstr(man.ptr, key)) {
				key[strlen(key) - 1] = '}';
				if (!strstr(man.ptr, key))
					fail_msg("part %zu holds %.10s but the manifest does not say so", i, p);
			}
			p = strchr(p + 1, '"') + 1;
			if (*p == ',')
				p++;
		}
		cb_buf_dispose(&b);
	}
	assert_true(cb_search_total_size(s) > 50 * 1000);
	cb_buf_dispose(&man);
	cb_search_free(s);
}

static void test_lesson_limit(void **state)
{
	cb_search *s = cb_search_new();
	cb_buf b = CB_BUF_INIT;
	size_t nd, i;

	(void)state;
	assert_int_equal(cb_search_add_lesson(s), 0); /* no case yet */
	cb_search_add_case(s, 10);
	for (i = 1; i <= CB_SEARCH_MAX_LESSONS; i++)
		assert_int_equal(cb_search_add_lesson(s), i);
	add(s, CB_SEARCH_LESSON, "lastone");
	assert_int_equal(cb_search_add_lesson(s), 0);
	add(s, CB_SEARCH_LESSON, "toomany");
	cb_search_plan(s, 1 << 20, &nd);
	cb_search_write_terms(s, 0, &b);
	check(b.ptr, "lastone", "255:2");
	check(b.ptr, "toomany", NULL);
	cb_buf_clear(&b);
	cb_search_write_manifest(s, &b);
	assert_non_null(strstr(b.ptr, "\"slots\":256,"));
	cb_buf_dispose(&b);
	cb_search_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fold_table),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_record_replay),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_lesson_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
