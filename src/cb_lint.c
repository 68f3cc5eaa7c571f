/*
 * cb_lint: content checks on a case (see cb_lint.h).
 */
#include "cb_lint.h"

#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"
#include "cb_schema.h"
#include "cb_text.h"
#include "cb_utf8.h"

/* How much of a placeholder's text a message quotes. */
#define QUOTE_MAX 60

typedef struct lint {
	const cb_doc *doc;
	const char *path;
	const char *data;
	size_t len;
	size_t fm_end_off; /* offset of the front matter's closing line */
	size_t *lines;     /* offset where each line starts; lines[0] is line 1 */
	size_t n_lines;
	/* The last column looked up (placeholders come in document order). */
	size_t col_ls, col_off;
	unsigned col_col;
	cb_diag_list *diags;
	int rc;
} lint;

/* ---- text helpers -------------------------------------------------------- */

/* Offset of the first whole-word placeholder in s[from..len), or len. */
static size_t find_placeholder(const char *s, size_t len, size_t from)
{
	static const char w[] = CB_LINT_PLACEHOLDER;

	return cb_text_find_word(s, len, from, w, sizeof w - 1);
}

int cb_lint_has_placeholder(const char *s, size_t len)
{
	return find_placeholder(s, len, 0) < len;
}

static void index_lines(lint *l)
{
	size_t cap = 64;
	const char *p = l->data, *end = l->data + l->len, *nl;

	l->lines = cb_xreallocarray(NULL, cap, sizeof(size_t));
	l->lines[0] = 0;
	l->n_lines = 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (l->n_lines == cap) {
			cap *= 2;
			l->lines = cb_xreallocarray(l->lines, cap, sizeof(size_t));
		}
		p = nl + 1;
		l->lines[l->n_lines++] = (size_t)(p - l->data);
	}
}

/* Offset where line (1-based) starts, or len if there is no such line. */
static size_t line_offset(const lint *l, unsigned line)
{
	return line >= 1 && line <= l->n_lines ? l->lines[line - 1] : l->len;
}

/* Line and column (1-based, in characters) of byte offset off. */
static void position(const lint *l, size_t off, unsigned *line, unsigned *col)
{
	size_t lo = 0, hi = l->n_lines; /* the last line starting at or before off */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = (unsigned)lo + 1;
	*col = (unsigned)cb_utf8_chars(l->data + l->lines[lo], off - l->lines[lo]) + 1;
}

/* Byte offset of character column col (1-based) in the line starting at ls,
 * going on from the last lookup when it was on the same line, further left. */
static size_t column_offset(lint *l, size_t ls, unsigned col)
{
	size_t off = ls;
	unsigned c = 1;

	if (l->col_ls == ls && l->col_col >= 1 && l->col_col <= col) {
		off = l->col_off;
		c = l->col_col;
	}
	while (c < col && off < l->len && l->data[off] != '\n') {
		off++;
		while (off < l->len && ((unsigned char)l->data[off] & 0xC0) == 0x80)
			off++;
		c++;
	}
	l->col_ls = ls;
	l->col_off = off;
	l->col_col = c;
	return off;
}

/* Append s[0..len) as a one-line quotation of at most QUOTE_MAX bytes, cut
 * on a character boundary, with "..." when cut. */
static void quote(cb_buf *out, const char *s, size_t len)
{
	size_t n = 0, i;

	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	               s[len - 1] == '\n'))
		len--;
	cb_buf_putc(out, '"');
	while (n < len && n < QUOTE_MAX) {
		size_t k = n + 1;
		while (k < len && ((unsigned char)s[k] & 0xC0) == 0x80)
			k++;
		if (k > QUOTE_MAX)
			break;
		n = k;
	}
	for (i = 0; i < n; i++)
		cb_buf_putc(out, s[i] == '\n' || s[i] == '\t' ? ' ' : s[i]);
	if (n < len)
		cb_buf_puts(out, "...");
	cb_buf_putc(out, '"');
}

