/*
 * cb_yaml: libyaml adapter (see cb_yaml.h).
 *
 * libyaml's document API loads the whole document into a node array in which
 * an alias is a second reference to the anchored node. We convert that array
 * into cb_values, converting each node once and sharing it (refcount) at
 * every alias, while counting the size the document would have if aliases
 * were expanded. libyaml marks are 0-based; diagnostics are 1-based.
 */
#include "cb_yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cb_utf8.h"

typedef struct conv {
	yaml_document_t *doc;
	cb_value **done;      /* converted node per node id - 1 */
	size_t *weight;       /* expanded size per converted node */
	unsigned char *state; /* 0 new, 1 converting, 2 done */
	const char *path;
	unsigned line_offset;
	cb_diag_list *diags;
	int failed;
} conv;

static int is_digits(const char *s, size_t len, const char *set)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr(set, s[i]))
			return 0;
	return 1;
}

static int match_date(const char *s, size_t len, int *y, int *m, int *d)
{
	if (len != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	if (!is_digits(s, 4, "0123456789") || !is_digits(s + 5, 2, "0123456789") ||
	    !is_digits(s + 8, 2, "0123456789"))
		return 0;
	*y = atoi(s);
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return 1;
}

static int match_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp++;
		if (!exp)
			return 0;
	}
	return i == len;
}

static int streq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Resolve a plain scalar by the YAML 1.2 core schema. Returns NULL and
 * reports when a number is out of range. */
