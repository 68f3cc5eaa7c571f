/*
 * cb_buf: a growable byte buffer, modelled on cmark's strbuf.
 *
 * The pointer is never NULL (an empty buffer points at a shared empty string
 * until the first write), the content is always NUL-terminated, and it grows
 * by 1.5x. A cb_buf lives on the stack or inside another struct:
 *
 *     cb_buf b = CB_BUF_INIT;
 *     cb_buf_puts(&b, "hello");
 *     char *s = cb_buf_detach(&b);   // caller now owns s; b is empty again
 *     cb_buf_dispose(&b);            // frees what b still holds (nothing here)
 *
 * Allocation failure aborts (cb_mem), so writes cannot fail.
 */
#ifndef CB_BUF_H
#define CB_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "cb_mem.h"

typedef struct cb_buf {
	char *ptr;   /* content, NUL-terminated; never NULL */
	size_t len;  /* bytes used, not counting the NUL */
	size_t cap;  /* bytes allocated; 0 while ptr is the shared empty string */
} cb_buf;

extern char cb_buf__empty[1];
#define CB_BUF_INIT { cb_buf__empty, 0, 0 }

/* The growing behind cb_buf_grow, when the room left is too small. */
void cb_buf__grow(cb_buf *b, size_t extra);

/* Make sure at least `extra` more bytes fit. Inline: the buffers are written
 * a few bytes at a time, and the room is nearly always there. */
static inline void cb_buf_grow(cb_buf *b, size_t extra)
{
	if (b->cap == 0 || extra >= b->cap - b->len)
		cb_buf__grow(b, extra);
}
/* Append len bytes. */
void cb_buf_put(cb_buf *b, const char *data, size_t len);
/* Append a NUL-terminated string. */
void cb_buf_puts(cb_buf *b, const char *s);
/* Append one byte. */
static inline void cb_buf_putc(cb_buf *b, char c)
{
	cb_buf_grow(b, 1);
	b->ptr[b->len++] = c;
	b->ptr[b->len] = '\0';
}
/* Append v in decimal: what cb_buf_printf(b, "%llu", v) does, without
 * parsing a format (for keys written a number at a time). */
void cb_buf_put_uint(cb_buf *b, unsigned long long v);
/* Append formatted text. */
void cb_buf_printf(cb_buf *b, const char *fmt, ...) CB_PRINTF(2, 3);
/* Append formatted text from a va_list. */
void cb_buf_vprintf(cb_buf *b, const char *fmt, va_list ap) CB_PRINTF(2, 0);
/* Append len bytes with &, <, >, " and ' escaped for HTML text and attributes. */
void cb_buf_put_html(cb_buf *b, const char *data, size_t len);
/* Append len bytes escaped for a JSON string (without the quotes). */
void cb_buf_put_json(cb_buf *b, const char *data, size_t len);
/* Drop the content, keep the allocation. */
void cb_buf_clear(cb_buf *b);
/* Shorten the content to len bytes (len <= b->len). */
void cb_buf_truncate(cb_buf *b, size_t len);
/* Hand the content over: returns a malloc'd NUL-terminated string the caller
 * frees, and leaves b empty. Never NULL. */
char *cb_buf_detach(cb_buf *b);
/* Free the content and reset b to empty. */
void cb_buf_dispose(cb_buf *b);

#endif