/* ---- placeholders -------------------------------------------------------- */

/* A hint for a placeholder in field `name`: the schema's example on one
 * line. Caller frees. */
static char *field_hint(const char *name)
{
	const char *ex = cb_schema_example(name);
	cb_buf b = CB_BUF_INIT;

	cb_buf_puts(&b, "write what the source says");
	if (ex) {
		const char *item = strstr(ex, "\n  - ");
		cb_buf_puts(&b, ", e.g. ");
		if (item) /* "sources:\n  - x" -> "sources: [x]" */
			cb_buf_printf(&b, "%.*s [%s]", (int)(item - ex), ex, item + 5);
		else
			cb_buf_puts(&b, ex);
	}
	if (!cb_schema_required(name))
		cb_buf_puts(&b, "; or delete the line if the source says nothing about it");
	return cb_buf_detach(&b);
}

static void report_value(lint *l, const char *field, const cb_value *v)
{
	size_t slen, ls, at;
	const char *s = cb_value_str(v, &slen);
	unsigned line = cb_value_line(v), col = cb_value_col(v);
	cb_buf msg = CB_BUF_INIT;
	char *hint;

	/* The value's own position, refined to the word itself. */
	if (line > 0) {
		ls = line_offset(l, line);
		at = find_placeholder(l->data, l->fm_end_off, column_offset(l, ls, col ? col : 1));
		if (at < l->fm_end_off)
			position(l, at, &line, &col);
	}
	cb_buf_printf(&msg, "%s still holds a placeholder: ", field);
	quote(&msg, s, slen);
	hint = field_hint(field);
	cb_diag_add(l->diags, CB_ERROR, "placeholder", l->path, line ? line : 1, col ? col : 1,
	            hint, "%s", msg.ptr);
	l->rc = -1;
	free(hint);
	cb_buf_dispose(&msg);
}

static void value_placeholders(lint *l, const char *field, const cb_value *v, int depth)
{
	size_t i, len;
	const char *s;

	if (depth > 64)
		return;
	switch (cb_value_type(v)) {
	case CB_STRING:
		s = cb_value_str(v, &len);
		if (cb_lint_has_placeholder(s, len))
			report_value(l, field, v);
		break;
	case CB_LIST:
		for (i = 0; i < cb_value_len(v); i++)
			value_placeholders(l, field, cb_value_at(v, i), depth + 1);
		break;
	case CB_MAP:
		for (i = 0; i < cb_value_len(v); i++)
			value_placeholders(l, field, cb_value_entry(v, i), depth + 1);
		break;
	default:
		break;
	}
}

static void body_placeholders(lint *l, int lessons)
{
	const cb_md *md = cb_doc_md(l->doc);
	size_t i, ns = cb_md_section_count(md);
	int sec = -1;

	for (i = 0; i < cb_md_found_count(md); i++) {
		const cb_md_found *f = cb_md_found_at(md, i);
		size_t ls = line_offset(l, f->line), at, end;
		cb_buf msg = CB_BUF_INIT;
		int s, in_lessons = 0;

		/* The section it is in: the last heading at or before its line
		 * (occurrences come in document order). */
		if (sec >= 0 && cb_md_section_at(md, (size_t)sec)->line > f->line)
			sec = -1;
		while ((size_t)(sec + 1) < ns && cb_md_section_at(md, (size_t)(sec + 1))->line <= f->line)
			sec++;
		for (s = sec; s >= 0 && !in_lessons; s = cb_md_section_at(md, (size_t)s)->parent)
			in_lessons = s == lessons;
		at = column_offset(l, ls, f->col);
		for (end = at; end < l->len && end - at < 4 * QUOTE_MAX && l->data[end] != '\n'; end++)
			;
		cb_buf_puts(&msg, "placeholder text left: ");
		quote(&msg, l->data + at, end - at);
		cb_diag_add(l->diags, CB_ERROR, "placeholder", l->path, f->line, f->col,
		            in_lessons ? "write a lesson the source supports, or delete the item"
		                       : "write the case's own text here, or delete it",
		            "%s", msg.ptr);
		l->rc = -1;
		cb_buf_dispose(&msg);
	}
}