static cb_value *resolve_plain(conv *c, const char *s, size_t len, const yaml_mark_t *mark)
{
	int y, m, d;
	unsigned line = (unsigned)mark->line + 1 + c->line_offset;
	unsigned col = (unsigned)mark->column + 1;

	if (len == 0 || streq(s, len, "~") || streq(s, len, "null") || streq(s, len, "Null") ||
	    streq(s, len, "NULL"))
		return cb_value_new_null();
	if (streq(s, len, "true") || streq(s, len, "True") || streq(s, len, "TRUE"))
		return cb_value_new_bool(1);
	if (streq(s, len, "false") || streq(s, len, "False") || streq(s, len, "FALSE"))
		return cb_value_new_bool(0);
	if (streq(s, len, ".inf") || streq(s, len, ".Inf") || streq(s, len, ".INF") ||
	    streq(s, len, "+.inf") || streq(s, len, "+.Inf") || streq(s, len, "+.INF"))
		return cb_value_new_float(HUGE_VAL);
	if (streq(s, len, "-.inf") || streq(s, len, "-.Inf") || streq(s, len, "-.INF"))
		return cb_value_new_float(-HUGE_VAL);
	if (streq(s, len, ".nan") || streq(s, len, ".NaN") || streq(s, len, ".NAN"))
		return cb_value_new_float(NAN);
	if ((s[0] == '-' || s[0] == '+') ? is_digits(s + 1, len - 1, "0123456789")
	                                 : is_digits(s, len, "0123456789")) {
		long long v;
		char *end;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == ERANGE) {
			cb_diag_error(c->diags, "yaml-number", c->path, line, col,
			              "integer %.*s is out of range", (int)len, s);
			return NULL;
		}
		return cb_value_new_int(v);
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') &&
	    is_digits(s + 2, len - 2, s[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567")) {
		unsigned long long v;
		errno = 0;
		v = strtoull(s + 2, NULL, s[1] == 'x' ? 16 : 8);
		if (errno == ERANGE || v > LLONG_MAX) {
			cb_diag_error(c->diags, "yaml-number", c->path, line, col,
			              "integer %.*s is out of range", (int)len, s);
			return NULL;
		}
		return cb_value_new_int((long long)v);
	}
	if (match_float(s, len))
		return cb_value_new_float(strtod(s, NULL));
	if (match_date(s, len, &y, &m, &d)) {
		cb_value *v = cb_value_new_date(y, m, d);
		if (!v)
			cb_diag_error(c->diags, "yaml-date", c->path, line, col,
			              "%.*s is not a valid date", (int)len, s);
		return v;
	}
	return cb_value_new_string(s, len);
}

static cb_value *resolve_tagged(conv *c, const char *tag, const char *s, size_t len,
                                const yaml_mark_t *mark)
{
	if (strcmp(tag, YAML_STR_TAG) == 0)
		return cb_value_new_string(s, len);
	/* !!int, !!float, !!bool, !!null, !!timestamp: resolve as plain and let
	 * the type speak for itself; unknown local tags are ignored. */
	return resolve_plain(c, s, len, mark);
}

static cb_value *convert(conv *c, int id, int depth, size_t *weight);

static void report_at(conv *c, const yaml_mark_t *m, const char *code, const char *msg)
{
	cb_diag_error(c->diags, code, c->path, (unsigned)m->line + 1 + c->line_offset,
	              (unsigned)m->column + 1, "%s", msg);
}

static cb_value *convert_node(conv *c, yaml_node_t *node, int depth, size_t *weight)
{
	cb_value *v = NULL;
	size_t w = 1, cw;

	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;
		size_t len = node->data.scalar.length;
		const char *tag = (const char *)node->tag;

		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (!tag || strcmp(tag, YAML_DEFAULT_SCALAR_TAG) == 0))
			v = resolve_plain(c, s, len, &node->start_mark);
		else if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
		         (!tag || strcmp(tag, YAML_DEFAULT_SCALAR_TAG) == 0))
			v = cb_value_new_string(s, len);
		else
			v = resolve_tagged(c, tag, s, len, &node->start_mark);
		if (!v)
			return NULL;
		break;
	}
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		v = cb_value_new_list();
		cb_value_reserve(v, (size_t)(node->data.sequence.items.top -
		                             node->data.sequence.items.start));
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top;
		     it++) {
			cb_value *item = convert(c, *it, depth + 1, &cw);
			if (!item) {
				cb_value_unref(v);
				return NULL;
			}
			w += cw;
			cb_value_push(v, item);
			if (w > CB_YAML_MAX_NODES)
				goto too_big;
		}
		break;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;

		v = cb_value_new_map();
		cb_value_reserve(v, (size_t)(node->data.mapping.pairs.top -
		                             node->data.mapping.pairs.start));
		for (p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			cb_value *val;
			const char *ks;
			size_t klen;

			if (!k || k->type != YAML_SCALAR_NODE) {
				if (k)
					report_at(c, &k->start_mark, "yaml-key",
					          "mapping keys must be plain text, not a list or map");
				cb_value_unref(v);
				return NULL;
			}
			ks = (const char *)k->data.scalar.value;
			klen = k->data.scalar.length;
			if (cb_value_get(v, ks, klen)) {
				size_t i;
				unsigned first = 0;
				for (i = 0; i < cb_value_len(v); i++) {
					size_t l2;
					const char *k2 = cb_value_key(v, i, &l2);
					if (l2 == klen && memcmp(k2, ks, klen) == 0)
						first = cb_value_key_line(v, i);
				}
				cb_diag_error(c->diags, "yaml-duplicate-key", c->path,
				              (unsigned)k->start_mark.line + 1 + c->line_offset,
				              (unsigned)k->start_mark.column + 1,
				              "duplicate key '%.*s' (first given on line %u)", (int)klen,
				              ks, first);
				cb_value_unref(v);
				return NULL;
			}
			val = convert(c, p->value, depth + 1, &cw);
			if (!val) {
				cb_value_unref(v);
				return NULL;
			}
			w += cw;
			cb_value_set_at(v, ks, klen, val,
			                (unsigned)k->start_mark.line + 1 + c->line_offset,
			                (unsigned)k->start_mark.column + 1);
			if (w > CB_YAML_MAX_NODES)
				goto too_big;
		}
		break;
	}
	default:
		v = cb_value_new_null();
		break;
	}
	cb_value_set_pos(v, (unsigned)node->start_mark.line + 1 + c->line_offset,
	                 (unsigned)node->start_mark.column + 1);
	*weight = w;
	return v;

too_big:
	/* Weights are capped here, so they never overflow however deep the
	 * aliases nest ("billion laughs"). */
	cb_diag_error(c->diags, "yaml-alias-expansion", c->path,
	              (unsigned)node->start_mark.line + 1 + c->line_offset,
	              (unsigned)node->start_mark.column + 1,
	              "aliases expand this value beyond %d values", CB_YAML_MAX_NODES);
	cb_value_unref(v);
	return NULL;
}

