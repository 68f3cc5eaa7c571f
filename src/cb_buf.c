/*
 * cb_buf: growable byte buffer (see cb_buf.h).
 */
#include "cb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

char cb_buf__empty[1];

void cb_buf__grow(cb_buf *b, size_t extra)
{
	size_t need = cb_mem_add(cb_mem_add(b->len, extra), 1);
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap + cap / 2 + 1;
	if (b->cap == 0) {
		b->ptr = cb_xmalloc(cap);
		b->ptr[0] = '\0';
	} else {
		b->ptr = cb_xrealloc(b->ptr, cap);
	}
	b->cap = cap;
}

void cb_buf_put(cb_buf *b, const char *data, size_t len)
{
	if (len == 0)
		return;
	cb_buf_grow(b, len);
	memmove(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void cb_buf_puts(cb_buf *b, const char *s)
{
	cb_buf_put(b, s, strlen(s));
}

void cb_buf_vprintf(cb_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t room;
	int n;

	/* Formatted straight into the room there is; again only when it did
	 * not fit. */
	cb_buf_grow(b, 64);
	room = b->cap - b->len;
	va_copy(ap2, ap);
	n = vsnprintf(b->ptr + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n <= 0) {
		b->ptr[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		cb_buf_grow(b, (size_t)n);
		vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void cb_buf_put_uint(cb_buf *b, unsigned long long v)
{
	char digits[20]; /* 2^64 - 1 has 20 */
	size_t n = 0;

	do {
		digits[sizeof digits - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cb_buf_put(b, digits + sizeof digits - n, n);
}

void cb_buf_printf(cb_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cb_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* The bytes the escapes below look at: ESC_HTML those HTML escapes,
 * ESC_JSON those that may need a JSON escape (control bytes, '"', '\\', '<'
 * before '/', and 0xe2, which starts U+2028 and U+2029). The rest, most
 * text, is copied as it is in runs. */
enum { ESC_HTML = 1, ESC_JSON = 2 };

static const unsigned char escapes[256] = {
    [0x00] = ESC_JSON, [0x01] = ESC_JSON, [0x02] = ESC_JSON, [0x03] = ESC_JSON,
    [0x04] = ESC_JSON, [0x05] = ESC_JSON, [0x06] = ESC_JSON, [0x07] = ESC_JSON,
    [0x08] = ESC_JSON, [0x09] = ESC_JSON, [0x0a] = ESC_JSON, [0x0b] = ESC_JSON,
    [0x0c] = ESC_JSON, [0x0d] = ESC_JSON, [0x0e] = ESC_JSON, [0x0f] = ESC_JSON,
    [0x10] = ESC_JSON, [0x11] = ESC_JSON, [0x12] = ESC_JSON, [0x13] = ESC_JSON,
    [0x14] = ESC_JSON, [0x15] = ESC_JSON, [0x16] = ESC_JSON, [0x17] = ESC_JSON,
    [0x18] = ESC_JSON, [0x19] = ESC_JSON, [0x1a] = ESC_JSON, [0x1b] = ESC_JSON,
    [0x1c] = ESC_JSON, [0x1d] = ESC_JSON, [0x1e] = ESC_JSON, [0x1f] = ESC_JSON,
    ['"'] = ESC_HTML | ESC_JSON, ['\\'] = ESC_JSON, ['<'] = ESC_HTML | ESC_JSON,
    ['&'] = ESC_HTML, ['>'] = ESC_HTML, ['\''] = ESC_HTML, [0x7f] = ESC_JSON,
    [0xe2] = ESC_JSON,
};

/* The first byte at or after i (below len) that escapes marks with kind,
 * or len. Most text has none for long runs: 16 bytes are tested at a time
 * where the processor can. */
static size_t next_escape(const char *s, size_t i, size_t len, int kind)
{
#ifdef __SSE2__
	if (kind == ESC_HTML) {
		const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<');
		const __m128i gt = _mm_set1_epi8('>'), quot = _mm_set1_epi8('"');
		const __m128i apos = _mm_set1_epi8('\'');

		for (; i + 16 <= len; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, amp), _mm_cmpeq_epi8(x, lt)),
			                         _mm_or_si128(_mm_cmpeq_epi8(x, gt), _mm_cmpeq_epi8(x, quot)));
			unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(m, _mm_cmpeq_epi8(x, apos)));
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
	} else {
		const __m128i ctl = _mm_set1_epi8(0x1f), quot = _mm_set1_epi8('"');
		const __m128i bsl = _mm_set1_epi8('\\'), lt = _mm_set1_epi8('<');
		const __m128i del = _mm_set1_epi8(0x7f), e2 = _mm_set1_epi8((char)0xe2);

		for (; i + 16 <= len; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x), /* below 0x20 */
			                         _mm_or_si128(_mm_cmpeq_epi8(x, quot), _mm_cmpeq_epi8(x, bsl)));
			m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(x, lt), _mm_cmpeq_epi8(x, del)));
			unsigned bits = (unsigned)_mm_movemask_epi8(_mm_or_si128(m, _mm_cmpeq_epi8(x, e2)));
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
	}
#endif
	for (; i < len; i++)
		if (escapes[(unsigned char)s[i]] & kind)
			return i;
	return len;
}

void cb_buf_put_html(cb_buf *b, const char *data, size_t len)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; (i = next_escape(data, i, len, ESC_HTML)) < len; i++) {
		switch (data[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = "&#39;"; break;
		}
		cb_buf_put(b, data + start, i - start);
		cb_buf_puts(b, rep);
		start = i + 1;
	}
	cb_buf_put(b, data + start, len - start);
}

void cb_buf_put_json(cb_buf *b, const char *data, size_t len)
{
	size_t i, start = 0;
	char esc[8];

	for (i = 0; (i = next_escape(data, i, len, ESC_JSON)) < len; i++) {
		unsigned char c = (unsigned char)data[i];
		const char *rep = NULL;

		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			rep = esc;
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)data[i + 1] == 0x80 &&
			   ((unsigned char)data[i + 2] == 0xa8 || (unsigned char)data[i + 2] == 0xa9)) {
			/* U+2028/U+2029 are valid JSON but end a JavaScript line. */
			rep = (unsigned char)data[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			cb_buf_put(b, data + start, i - start);
			cb_buf_puts(b, rep);
			i += 2;
			start = i + 1;
			continue;
		} else if (c == '<' && i + 1 < len && data[i + 1] == '/') {
			/* "</" inside a <script> would end it: write "<\/". */
			rep = "<\\/";
			cb_buf_put(b, data + start, i - start);
			cb_buf_puts(b, rep);
			i += 1;
			start = i + 1;
			continue;
		}
		if (!rep)
			continue;
		cb_buf_put(b, data + start, i - start);
		cb_buf_puts(b, rep);
		start = i + 1;
	}
	cb_buf_put(b, data + start, len - start);
}

void cb_buf_clear(cb_buf *b)
{
	cb_buf_truncate(b, 0);
}

void cb_buf_truncate(cb_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	if (b->cap)
		b->ptr[len] = '\0';
}

char *cb_buf_detach(cb_buf *b)
{
	char *p = b->cap ? b->ptr : cb_xstrndup("", 0);

	b->ptr = cb_buf__empty;
	b->len = b->cap = 0;
	return p;
}

void cb_buf_dispose(cb_buf *b)
{
	if (b->cap)
		free(b->ptr);
	b->ptr = cb_buf__empty;
	b->len = b->cap = 0;
}