/* ---- sections ------------------------------------------------------------ */

static int slug_is(const char *title, const char *want)
{
	cb_buf b = CB_BUF_INIT;
	int eq;

	cb_utf8_slug(&b, title, strlen(title));
	eq = strcmp(b.ptr, want) == 0;
	cb_buf_dispose(&b);
	return eq;
}

static int slug_has(const char *title, const char *part)
{
	cb_buf b = CB_BUF_INIT;
	int has;

	cb_utf8_slug(&b, title, strlen(title));
	has = strstr(b.ptr, part) != NULL;
	cb_buf_dispose(&b);
	return has;
}

static int blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/* The last line of the file that has something on it (1 for an empty file). */
static unsigned last_line(const lint *l)
{
	size_t end = l->len;
	unsigned line, col;

	while (end > 0 && (l->data[end - 1] == '\n' || l->data[end - 1] == '\r' ||
	                   l->data[end - 1] == ' ' || l->data[end - 1] == '\t'))
		end--;
	position(l, end, &line, &col);
	return line;
}

/* Index of the lessons section, or -1 after reporting that there is none. */
/* The body's first line that reads "Lessons for practice" but is no
 * heading: a paragraph ("**Lessons for practice:**") or '#' marks with no
 * space after them ("##Lessons for practice", which CommonMark leaves a
 * paragraph). Returns its line (0: none); *hashes says it began with '#'. */
static unsigned title_not_heading(const lint *l, int *hashes)
{
	unsigned line;
	cb_buf b = CB_BUF_INIT;

	for (line = cb_doc_body_offset(l->doc) + 1; line <= l->n_lines; line++) {
		size_t s = line_offset(l, line), e = line < l->n_lines ? line_offset(l, line + 1) : l->len;
		if (e - s > 80)
			continue;
		cb_buf_clear(&b);
		cb_utf8_slug(&b, l->data + s, e - s);
		if (strcmp(b.ptr, "lessons-for-practice") == 0) {
			while (s < e && l->data[s] == ' ')
				s++;
			*hashes = s < e && l->data[s] == '#';
			cb_buf_dispose(&b);
			return line;
		}
	}
	cb_buf_dispose(&b);
	return 0;
}

static int check_lessons(lint *l)
{
	const cb_md *md = cb_doc_md(l->doc);
	size_t i;
	int lessons = -1, near = -1, hashes = 0;
	unsigned line;

	for (i = 0; i < cb_md_section_count(md); i++) {
		const cb_md_section *s = cb_md_section_at(md, i);
		if (lessons < 0 && slug_is(s->title, "lessons-for-practice"))
			lessons = (int)i;
		else if (near < 0 && slug_has(s->title, "lesson"))
			near = (int)i;
	}
	if (lessons < 0) {
		if (near >= 0) {
			const cb_md_section *s = cb_md_section_at(md, (size_t)near);
			cb_diag_add(l->diags, CB_ERROR, "lessons-missing", l->path, s->line, 1,
			            "rename the heading to '## " CB_LINT_LESSONS "'",
			            "no '" CB_LINT_LESSONS "' section; the lessons page collects the "
			            "items of that section only, not those under '%s'",
			            s->title);
		} else if ((line = title_not_heading(l, &hashes)) != 0) {
			cb_diag_add(l->diags, CB_ERROR, "lessons-missing", l->path, line, 1,
			            hashes ? "put a space after the '#' marks: '## " CB_LINT_LESSONS "'"
			                   : "make it a heading: '## " CB_LINT_LESSONS "' on a line of "
			                     "its own",
			            "'" CB_LINT_LESSONS "' is written here, but not as a heading: the "
			            "case has no lessons section");
		} else {
			cb_diag_add(l->diags, CB_ERROR, "lessons-missing", l->path,
			            last_line(l), 1,
			            "end the case with '## " CB_LINT_LESSONS "' and a list of 2 to 5 "
			            "lessons the source supports, one '- ' item each",
			            "the case has no '" CB_LINT_LESSONS "' section");
		}
		l->rc = -1;
		return -1;
	}
	{
		const cb_md_section *s = cb_md_section_at(md, (size_t)lessons);
		if (s->n_items == 0) {
			cb_diag_add(l->diags, CB_ERROR, "lessons-empty", l->path, s->line, 1,
			            blank(s->text, s->text_len)
			                ? "write 2 to 5 lessons the source supports, one '- ' item each"
			                : "write each lesson as a list item starting with '- '",
			            "the '%s' section has no list items (each item is a lesson)",
			            s->title);
			l->rc = -1;
		}
	}
	return lessons;
}