static cb_value *convert(conv *c, int id, int depth, size_t *weight)
{
	yaml_node_t *node = yaml_document_get_node(c->doc, id);
	cb_value *v;

	if (!node) {
		*weight = 1;
		return cb_value_new_null();
	}
	if (depth > CB_YAML_MAX_DEPTH) {
		report_at(c, &node->start_mark, "yaml-depth", "nesting is too deep");
		return NULL;
	}
	if (c->state[id - 1] == 2) {
		/* An alias: share the converted value, count its full size. */
		*weight = c->weight[id - 1];
		return cb_value_ref(c->done[id - 1]);
	}
	if (c->state[id - 1] == 1) {
		report_at(c, &node->start_mark, "yaml-alias", "an alias refers to itself");
		return NULL;
	}
	c->state[id - 1] = 1;
	v = convert_node(c, node, depth, weight);
	if (!v)
		return NULL;
	c->state[id - 1] = 2;
	c->done[id - 1] = v;
	c->weight[id - 1] = *weight;
	return v;
}

/* ---- syntax errors, as a contributor can act on them ---------------------
 *
 * libyaml says what it expected ("did not find expected key") where it
 * noticed, and what it was reading ("while parsing a block mapping") where
 * that began. Neither is always where the mistake is: an unclosed quote is
 * noticed at the next line's quote, a list left open at the next field. So
 * the common mistakes are recognised from the problem and the text around
 * it, and reported where they are, with what to write instead. */

/* The text of one YAML file and where its lines are. */
typedef struct src_text {
	const char *buf;
	size_t len;
	unsigned line_offset; /* added to 0-based lines, plus one, in reports */
} src_text;

/* Line l (0-based) of t: its bytes [*b, *e), without the line break.
 * Returns 0 when there is no such line. */
static int line_span(const src_text *t, size_t l, size_t *b, size_t *e)
{
	size_t pos = 0, i;

	for (i = 0; i < l; i++) {
		const char *nl = memchr(t->buf + pos, '\n', t->len - pos);
		if (!nl)
			return 0;
		pos = (size_t)(nl - t->buf) + 1;
	}
	if (pos > t->len || (pos == t->len && l > 0))
		return 0;
	*b = pos;
	while (pos < t->len && t->buf[pos] != '\n')
		pos++;
	if (pos > *b && t->buf[pos - 1] == '\r')
		pos--;
	*e = pos;
	return 1;
}

/* The byte at character column col (0-based) of the line at [b, e). */
static size_t col_byte(const src_text *t, size_t b, size_t e, size_t col)
{
	while (b < e && col > 0) {
		b++;
		while (b < e && ((unsigned char)t->buf[b] & 0xC0) == 0x80)
			b++;
		col--;
	}
	return b;
}

/* The spaces before the first other byte of the line at [b, e). */
static size_t indent_of(const src_text *t, size_t b, size_t e)
{
	size_t i = b;

	while (i < e && t->buf[i] == ' ')
		i++;
	return i - b;
}

static int blank_or_comment(const src_text *t, size_t b, size_t e)
{
	b += indent_of(t, b, e);
	return b == e || t->buf[b] == '#';
}

/* The nearest line before l that holds YAML (not blank, not a comment), or
 * (size_t)-1. */
static size_t line_before(const src_text *t, size_t l, size_t *b, size_t *e)
{
	while (l-- > 0)
		if (line_span(t, l, b, e) && !blank_or_comment(t, *b, *e))
			return l;
	return (size_t)-1;
}

/* The first ": " (or ':' ending the line) in [b, e) outside quotes, or e. */
static size_t colon_at(const src_text *t, size_t b, size_t e)
{
	char q = 0;
	size_t i;

	for (i = b; i < e; i++) {
		char c = t->buf[i];
		if (q) {
			if (c == '\\' && q == '"' && i + 1 < e)
				i++;
			else if (c == q)
				q = 0;
		} else if ((c == '"' || c == '\'') && (i == b || t->buf[i - 1] == ' ')) {
			q = c;
		} else if (c == ':' && (i + 1 == e || t->buf[i + 1] == ' ')) {
			return i;
		}
	}
	return e;
}

