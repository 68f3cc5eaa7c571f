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

/* libyaml says what it expected ("did not find expected ',' or ']'") at the
 * point it noticed, and what it was reading ("while parsing a flow
 * sequence") where that began. Report at the beginning when the problem was
 * only noticed at the end of the text, which is where unclosed brackets and
 * quotes are noticed. */
static void report_parser_error(yaml_parser_t *p, const char *path, unsigned line_offset,
                                cb_diag_list *diags)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->context && p->context_mark.line < p->problem_mark.line) {
		const yaml_mark_t *c = &p->context_mark;
		cb_diag_error(diags, "yaml-syntax", path, (unsigned)c->line + 1 + line_offset,
		              (unsigned)c->column + 1, "%s (%s that starts here; noticed at line %u)",
		              problem, p->context + (strncmp(p->context, "while ", 6) == 0 ? 6 : 0),
		              (unsigned)m->line + 1 + line_offset);
		return;
	}
	cb_diag_error(diags, "yaml-syntax", path, (unsigned)m->line + 1 + line_offset,
	              (unsigned)m->column + 1, "%s%s%s", problem, p->context ? " " : "",
	              p->context ? p->context : "");
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

	*out = NULL;
	memset(&c, 0, sizeof c);
	if (!yaml_parser_initialize(&parser))
		return cb_diag_error(diags, "yaml", path, 0, 0, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	if (!yaml_parser_load(&parser, &doc)) {
		report_parser_error(&parser, path, line_offset, diags);
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
		report_parser_error(&parser, path, line_offset, diags);
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