static void check_empty_sections(lint *l, int lessons)
{
	const cb_md *md = cb_doc_md(l->doc);
	size_t n = cb_md_section_count(md), i;
	unsigned char *empty = cb_xcalloc(n + 1, 1);

	/* A section is empty when neither it nor any of its sub-sections has
	 * text (their headings do not count). Sub-sections come after their
	 * parent, so one backward pass settles it. */
	for (i = 0; i < n; i++) {
		const cb_md_section *s = cb_md_section_at(md, i);
		empty[i] = (unsigned char)blank(s->text, s->own_len);
	}
	for (i = n; i-- > 0;) {
		const cb_md_section *s = cb_md_section_at(md, i);
		if (!empty[i] && s->parent >= 0)
			empty[s->parent] = 0;
	}
	for (i = 0; i < n; i++) {
		const cb_md_section *s = cb_md_section_at(md, i);

		/* Report the outermost empty section only. */
		if ((int)i == lessons || !empty[i] || (s->parent >= 0 && empty[s->parent]))
			continue;
		if (*s->title)
			cb_diag_add(l->diags, CB_WARNING, "section-empty", l->path, s->line, 1,
			            "write what the source says, or delete the heading (leave out a "
			            "section the source says nothing about)",
			            "the section '%s' is empty", s->title);
		else
			cb_diag_add(l->diags, CB_WARNING, "section-empty", l->path, s->line, 1,
			            "delete it, or give it a title and what the source says",
			            "a heading without a title, and nothing under it");
	}
	free(empty);
}

/* ---- entry point --------------------------------------------------------- */

int cb_lint_case(const cb_doc *doc, const char *data, size_t len, cb_diag_list *diags)
{
	lint l;
	const cb_value *meta = cb_doc_meta(doc);
	size_t i;
	int lessons;

	/* Positions count from after a byte-order mark, as cb_doc_parse's do. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	memset(&l, 0, sizeof l);
	l.doc = doc;
	l.path = cb_doc_path(doc);
	l.data = data;
	l.len = len;
	l.diags = diags;
	index_lines(&l);
	l.fm_end_off = cb_doc_fm_end(doc) ? line_offset(&l, cb_doc_fm_end(doc)) : 0;

	for (i = 0; i < cb_value_len(meta); i++) {
		size_t klen;
		const char *key = cb_value_key(meta, i, &klen);
		value_placeholders(&l, key, cb_value_entry(meta, i), 0);
	}
	/* Front matter that is never closed swallows the body: its sections
	 * are unknown, not missing. */
	if (cb_doc_fm_end(doc) == 0 && len >= 3 && memcmp(data, "---", 3) == 0) {
		free(l.lines);
		return l.rc;
	}
	lessons = check_lessons(&l);
	body_placeholders(&l, lessons);
	check_empty_sections(&l, lessons);
	free(l.lines);
	return l.rc;
}