/* Where the value of the line at [b, e) begins: after its indentation, any
 * "- " and any "key: ". Returns e when the line holds no value. */
static size_t value_at(const src_text *t, size_t b, size_t e)
{
	size_t i = b + indent_of(t, b, e), c;

	while (i + 1 < e && t->buf[i] == '-' && t->buf[i + 1] == ' ')
		for (i += 2; i < e && t->buf[i] == ' '; i++)
			;
	if (i < e && t->buf[i] != '"' && t->buf[i] != '\'') {
		c = colon_at(t, i, e);
		if (c == e)
			return i;
		for (i = c + 1; i < e && t->buf[i] == ' '; i++)
			;
	}
	return i;
}

/* Does the quoted scalar opening at q (a quote mark) close before e? */
static int quote_closes(const src_text *t, size_t q, size_t e)
{
	char m = t->buf[q];
	size_t i;

	for (i = q + 1; i < e; i++) {
		if (m == '"' && t->buf[i] == '\\')
			i++;
		else if (t->buf[i] == m && m == '\'' && i + 1 < e && t->buf[i + 1] == '\'')
			i++;
		else if (t->buf[i] == m)
			return 1;
	}
	return 0;
}

/* The line, at or before l, whose quoted value is left open and runs on to
 * line l, where the first quote mark closes it; (size_t)-1 if none does.
 * *q is then the byte of the opening quote. */
static size_t open_quote_before(const src_text *t, size_t l, size_t *q)
{
	size_t b, e, k;

	for (k = l; k-- > 0;) {
		size_t v;
		if (!line_span(t, k, &b, &e))
			return (size_t)-1;
		v = value_at(t, b, e);
		if (v < e && (t->buf[v] == '"' || t->buf[v] == '\'') && !quote_closes(t, v, e)) {
			*q = v;
			return k;
		}
		/* A line between them with a quote mark of its own: not this. */
		if (memchr(t->buf + b, '"', e - b) || memchr(t->buf + b, '\'', e - b))
			return (size_t)-1;
	}
	return (size_t)-1;
}

/* Report msg with hint at (l, col) (0-based; col in characters). */
static void syntax_at(const src_text *t, const char *path, size_t l, size_t col,
                      const char *hint, const char *msg, cb_diag_list *diags)
{
	cb_diag_add(diags, CB_ERROR, "yaml-syntax", path, (unsigned)l + 1 + t->line_offset,
	            (unsigned)col + 1, hint && *hint ? hint : NULL, "%s", msg);
}

/* The character column (0-based) of byte i on the line starting at b. */
static size_t char_col(const src_text *t, size_t b, size_t i)
{
	return cb_utf8_chars(t->buf + b, i - b);
}

/* Append the line at [b, e) up to its value, without its indentation
 * ("city: ", "- "); returns where the value starts. */
static size_t put_key(const src_text *t, size_t b, size_t e, cb_buf *out)
{
	size_t k = b + indent_of(t, b, e), v = value_at(t, b, e);

	cb_buf_put(out, t->buf + k, v - k);
	return v;
}

/* The line at [b, e) as it reads with its value in double quotes
 * (`city: Lyon: centre` -> `city: "Lyon: centre"`), into out; a long value
 * is cut short with "...". */
static void quoted(const src_text *t, size_t b, size_t e, cb_buf *out)
{
	size_t i = put_key(t, b, e, out), n = 0;

	cb_buf_putc(out, '"');
	for (; i < e; i++) {
		int lead = ((unsigned char)t->buf[i] & 0xC0) != 0x80;
		if (lead && n++ == 48 && e - i > 8) {
			cb_buf_puts(out, "...");
			break;
		}
		if (t->buf[i] == '"' || t->buf[i] == '\\')
			cb_buf_putc(out, '\\');
		cb_buf_putc(out, t->buf[i]);
	}
	cb_buf_putc(out, '"');
}

/* ": " inside a value (`city: Lyon: centre`) or a line indented under a
 * field that already has its value (`  year: 2000`). The problem is at the
 * colon (pl, pc). */
