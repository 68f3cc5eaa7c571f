/*
 * cb_search: the search index (see cb_search.h).
 *
 * Words live in an open-addressing hash table while cases are added; each
 * word keeps its postings in item order (cases are added in order, and a
 * case's lessons right after it), one posting per item with the bits of
 * every field the word occurs in. Planning sorts the words, so that the
 * words sharing their first two letters sit side by side, and cuts the
 * sorted list into parts.
 *
 * Item numbers in the files: case c is item c * slots, its k-th lesson
 * c * slots + k, where slots is the smallest power of two above the largest
 * number of lessons of a case. A posting is written as item * 16 + fields,
 * as the difference from the previous posting of the word, in base 36.
 */
#include "cb_search.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_md.h"
#include "cb_mem.h"
#include "cb_pool.h"
#include "cb_site.h"
#include "cb_text.h"
#include "cb_utf8.h"
#include "cb_value.h"

#define MAX_WORD 64

typedef struct term {
	char *word;
	size_t len;
	uint32_t *items; /* case << 8 | lesson */
	uint8_t *fields;
	size_t n, cap;
} term;

typedef struct part {
	size_t first, end; /* range of sorted words, or of cases */
} part;

struct cb_search {
	term *terms; /* hash table */
	size_t cap, used;
	size_t postings;
	size_t n_cases;
	unsigned lesson;     /* current lesson of the current case, 0 = the case */
	unsigned max_lessons;
	size_t *case_bytes; /* per case */
	size_t case_cap;
	/* after planning */
	term **sorted;
	part *tparts, *dparts;
	size_t n_tparts, n_dparts;
	uint32_t slots;
	size_t total;
	cb_buf folded; /* scratch */
	cb_buf *rec;   /* while recording (cb_search_record): what is added */
	int record_only; /* cb_search_record_only: record, do not index */
	/* While recording: the words the current item (case or lesson) has
	 * recorded, so that a word met again only adds its field to the entry
	 * (replaying it gives the same index, with less to replay). Slots of
	 * an earlier item (another gen) count as empty. */
	struct seen_word {
		uint64_t hash;
		size_t entry; /* offset of its 'W' in rec */
		size_t word;  /* offset of its bytes in rec */
		uint32_t len, gen;
	} *seen;
	size_t seen_cap, seen_used;
	uint32_t gen;
};

/* ---- building ------------------------------------------------------------ */

cb_search *cb_search_new(void)
{
	cb_search *s = cb_xcalloc(1, sizeof *s);

	s->cap = 1024;
	s->terms = cb_xcalloc(s->cap, sizeof(term));
	s->folded = (cb_buf)CB_BUF_INIT;
	return s;
}

void cb_search_free(cb_search *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->cap; i++) {
		free(s->terms[i].word);
		free(s->terms[i].items);
		free(s->terms[i].fields);
	}
	free(s->terms);
	free(s->case_bytes);
	free(s->sorted);
	free(s->tparts);
	free(s->dparts);
	free(s->seen);
	cb_buf_dispose(&s->folded);
	free(s);
}

static term *lookup(cb_search *s, const char *w, size_t len)
{
	size_t mask = s->cap - 1, i = (size_t)cb_text_hash64(w, len) & mask;

	while (s->terms[i].word) {
		if (s->terms[i].len == len && memcmp(s->terms[i].word, w, len) == 0)
			return &s->terms[i];
		i = (i + 1) & mask;
	}
	return &s->terms[i];
}

static void grow(cb_search *s)
{
	term *old = s->terms;
	size_t old_cap = s->cap, i;

	s->cap *= 2;
	s->terms = cb_xcalloc(s->cap, sizeof(term));
	for (i = 0; i < old_cap; i++)
		if (old[i].word)
			*lookup(s, old[i].word, old[i].len) = old[i];
	free(old);
}

/* ---- recording, to add a case again without reading it (editions) ------ */

/* A new item: the words recorded so far are another item's. */
static void next_item(cb_search *s)
{
	s->gen++;
	s->seen_used = 0;
}

