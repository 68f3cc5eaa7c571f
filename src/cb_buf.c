/*
 * cb_buf: growable byte buffer (see cb_buf.h).
 */
#include "cb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n <= 0)
		return;
	cb_buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void cb_buf_printf(cb_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cb_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void cb_buf_put_html(cb_buf *b, const char *data, size_t len)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; i < len; i++) {
		switch (data[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
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

	for (i = 0; i < len; i++) {
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