static int mapping_value(const src_text *t, const char *path, size_t pl, size_t pc,
                         cb_diag_list *diags)
{
	size_t b, e, pb, pe, at, first, prev;
	cb_buf hint = CB_BUF_INIT, msg = CB_BUF_INIT;

	if (!line_span(t, pl, &b, &e))
		return 0;
	at = col_byte(t, b, e, pc);
	first = colon_at(t, b + indent_of(t, b, e), e);
	prev = line_before(t, pl, &pb, &pe);
	if (at == first && prev != (size_t)-1 && indent_of(t, b, e) > indent_of(t, pb, pe)) {
		size_t k = b + indent_of(t, b, e);
		cb_buf_printf(&msg, "'%.*s' is indented more than the line above it", (int)(at - k),
		              t->buf + k);
		cb_buf_printf(&hint,
		              "a field starts at the same column as the fields beside it (column "
		              "%zu, as on line %zu); if this line goes on with the value above, "
		              "put that whole value in double quotes",
		              indent_of(t, pb, pe) + 1, prev + 1 + t->line_offset);
	} else if (first < at) {
		cb_buf_puts(&msg, "': ' inside a value: YAML reads it as the start of another field");
		cb_buf_puts(&hint, "put the value in double quotes: ");
		quoted(t, b, e, &hint);
	} else {
		cb_buf_puts(&msg, "a field ('name: value') where a value was expected");
		cb_buf_puts(&hint, "if ': ' belongs to the text, put the text in double quotes");
	}
	syntax_at(t, path, pl, pc, hint.ptr, msg.ptr, diags);
	cb_buf_dispose(&hint);
	cb_buf_dispose(&msg);
	return 1;
}

/* Is the line at [b, e) a list item ("- ...")? */
static int item_line(const src_text *t, size_t b, size_t e)
{
	b += indent_of(t, b, e);
	return b < e && t->buf[b] == '-' && (b + 1 == e || t->buf[b + 1] == ' ');
}

/* "did not find expected key" (or '-' indicator) at (pl, pc), in the block
 * that starts at (cl, cc): a quote left open on a line before, text after
 * a value's closing bracket or quote, a line indented unlike its block, or
 * a list item among fields. */
static int block_break(const src_text *t, const char *path, int seq, size_t pl, size_t pc,
                       size_t cl, size_t cc, cb_diag_list *diags)
{
	size_t b, e, pb = 0, pe = 0, q, ql, at, ind, before, prev;
	cb_buf hint = CB_BUF_INIT, msg = CB_BUF_INIT;

	if (!line_span(t, pl, &b, &e))
		return 0;
	at = col_byte(t, b, e, pc);
	ind = indent_of(t, b, e);
	ql = open_quote_before(t, pl, &q);
	prev = line_before(t, pl, &pb, &pe);
	before = at;
	while (before > b && t->buf[before - 1] == ' ')
		before--;
	if (ql != (size_t)-1) {
		size_t qb, qe;
		line_span(t, ql, &qb, &qe);
		cb_buf_printf(&msg, "this quoted value is not closed on its line: it runs on to line %zu",
		              pl + 1 + t->line_offset);
		cb_buf_printf(&hint, "end it with %c on this line", t->buf[q]);
		syntax_at(t, path, ql, char_col(t, qb, q), hint.ptr, msg.ptr, diags);
	} else if (at > b + ind && before > b + ind && strchr("]}\"'", t->buf[before - 1])) {
		char c = t->buf[before - 1];
		cb_buf_printf(&msg, "text after the closing %s of this value",
		              c == ']' ? "']'" : c == '}' ? "'}'" : "quote");
		if (c == ']') {
			/* country: [Peru], Chile -> country: [Peru, Chile] */
			size_t i;
			cb_buf_puts(&hint, "put every item inside the brackets: ");
			i = put_key(t, b, e, &hint);
			cb_buf_putc(&hint, '[');
			for (; i < e; i++)
				if (t->buf[i] != '[' && t->buf[i] != ']')
					cb_buf_putc(&hint, t->buf[i]);
			cb_buf_putc(&hint, ']');
		} else if (c == '}') {
			cb_buf_puts(&hint, "put every entry inside the braces: {name: value, other: value}");
		} else {
			cb_buf_puts(&hint, "put the whole value inside the quotes");
		}
		syntax_at(t, path, pl, pc, hint.ptr, msg.ptr, diags);
	} else if (ind != cc && at == b + ind && prev != (size_t)-1 && item_line(t, b, e) &&
	           item_line(t, pb, pe) && indent_of(t, pb, pe) != ind) {
		cb_buf_puts(&msg, "this list item is indented unlike the one above it");
		cb_buf_printf(&hint, "the items of a list start at the same column: column %zu, as "
		              "on line %zu", indent_of(t, pb, pe) + 1, prev + 1 + t->line_offset);
		syntax_at(t, path, pl, pc, hint.ptr, msg.ptr, diags);
	} else if (ind != cc && at == b + ind) {
		cb_buf_printf(&msg, "this line's indentation matches none of the %s above it",
		              seq ? "list items" : "fields");
		cb_buf_printf(&hint, "start it at column %zu, as on line %zu", cc + 1,
		              cl + 1 + t->line_offset);
		if (prev != (size_t)-1 && indent_of(t, pb, pe) != cc && prev != cl)
			cb_buf_printf(&hint, ", or at column %zu, as on line %zu",
			              indent_of(t, pb, pe) + 1, prev + 1 + t->line_offset);
		syntax_at(t, path, pl, pc, hint.ptr, msg.ptr, diags);
	} else if (!seq && e - at >= 2 && t->buf[at] == '-' && t->buf[at + 1] == ' ') {
		syntax_at(t, path, pl, pc,
		          "list items go under a field with no value of its own, indented: "
		          "'tags:', then '  - one' on the next line",
		          "a list item among the fields", diags);
	} else if (seq) {
		syntax_at(t, path, pl, pc, "every item of a list starts with '- ' at the same column",
		          "a list item ('- ...') was expected here", diags);
	} else {
		syntax_at(t, path, pl, pc, "write one field per line: 'name: value'",
		          "a field ('name: value') was expected here", diags);
	}
	cb_buf_dispose(&hint);
	cb_buf_dispose(&msg);
	return 1;
}