void cb_search_record(cb_search *s, cb_buf *rec)
{
	s->rec = rec;
	s->record_only = 0;
	next_item(s);
}

void cb_search_record_only(cb_search *s, cb_buf *rec)
{
	s->rec = rec;
	s->record_only = rec != NULL;
	next_item(s);
}

static struct seen_word *seen_slot(cb_search *s, const char *w, size_t len, uint64_t hash)
{
	size_t mask = s->seen_cap - 1, i = (size_t)hash & mask;

	for (;; i = (i + 1) & mask) {
		struct seen_word *e = &s->seen[i];
		if (e->gen != s->gen ||
		    (e->hash == hash && e->len == len && memcmp(s->rec->ptr + e->word, w, len) == 0))
			return e;
	}
}

/* Has the current item recorded w already? Then add field to that entry
 * and return NULL. Otherwise return w's new slot, which remembers that w's
 * entry starts at rec's end (it is about to be written); the caller sets
 * its `word`. */
static struct seen_word *recorded(cb_search *s, const char *w, size_t len, int field)
{
	uint64_t hash = cb_text_hash64(w, len);
	struct seen_word *e;

	if ((s->seen_used + 1) * 2 > s->seen_cap) {
		struct seen_word *old = s->seen;
		size_t old_cap = s->seen_cap, i;

		s->seen_cap = old_cap ? old_cap * 2 : 512;
		s->seen = cb_xcalloc(s->seen_cap, sizeof *s->seen);
		for (i = 0; i < old_cap; i++)
			if (old[i].gen == s->gen)
				*seen_slot(s, s->rec->ptr + old[i].word, old[i].len, old[i].hash) = old[i];
		free(old);
	}
	e = seen_slot(s, w, len, hash);
	if (e->gen == s->gen) {
		s->rec->ptr[e->entry + 1] |= (char)field;
		return NULL;
	}
	e->hash = hash;
	e->entry = s->rec->len;
	e->len = (uint32_t)len;
	e->gen = s->gen;
	s->seen_used++;
	return e;
}

static void rec_size(cb_buf *rec, size_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	cb_buf_put(rec, (const char *)b, n);
}

