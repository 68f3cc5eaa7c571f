/*
 * cb_diag: diagnostics list (see cb_diag.h).
 */
#include "cb_diag.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	cb_diag d;
	size_t seq;
} entry;

struct cb_diag_list {
	pthread_mutex_t lock;
	entry *e;
	size_t len, cap;
	size_t errors, warnings;
	int sorted;
};

cb_diag_list *cb_diag_list_new(void)
{
	cb_diag_list *l = cb_xcalloc(1, sizeof *l);

	pthread_mutex_init(&l->lock, NULL);
	l->sorted = 1;
	return l;
}

void cb_diag_list_free(cb_diag_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->len; i++) {
		free((char *)l->e[i].d.code);
		free((char *)l->e[i].d.path);
		free((char *)l->e[i].d.msg);
		free((char *)l->e[i].d.hint);
	}
	free(l->e);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void append(cb_diag_list *l, cb_severity sev, const char *code, const char *path,
                   unsigned line, unsigned col, const char *hint, char *msg)
{
	entry *e;

	pthread_mutex_lock(&l->lock);
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->e = cb_xreallocarray(l->e, l->cap, sizeof(entry));
	}
	e = &l->e[l->len];
	e->seq = l->len;
	e->d.severity = sev;
	e->d.code = cb_xstrdup(code ? code : "");
	e->d.path = path ? cb_xstrdup(path) : NULL;
	e->d.line = line;
	e->d.col = col;
	e->d.msg = msg;
	e->d.hint = hint ? cb_xstrdup(hint) : NULL;
	l->len++;
	l->sorted = 0;
	if (sev == CB_ERROR)
		l->errors++;
	else if (sev == CB_WARNING)
		l->warnings++;
	pthread_mutex_unlock(&l->lock);
}

static int vadd(cb_diag_list *l, cb_severity sev, const char *code, const char *path,
                unsigned line, unsigned col, const char *hint, const char *fmt, va_list ap)
    CB_PRINTF(8, 0);

static int vadd(cb_diag_list *l, cb_severity sev, const char *code, const char *path,
                unsigned line, unsigned col, const char *hint, const char *fmt, va_list ap)
{
	cb_buf b = CB_BUF_INIT;

	cb_buf_vprintf(&b, fmt, ap);
	append(l, sev, code, path, line, col, hint, cb_buf_detach(&b));
	return sev == CB_ERROR ? -1 : 0;
}

int cb_diag_add(cb_diag_list *l, cb_severity sev, const char *code, const char *path,
                unsigned line, unsigned col, const char *hint, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vadd(l, sev, code, path, line, col, hint, fmt, ap);
	va_end(ap);
	return rc;
}