/* A key with no ':' after it (`year 2000`, `year:2000`); it starts at
 * (cl, cc). */
static int no_colon(const src_text *t, const char *path, size_t cl, size_t cc,
                    cb_diag_list *diags)
{
	size_t b, e;
	const char *c;

	if (!line_span(t, cl, &b, &e))
		return 0;
	c = memchr(t->buf + b, ':', e - b);
	if (c && (size_t)(c - t->buf) + 1 < e) {
		syntax_at(t, path, cl, char_col(t, b, (size_t)(c - t->buf)) + 1,
		          "write 'name: value', with a space after the colon",
		          "a space is missing after ':'", diags);
		return 1;
	}
	syntax_at(t, path, cl, cc, "write 'name: value'; a line of text that goes on from the "
	          "line above belongs in quotes with it",
	          "this line has no ':' after its field's name", diags);
	return 1;
}

static void report_parser_error(yaml_parser_t *p, const src_text *t, const char *path,
                                cb_diag_list *diags)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	const char *context = p->context ? p->context : "";
	size_t pl = p->problem_mark.line, pc = p->problem_mark.column;
	size_t cl = p->context_mark.line, cc = p->context_mark.column;
	size_t b, e, at = 0;
	int have_line = line_span(t, pl, &b, &e);

	if (have_line)
		at = col_byte(t, b, e, pc);
	if (strstr(problem, "tab character") ||
	    (have_line && at < e && t->buf[at] == '\t' &&
	     strstr(problem, "cannot start any token"))) {
		/* The tab is in the indentation of the line the problem is on. */
		const char *tab = have_line ? memchr(t->buf + b, '\t', e - b) : NULL;
		syntax_at(t, path, pl, tab ? char_col(t, b, (size_t)(tab - t->buf)) : pc,
		          "YAML indents with spaces only: replace the tab with spaces",
		          "a tab character in the indentation", diags);
		return;
	}
	if (strstr(problem, "cannot start any token") && have_line && at < e) {
		cb_buf hint = CB_BUF_INIT;
		char msg[64];
		cb_buf_puts(&hint, "put the value in double quotes: ");
		quoted(t, b, e, &hint);
		snprintf(msg, sizeof msg, "a value cannot start with '%c' unless it is quoted",
		         t->buf[at]);
		syntax_at(t, path, pl, pc, hint.ptr, msg, diags);
		cb_buf_dispose(&hint);
		return;
	}
	if (strcmp(problem, "mapping values are not allowed in this context") == 0 &&
	    mapping_value(t, path, pl, pc, diags))
		return;
	if (strstr(context, "quoted scalar") && strstr(problem, "end of stream")) {
		syntax_at(t, path, cl, cc, "end it with the same quote mark it starts with",
		          "this quoted value is never closed", diags);
		return;
	}
	if (strstr(context, "flow sequence") || strstr(context, "flow mapping")) {
		int seq = strstr(context, "sequence") != NULL;
		char msg[96];
		snprintf(msg, sizeof msg, "this %s opened with '%c' is not closed",
		         seq ? "list" : "mapping", seq ? '[' : '{');
		syntax_at(t, path, cl < pl ? cl : pl, cl < pl ? cc : pc,
		          seq ? "close it with ']' on the same line: tags: [one, two]; an item "
		                "holding ',', ':', '[' or ']' goes in double quotes"
		              : "close it with '}' on the same line: {name: value, other: value}",
		          msg, diags);
		return;
	}
	if ((strcmp(problem, "did not find expected key") == 0 ||
	     strcmp(problem, "did not find expected '-' indicator") == 0) &&
	    block_break(t, path, strstr(problem, "indicator") != NULL, pl, pc, cl, cc, diags))
		return;
	if (strcmp(problem, "could not find expected ':'") == 0 && no_colon(t, path, cl, cc, diags))
		return;
	/* Anything else: libyaml's words, where the construct began. */
	if (p->context && cl < pl) {
		cb_diag_error(diags, "yaml-syntax", path, (unsigned)cl + 1 + t->line_offset,
		              (unsigned)cc + 1, "%s (%s that starts here; noticed at line %zu)",
		              problem, context + (strncmp(context, "while ", 6) == 0 ? 6 : 0),
		              pl + 1 + t->line_offset);
		return;
	}
	cb_diag_error(diags, "yaml-syntax", path, (unsigned)pl + 1 + t->line_offset,
	              (unsigned)pc + 1, "%s%s%s", problem, *context ? " " : "", context);
}