static int get_size(const unsigned char **p, const unsigned char *end, size_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;
		*v |= (size_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

static void add_word(cb_search *s, const char *w, size_t len, int field);

int cb_search_replay(cb_search *s, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data, *end = p + len;
	size_t v, wl;

	while (p < end) {
		switch (*p++) {
		case 'C':
			if (get_size(&p, end, &v) < 0)
				return -1;
			cb_search_add_case(s, v);
			break;
		case 'L':
			cb_search_add_lesson(s);
			break;
		case 'W':
			if (p >= end)
				return -1;
			v = *p++;
			if (get_size(&p, end, &wl) < 0 || wl > (size_t)(end - p))
				return -1;
			if (s->n_cases && s->lesson <= CB_SEARCH_MAX_LESSONS)
				add_word(s, (const char *)p, wl, (int)v);
			p += wl;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

size_t cb_search_add_case(cb_search *s, size_t text_bytes)
{
	if (s->n_cases == s->case_cap) {
		s->case_cap = s->case_cap ? s->case_cap * 2 : 256;
		s->case_bytes = cb_xreallocarray(s->case_bytes, s->case_cap, sizeof(size_t));
	}
	s->case_bytes[s->n_cases] = text_bytes;
	s->lesson = 0;
	next_item(s);
	if (s->rec) {
		cb_buf_putc(s->rec, 'C');
		rec_size(s->rec, text_bytes);
	}
	return s->n_cases++;
}

unsigned cb_search_add_lesson(cb_search *s)
{
	next_item(s);
	if (s->rec)
		cb_buf_putc(s->rec, 'L');
	if (s->n_cases == 0 || s->lesson == CB_SEARCH_MAX_LESSONS + 1)
		return 0;
	if (s->lesson == CB_SEARCH_MAX_LESSONS) {
		s->lesson++; /* past the limit: ignore its words */
		return 0;
	}
	s->lesson++;
	if (s->lesson > s->max_lessons)
		s->max_lessons = s->lesson;
	return s->lesson;
}

static void add_word(cb_search *s, const char *w, size_t len, int field)
{
	uint32_t item = (uint32_t)(s->n_cases - 1) << 8 | s->lesson;
	term *t;

	if (s->rec) {
		struct seen_word *e = recorded(s, w, len, field);
		if (e) {
			cb_buf_putc(s->rec, 'W');
			cb_buf_putc(s->rec, (char)field);
			rec_size(s->rec, len);
			e->word = s->rec->len;
			cb_buf_put(s->rec, w, len);
		}
		if (s->record_only)
			return;
	}
	t = lookup(s, w, len);
	if (!t->word) {
		if ((s->used + 1) * 10 > s->cap * 7) {
			grow(s);
			t = lookup(s, w, len);
		}
		t->word = cb_xstrndup(w, len);
		t->len = len;
		s->used++;
	}
	if (t->n && t->items[t->n - 1] == item) {
		t->fields[t->n - 1] |= (uint8_t)field;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4;
		t->items = cb_xreallocarray(t->items, t->cap, sizeof(uint32_t));
		t->fields = cb_xreallocarray(t->fields, t->cap, 1);
	}
	t->items[t->n] = item;
	t->fields[t->n] = (uint8_t)field;
	t->n++;
	s->postings++;
}

void cb_search_add_text(cb_search *s, int field, const char *text, size_t len)
{
	size_t pos = 0, start, wlen;

	if (s->n_cases == 0 || s->lesson > CB_SEARCH_MAX_LESSONS)
		return;
	cb_buf_clear(&s->folded);
	cb_utf8_fold(&s->folded, text, len);
	while (cb_utf8_next_word(s->folded.ptr, s->folded.len, &pos, &start, &wlen)) {
		/* One letter: too common to help, and queries ignore them. A
		 * character takes at most 4 bytes. */
		if (wlen > MAX_WORD || (wlen <= 4 && cb_utf8_chars(s->folded.ptr + start, wlen) < 2))
			continue;
		add_word(s, s->folded.ptr + start, wlen, field);
	}
}

size_t cb_search_case_count(const cb_search *s) { return s->n_cases; }
size_t cb_search_word_count(const cb_search *s) { return s->used; }
size_t cb_search_posting_count(const cb_search *s) { return s->postings; }

/* ---- planning ------------------------------------------------------------ */

static int cmp_terms(const void *a, const void *b)
{
	const term *x = *(const term *const *)a, *y = *(const term *const *)b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->word, y->word, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Bytes of the first two characters of w (the key of its part). */
static size_t key_len(const char *w, size_t len)
{
	size_t i = 0;
	int chars = 0;

	while (i < len && chars < 2) {
		i++;
		while (i < len && ((unsigned char)w[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

static size_t base36_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 36) {
		v /= 36;
		n++;
	}
	return n;
}

static uint64_t posting_value(const cb_search *s, uint32_t item, uint8_t fields)
{
	return ((uint64_t)(item >> 8) * s->slots + (item & 0xff)) * 16 + fields;
}

/* Bytes the word takes in its part file (close to exact). */
static size_t term_size(const cb_search *s, const term *t)
{
	size_t n = t->len + 6, i;
	uint64_t prev = 0;

	for (i = 0; i < t->n; i++) {
		uint64_t v = posting_value(s, t->items[i], t->fields[i]);
		n += base36_len(v - prev) + 1;
		prev = v;
	}
	return n;
}

size_t cb_search_plan(cb_search *s, size_t part_size, size_t *doc_parts)
{
	size_t i, k = 0, size = 0, total = 0, cap_parts = 0;

	s->slots = 1;
	while (s->slots <= s->max_lessons)
		s->slots *= 2;
	free(s->sorted);
	s->sorted = cb_xcalloc(s->used ? s->used : 1, sizeof(term *));
	for (i = 0; i < s->cap; i++)
		if (s->terms[i].word)
			s->sorted[k++] = &s->terms[i];
	qsort(s->sorted, s->used, sizeof(term *), cmp_terms);

	/* Word parts: whole groups of words with the same first two letters. */
	free(s->tparts);
	s->tparts = NULL;
	s->n_tparts = 0;
	i = 0;
	while (i < s->used) {
		size_t kl = key_len(s->sorted[i]->word, s->sorted[i]->len), j = i, gsize = 0;

		while (j < s->used && s->sorted[j]->len >= kl &&
		       key_len(s->sorted[j]->word, s->sorted[j]->len) == kl &&
		       memcmp(s->sorted[j]->word, s->sorted[i]->word, kl) == 0) {
			gsize += term_size(s, s->sorted[j]);
			j++;
		}
		if (s->n_tparts == 0 || (size > 0 && size + gsize > part_size)) {
			if (s->n_tparts == cap_parts) {
				cap_parts = cap_parts ? cap_parts * 2 : 16;
				s->tparts = cb_xreallocarray(s->tparts, cap_parts, sizeof(part));
			}
			s->tparts[s->n_tparts].first = i;
			s->n_tparts++;
			size = 0;
		}
		s->tparts[s->n_tparts - 1].end = j;
		size += gsize;
		total += gsize + 16;
		i = j;
	}

	/* Case parts: runs of cases. */
	free(s->dparts);
	s->dparts = NULL;
	s->n_dparts = 0;
	cap_parts = 0;
	size = 0;
	for (i = 0; i < s->n_cases; i++) {
		if (s->n_dparts == 0 || (size > 0 && size + s->case_bytes[i] > part_size)) {
			if (s->n_dparts == cap_parts) {
				cap_parts = cap_parts ? cap_parts * 2 : 16;
				s->dparts = cb_xreallocarray(s->dparts, cap_parts, sizeof(part));
			}
			s->dparts[s->n_dparts].first = i;
			s->n_dparts++;
			size = 0;
		}
		s->dparts[s->n_dparts - 1].end = i + 1;
		size += s->case_bytes[i];
		total += s->case_bytes[i];
	}
	s->total = total + 64 + s->n_tparts * 8 + s->n_dparts * 8;
	*doc_parts = s->n_dparts;
	return s->n_tparts;
}

size_t cb_search_total_size(const cb_search *s) { return s->total; }

void cb_search_doc_range(const cb_search *s, size_t i, size_t *first, size_t *end)
{
	*first = s->dparts[i].first;
	*end = s->dparts[i].end;
}

/* ---- writing ------------------------------------------------------------- */

static void put_base36(cb_buf *out, uint64_t v)
{
	char tmp[16];
	size_t n = 0;

	do {
		unsigned d = (unsigned)(v % 36);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= 36;
	} while (v);
	while (n)
		cb_buf_putc(out, tmp[--n]);
}

static void put_str(cb_buf *out, const char *s, size_t len)
{
	cb_buf_putc(out, '"');
	cb_buf_put_json(out, s, len);
	cb_buf_putc(out, '"');
}

void cb_search_write_manifest(const cb_search *s, cb_buf *out)
{
	size_t p, i;
	int first = 1;

	cb_buf_puts(out, "/* casebook search index (generated). */\n");
	cb_buf_printf(out, "casebookSearch.index({\"version\":1,\"cases\":%zu,\"slots\":%u,\"terms\":{",
	              s->n_cases, (unsigned)s->slots);
	for (p = 0; p < s->n_tparts; p++) {
		const char *prev = NULL;
		size_t prev_len = 0;
		for (i = s->tparts[p].first; i < s->tparts[p].end; i++) {
			const term *t = s->sorted[i];
			size_t kl = key_len(t->word, t->len);
			if (prev && prev_len == kl && memcmp(prev, t->word, kl) == 0)
				continue;
			if (!first)
				cb_buf_putc(out, ',');
			first = 0;
			put_str(out, t->word, kl);
			cb_buf_printf(out, ":%zu", p);
			prev = t->word;
			prev_len = kl;
		}
	}
	cb_buf_puts(out, "},\"docs\":[");
	for (p = 0; p < s->n_dparts; p++)
		cb_buf_printf(out, "%s%zu", p ? "," : "", s->dparts[p].first);
	cb_buf_puts(out, "]});\n");
}

void cb_search_write_terms(const cb_search *s, size_t p, cb_buf *out)
{
	size_t i, k;

	cb_buf_printf(out, "casebookSearch.part(\"t%zu\",{\"w\":[", p);
	for (i = s->tparts[p].first; i < s->tparts[p].end; i++) {
		if (i > s->tparts[p].first)
			cb_buf_putc(out, ',');
		put_str(out, s->sorted[i]->word, s->sorted[i]->len);
	}
	cb_buf_puts(out, "],\"p\":[");
	for (i = s->tparts[p].first; i < s->tparts[p].end; i++) {
		const term *t = s->sorted[i];
		uint64_t prev = 0;

		if (i > s->tparts[p].first)
			cb_buf_putc(out, ',');
		cb_buf_putc(out, '"');
		for (k = 0; k < t->n; k++) {
			uint64_t v = posting_value(s, t->items[k], t->fields[k]);
			if (k)
				cb_buf_putc(out, ',');
			put_base36(out, v - prev);
			prev = v;
		}
		cb_buf_putc(out, '"');
	}
	cb_buf_puts(out, "]});\n");
}

/* ---- the generator ------------------------------------------------------- */

/* The parts of a document's plain text outside the sections left out of its
 * body (a plugin shows them in its own way, as lessons). Calls fn on each. */
static void body_text(const cb_doc *doc, void (*fn)(void *, const char *, size_t), void *ctx)
{
	const cb_md *md = cb_doc_md(doc);
	const char *text = cb_md_text(md);
	size_t len = strlen(text), at = 0, i;

	for (i = 0; i < cb_md_section_count(md); i++) {
		const cb_md_section *sec = cb_md_section_at(md, i);
		size_t from, to, tl;

		if (!cb_doc_section_omitted(doc, i) ||
		    (sec->parent >= 0 && cb_doc_section_omitted(doc, (size_t)sec->parent)))
			continue;
		from = (size_t)(sec->text - text);
		to = from + sec->text_len;
		/* The heading's text ends with a newline just before the content. */
		tl = strlen(sec->title);
		if (from >= tl + 1 && memcmp(text + from - tl - 1, sec->title, tl) == 0 &&
		    text[from - 1] == '\n')
			from -= tl + 1;
		if (from > at)
			fn(ctx, text + at, from - at);
		if (to > at)
			at = to;
	}
	if (len > at)
		fn(ctx, text + at, len - at);
}

static void append_text(void *ctx, const char *s, size_t len)
{
	cb_buf_put(ctx, s, len);
}

/* The facts line under a result's title: "Country · years · sector". */
static void meta_line(const cb_value *sum, cb_buf *out)
{
	const char *keys[] = {"country", "years", "sector_text"};
	size_t i, start = out->len;

	for (i = 0; i < 3; i++) {
		size_t len;
		const char *v = cb_value_str(cb_value_getc(sum, keys[i]), &len);
		if (!v || !len)
			continue;
		if (out->len > start)
			cb_buf_puts(out, " \xC2\xB7 ");
		cb_buf_put(out, v, len);
	}
}

static const cb_value *lesson_items(const cb_doc *doc)
{
	const cb_value *l = cb_value_getc(cb_doc_vars(doc), "lessons");
	const cb_value *items = cb_value_getc(l, "items");

	return cb_value_type(items) == CB_LIST ? items : NULL;
}

static void add_value_text(cb_search *s, int field, const cb_value *v)
{
	size_t len, i;
	const char *str = cb_value_str(v, &len);

	if (str)
		cb_search_add_text(s, field, str, len);
	else if (cb_value_type(v) == CB_LIST)
		for (i = 0; i < cb_value_len(v); i++)
			add_value_text(s, field, cb_value_at(v, i));
}

/* Index case i. Returns the size its record will take (roughly). */
static void index_case(cb_render *r, cb_search *s, size_t i, cb_buf *scratch)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_doc *doc = cb_site_case(site, i);
	const cb_value *sum = cb_render_case(r, i), *meta = cb_doc_meta(doc);
	const cb_value *lessons = lesson_items(doc);
	cb_value *facts = cb_render_case_facts(r, i);
	size_t k, n, bytes;

	cb_buf_clear(scratch);
	body_text(doc, append_text, scratch);
	bytes = scratch->len + 256;
	for (k = 0; k < cb_value_len(lessons); k++) {
		size_t tl = 0;
		cb_value_str(cb_value_getc(cb_value_at(lessons, k), "text"), &tl);
		bytes += tl + 64;
	}
	cb_search_add_case(s, bytes);
	cb_search_add_text(s, CB_SEARCH_TITLE, cb_doc_title(doc), strlen(cb_doc_title(doc)));
	for (k = 0; k < cb_value_len(facts); k++) {
		const cb_value *row = cb_value_at(facts, k);
		const cb_value *items = cb_value_getc(row, "items");
		const char *field = cb_value_cstr(cb_value_getc(row, "field"));
		if (field && strcmp(field, "digital") == 0)
			continue;
		for (n = 0; n < cb_value_len(items); n++)
			add_value_text(s, CB_SEARCH_FACET, cb_value_getc(cb_value_at(items, n), "text"));
	}
	add_value_text(s, CB_SEARCH_FACET, cb_value_getc(sum, "tags"));
	add_value_text(s, CB_SEARCH_BODY, cb_value_getc(sum, "summary"));
	cb_search_add_text(s, CB_SEARCH_BODY, scratch->ptr, scratch->len);
	add_value_text(s, CB_SEARCH_BODY, cb_value_getc(meta, "sources"));
	for (k = 0; k < cb_value_len(lessons); k++) {
		const cb_value *l = cb_value_at(lessons, k);
		if (!cb_search_add_lesson(s))
			break;
		add_value_text(s, CB_SEARCH_LESSON, cb_value_getc(l, "text"));
		add_value_text(s, CB_SEARCH_LESSON, cb_value_getc(cb_value_getc(l, "theme"), "label"));
	}
	cb_value_unref(facts);
}

static void put_json_value_str(cb_buf *out, const cb_value *v)
{
	size_t len;
	const char *s = cb_value_str(v, &len);

	put_str(out, s ? s : "", s ? len : 0);
}

/* One case's record: [title, url, facts, summary, text, [[id, text, theme,
 * theme_url], ...]]. */
static void write_record(cb_render *r, size_t i, cb_buf *out, cb_buf *scratch)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_doc *doc = cb_site_case(site, i);
	const cb_value *sum = cb_render_case(r, i);
	const cb_value *lessons = lesson_items(doc);
	size_t k;

	cb_buf_putc(out, '[');
	put_str(out, cb_doc_title(doc), strlen(cb_doc_title(doc)));
	cb_buf_putc(out, ',');
	put_str(out, cb_doc_url(doc), strlen(cb_doc_url(doc)));
	cb_buf_putc(out, ',');
	cb_buf_clear(scratch);
	meta_line(sum, scratch);
	put_str(out, scratch->ptr, scratch->len);
	cb_buf_putc(out, ',');
	put_json_value_str(out, cb_value_getc(sum, "summary"));
	cb_buf_putc(out, ',');
	cb_buf_clear(scratch);
	body_text(doc, append_text, scratch);
	put_str(out, scratch->ptr, scratch->len);
	cb_buf_puts(out, ",[");
	for (k = 0; k < cb_value_len(lessons) && k < CB_SEARCH_MAX_LESSONS; k++) {
		const cb_value *l = cb_value_at(lessons, k);
		const cb_value *theme = cb_value_getc(l, "theme");
		if (k)
			cb_buf_putc(out, ',');
		cb_buf_putc(out, '[');
		put_json_value_str(out, cb_value_getc(l, "id"));
		cb_buf_putc(out, ',');
		put_json_value_str(out, cb_value_getc(l, "text"));
		cb_buf_putc(out, ',');
		put_json_value_str(out, cb_value_getc(theme, "label"));
		cb_buf_putc(out, ']');
	}
	cb_buf_puts(out, "]]");
}

static void write_docs(cb_render *r, const cb_search *s, size_t p, cb_buf *out)
{
	cb_buf scratch = CB_BUF_INIT;
	size_t first, end, i;

	cb_search_doc_range(s, p, &first, &end);
	cb_buf_printf(out, "casebookSearch.part(\"d%zu\",[", p);
	for (i = first; i < end; i++) {
		if (i > first)
			cb_buf_puts(out, ",\n");
		write_record(r, i, out, &scratch);
	}
	cb_buf_puts(out, "]);\n");
	cb_buf_dispose(&scratch);
}

/* arg: which file. 0 = search-index.js (all parts in it when inline is
 * set in the high bit), 1 + i = word part i, 1 + n_tparts + i = case part i. */
#define INLINE_BIT ((size_t)1 << (sizeof(size_t) * 8 - 1))

/* The index while its files are written: it is freed as soon as the last of
 * them is (the rendering goes on with the pages), or with the renderer when
 * some were never written (a failed build). */
typedef struct written {
	cb_search *s;
	atomic_size_t left; /* files not written yet */
} written;

static int write_part(cb_render *r, cb_render_sink *sink, void *ctx, size_t arg)
{
	written *w = ctx;
	const cb_search *s = w->s;
	cb_buf b = CB_BUF_INIT;
	size_t i, which = arg & ~INLINE_BIT;

	if (which == 0) {
		cb_search_write_manifest(s, &b);
		if (arg & INLINE_BIT) {
			for (i = 0; i < s->n_tparts; i++)
				cb_search_write_terms(s, i, &b);
			for (i = 0; i < s->n_dparts; i++)
				write_docs(r, s, i, &b);
		}
	} else if (which <= s->n_tparts) {
		cb_search_write_terms(s, which - 1, &b);
	} else {
		write_docs(r, s, which - 1 - s->n_tparts, &b);
	}
	cb_render_sink_put(sink, b.ptr, b.len);
	cb_buf_dispose(&b);
	if (atomic_fetch_sub(&w->left, 1) == 1) {
		cb_search_free(w->s);
		w->s = NULL;
		cb_render_text_done(r);
	}
	return 0;
}

static void free_index(void *p)
{
	written *w = p;

	cb_search_free(w->s);
	free(w);
}

/* The cases' words are recorded on every thread, a chunk of cases at a
 * time, and added to the index in site order: while the threads record a
 * chunk, the first of them to start adds the chunk recorded before it. In
 * an edition build, a case indexed for another edition is added again from
 * what was recorded then, without reading it, and what is recorded is kept
 * for the editions after. */
#define INDEX_CHUNK 512
typedef struct index_chunk {
	size_t from, to;                         /* cases [from, to) */
	cb_buf recs[INDEX_CHUNK];                /* case from + i's words */
	char have[INDEX_CHUNK];                  /* recs[i] came from the cache */
	char keys[INDEX_CHUNK][CB_OID_HEXSZ + 1]; /* its key in the cache, or "" */
} index_chunk;

typedef struct index_run {
	cb_render *r;
	cb_search *s;
	cb_cache *cache;
	index_chunk *cur;  /* being recorded */
	index_chunk *prev; /* recorded, to add to the index (or NULL) */
	atomic_size_t next;
	atomic_flag adding; /* a thread has taken prev */
} index_run;

/* Add chunk c's recordings to the index, in order, and keep the new ones. */
static void add_chunk(index_run *run, index_chunk *c)
{
	size_t i;

	for (i = c->from; i < c->to; i++) {
		cb_buf *rec = &c->recs[i - c->from];
		if (cb_search_replay(run->s, rec->ptr, rec->len) < 0 && c->have[i - c->from]) {
			/* A kept recording that does not read back: index anew. */
			cb_buf scratch = CB_BUF_INIT;
			cb_buf_clear(rec);
			cb_search_record_only(run->s, rec);
			index_case(run->r, run->s, i, &scratch);
			cb_search_record_only(run->s, NULL);
			cb_buf_dispose(&scratch);
			cb_search_replay(run->s, rec->ptr, rec->len);
			c->have[i - c->from] = 0;
		}
		if (!c->have[i - c->from] && c->keys[i - c->from][0])
			cb_cache_blob_put(run->cache, c->keys[i - c->from], rec->ptr, rec->len);
	}
}

static void *index_worker(void *arg)
{
	index_run *run = arg;
	index_chunk *c = run->cur;
	cb_search *rec;
	cb_buf scratch = CB_BUF_INIT;
	size_t i;

	if (run->prev && !atomic_flag_test_and_set(&run->adding))
		add_chunk(run, run->prev);
	rec = cb_search_new();
	while ((i = atomic_fetch_add(&run->next, 1)) < c->to - c->from) {
		if (c->have[i])
			continue;
		cb_search_record_only(rec, &c->recs[i]);
		index_case(run->r, rec, c->from + i, &scratch);
	}
	cb_search_record_only(rec, NULL);
	cb_buf_dispose(&scratch);
	cb_search_free(rec);
	return NULL;
}

void cb_search_generate(cb_render *r)
{
	const cb_site *site = cb_render_get_site(r);
	cb_search *s = cb_search_new();
	cb_value *info = cb_value_new_map();
	cb_cache *cache = cb_render_cache(r);
	written *w;
	size_t i, k, nt, nd, n = cb_site_case_count(site), from;
	int threads = cb_render_threads(r);
	index_chunk *chunks = cb_xcalloc(2, sizeof *chunks);
	index_run run;

	run.r = r;
	run.s = s;
	run.cache = cache;
	run.prev = NULL;
	for (k = 0; k < 2; k++)
		for (i = 0; i < INDEX_CHUNK; i++)
			chunks[k].recs[i] = (cb_buf)CB_BUF_INIT;
	for (from = 0, k = 0; from < n; from += INDEX_CHUNK, k ^= 1) {
		index_chunk *c = &chunks[k];

		c->from = from;
		c->to = from + INDEX_CHUNK < n ? from + INDEX_CHUNK : n;
		for (i = c->from; i < c->to; i++) {
			char *key = c->keys[i - from];
			cb_buf_clear(&c->recs[i - from]);
			c->have[i - from] = 0;
			if (cache && cb_render_case_key(r, i, "search", key) == 0)
				c->have[i - from] = (char)cb_cache_blob_get(cache, key, &c->recs[i - from]);
			else
				key[0] = '\0';
		}
		run.cur = c;
		atomic_init(&run.next, 0);
		atomic_flag_clear(&run.adding);
		cb_pool_run(threads, index_worker, &run);
		run.prev = c;
	}
	if (run.prev)
		add_chunk(&run, run.prev);
	for (k = 0; k < 2; k++)
		for (i = 0; i < INDEX_CHUNK; i++)
			cb_buf_dispose(&chunks[k].recs[i]);
	free(chunks);
	nt = cb_search_plan(s, CB_SEARCH_PART_SIZE, &nd);
	w = cb_xmalloc(sizeof *w);
	w->s = s;
	cb_render_keep(r, w, free_index);
	if (cb_search_total_size(s) <= CB_SEARCH_INLINE_LIMIT) {
		atomic_init(&w->left, 1);
		cb_render_add_writer(r, "assets/search-index.js", NULL, "data", NULL, write_part, w,
		                     INLINE_BIT);
	} else {
		atomic_init(&w->left, 1 + nt + nd);
		cb_render_add_writer(r, "assets/search-index.js", NULL, "data", NULL, write_part, w, 0);
		for (i = 0; i < nt + nd; i++) {
			char *path = i < nt ? cb_xasprintf("assets/search/t%zu.js", i)
			                    : cb_xasprintf("assets/search/d%zu.js", i - nt);
			cb_render_add_writer(r, path, NULL, "data", NULL, write_part, w, 1 + i);
			free(path);
		}
	}
	/* Templates find the search page and the index under site.search. */
	cb_value_set_str(info, "url", "search.html");
	cb_value_set_str(info, "index", "assets/search-index.js");
	cb_value_set_str(info, "script", "assets/search.js");
	cb_value_setc(cb_render_site_ctx(r), "search", info);
	cb_render_add(r, "search.html", "search", "Search", "search", NULL);
}