int cb_diag_error(cb_diag_list *l, const char *code, const char *path, unsigned line,
                  unsigned col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vadd(l, CB_ERROR, code, path, line, col, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int cb_diag_warn(cb_diag_list *l, const char *code, const char *path, unsigned line,
                 unsigned col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vadd(l, CB_WARNING, code, path, line, col, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

void cb_diag_list_merge(cb_diag_list *l, const cb_diag_list *src)
{
	size_t i;

	for (i = 0; i < src->len; i++) {
		const cb_diag *d = &src->e[i].d;
		append(l, d->severity, d->code, d->path, d->line, d->col, d->hint,
		       cb_xstrdup(d->msg));
	}
}

size_t cb_diag_count(const cb_diag_list *l)
{
	return l->len;
}

size_t cb_diag_errors(const cb_diag_list *l)
{
	return l->errors;
}

size_t cb_diag_warnings(const cb_diag_list *l)
{
	return l->warnings;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const entry *a = pa, *b = pb;
	const char *ap = a->d.path ? a->d.path : "", *bp = b->d.path ? b->d.path : "";
	int c = strcmp(ap, bp);

	if (c)
		return c;
	if (a->d.line != b->d.line)
		return a->d.line < b->d.line ? -1 : 1;
	if (a->d.col != b->d.col)
		return a->d.col < b->d.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

const cb_diag *cb_diag_at(cb_diag_list *l, size_t i)
{
	if (i >= l->len)
		return NULL;
	if (!l->sorted) {
		qsort(l->e, l->len, sizeof(entry), cmp_entry);
		l->sorted = 1;
	}
	return &l->e[i].d;
}

static const char *sev_name(cb_severity s)
{
	return s == CB_ERROR ? "error" : s == CB_WARNING ? "warning" : "note";
}

static void put_location(const cb_diag *d, cb_buf *out)
{
	if (d->path) {
		cb_buf_puts(out, d->path);
		if (d->line) {
			cb_buf_printf(out, ":%u", d->line);
			if (d->col) /* a column only where it is known */
				cb_buf_printf(out, ":%u", d->col);
		}
		cb_buf_puts(out, ": ");
	} else {
		cb_buf_puts(out, "casebook: ");
	}
}

void cb_diag_format_text(const cb_diag *d, cb_buf *out)
{
	put_location(d, out);
	cb_buf_printf(out, "%s: %s", sev_name(d->severity), d->msg);
}

/* GitHub workflow commands need %, CR and LF escaped in the message, and
 * also , and : in properties. */
static void put_gh(cb_buf *out, const char *s, int property)
{
	for (; *s; s++) {
		if (*s == '%')
			cb_buf_puts(out, "%25");
		else if (*s == '\r')
			cb_buf_puts(out, "%0D");
		else if (*s == '\n')
			cb_buf_puts(out, "%0A");
		else if (property && *s == ':')
			cb_buf_puts(out, "%3A");
		else if (property && *s == ',')
			cb_buf_puts(out, "%2C");
		else
			cb_buf_putc(out, *s);
	}
}

void cb_diag_print(cb_diag_list *l, FILE *out, cb_diag_format fmt, int color)
{
	cb_buf b = CB_BUF_INIT;
	size_t i;

	if (fmt == CB_DIAG_JSON)
		cb_buf_putc(&b, '[');
	for (i = 0; i < l->len; i++) {
		const cb_diag *d = cb_diag_at(l, i);

		switch (fmt) {
		case CB_DIAG_TEXT:
			put_location(d, &b);
			if (color)
				cb_buf_puts(&b, d->severity == CB_ERROR     ? "\033[1;31m"
				                : d->severity == CB_WARNING ? "\033[1;35m"
				                                            : "\033[1;36m");
			cb_buf_printf(&b, "%s:", sev_name(d->severity));
			if (color)
				cb_buf_puts(&b, "\033[0m");
			cb_buf_printf(&b, " %s\n", d->msg);
			if (d->hint) {
				/* A hint of several lines (a YAML example) keeps its
				 * shape, indented under the first. */
				const char *h;
				cb_buf_puts(&b, "    hint: ");
				for (h = d->hint; *h; h++) {
					cb_buf_putc(&b, *h);
					if (*h == '\n')
						cb_buf_puts(&b, "          ");
				}
				cb_buf_putc(&b, '\n');
			}
			break;
		case CB_DIAG_GITHUB:
			cb_buf_printf(&b, "::%s ", d->severity == CB_ERROR     ? "error"
			                           : d->severity == CB_WARNING ? "warning"
			                                                       : "notice");
			if (d->path) {
				cb_buf_puts(&b, "file=");
				put_gh(&b, d->path, 1);
				if (d->line)
					cb_buf_printf(&b, ",line=%u", d->line);
				if (d->line && d->col)
					cb_buf_printf(&b, ",col=%u", d->col);
				cb_buf_putc(&b, ',');
			}
			cb_buf_puts(&b, "title=casebook ");
			put_gh(&b, d->code, 1);
			cb_buf_puts(&b, "::");
			put_gh(&b, d->msg, 0);
			if (d->hint) {
				cb_buf_puts(&b, "%0Ahint: ");
				put_gh(&b, d->hint, 0);
			}
			cb_buf_putc(&b, '\n');
			break;
		case CB_DIAG_JSON:
			cb_buf_puts(&b, i ? ",\n  {" : "\n  {");
			cb_buf_puts(&b, "\"file\": ");
			if (d->path) {
				cb_buf_putc(&b, '"');
				cb_buf_put_json(&b, d->path, strlen(d->path));
				cb_buf_putc(&b, '"');
			} else {
				cb_buf_puts(&b, "null");
			}
			cb_buf_printf(&b, ", \"line\": %u, \"col\": %u, \"severity\": \"%s\", ",
			              d->line, d->col, sev_name(d->severity));
			cb_buf_puts(&b, "\"code\": \"");
			cb_buf_put_json(&b, d->code, strlen(d->code));
			cb_buf_puts(&b, "\", \"message\": \"");
			cb_buf_put_json(&b, d->msg, strlen(d->msg));
			cb_buf_puts(&b, "\", \"hint\": ");
			if (d->hint) {
				cb_buf_putc(&b, '"');
				cb_buf_put_json(&b, d->hint, strlen(d->hint));
				cb_buf_putc(&b, '"');
			} else {
				cb_buf_puts(&b, "null");
			}
			cb_buf_putc(&b, '}');
			break;
		}
	}
	if (fmt == CB_DIAG_JSON)
		cb_buf_puts(&b, l->len ? "\n]\n" : "]\n");
	fwrite(b.ptr, 1, b.len, out);
	cb_buf_dispose(&b);
}