int cb_yaml_parse(cb_value **out, const char *buf, size_t len, const char *path,
                  unsigned line_offset, cb_diag_list *diags)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	conv c;
	size_t n, weight = 0;
	cb_value *root = NULL;
	int rc = -1, have_doc = 0;
	src_text text;

	*out = NULL;
	text.buf = buf;
	text.len = len;
	text.line_offset = line_offset;
	memset(&c, 0, sizeof c);
	if (!yaml_parser_initialize(&parser))
		return cb_diag_error(diags, "yaml", path, 0, 0, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	if (!yaml_parser_load(&parser, &doc)) {
		report_parser_error(&parser, &text, path, diags);
		goto out;
	}
	have_doc = 1;
	if (!yaml_document_get_root_node(&doc)) {
		root = cb_value_new_null();
		cb_value_set_pos(root, 1 + line_offset, 1);
		rc = 0;
		goto out;
	}
	/* A second document in the same text is a mistake (a stray `---`). */
	if (yaml_parser_load(&parser, &extra)) {
		if (yaml_document_get_root_node(&extra)) {
			cb_diag_error(diags, "yaml-multiple-documents", path,
			              (unsigned)extra.start_mark.line + 1 + line_offset, 1,
			              "more than one YAML document (remove the extra '---')");
			yaml_document_delete(&extra);
			goto out;
		}
		yaml_document_delete(&extra);
	} else {
		report_parser_error(&parser, &text, path, diags);
		goto out;
	}

	n = (size_t)(doc.nodes.top - doc.nodes.start);
	c.doc = &doc;
	c.done = cb_xcalloc(n, sizeof(cb_value *));
	c.weight = cb_xcalloc(n, sizeof(size_t));
	c.state = cb_xcalloc(n, 1);
	c.path = path;
	c.line_offset = line_offset;
	c.diags = diags;

	root = convert(&c, 1, 0, &weight);
	if (!root)
		goto out;
	rc = 0;
out:
	/* c.done holds borrowed pointers (the tree owns them). */
	free(c.done);
	free(c.weight);
	free(c.state);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	*out = rc == 0 ? root : NULL;
	return rc;
}
