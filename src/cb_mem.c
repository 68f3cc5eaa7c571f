/*
 * cb_mem: allocation wrappers that abort on out-of-memory (see cb_mem.h).
 */
#include "cb_mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "casebook: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *cb_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cb_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(cb_mem_mul(count, size));
	return p;
}

void *cb_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *cb_xreallocarray(void *p, size_t count, size_t size)
{
	return cb_xrealloc(p, cb_mem_mul(count, size));
}

char *cb_xstrdup(const char *s)
{
	return cb_xstrndup(s, strlen(s));
}

char *cb_xstrndup(const char *s, size_t len)
{
	char *p = cb_xmalloc(cb_mem_add(len, 1));
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *cb_xasprintf(const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;
	char *p;

	/* Most strings made here are paths and anchors: formatted once on the
	 * stack, again only when longer. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = cb_xmalloc((size_t)n + 1);
	if ((size_t)n < sizeof small) {
		memcpy(p, small, (size_t)n + 1);
		return p;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t cb_mem_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		oom(SIZE_MAX);
	return a + b;
}

size_t cb_mem_mul(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		oom(SIZE_MAX);
	return a * b;
}
