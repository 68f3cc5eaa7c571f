/*
 * cb_schema: case schema checks (see cb_schema.h).
 */
#include "cb_schema.h"

#include <stdlib.h>
#include <string.h>

#include "cb_lint.h"

typedef enum shape {
	S_STRING,      /* a string */
	S_STRINGS,     /* a string or a list of strings */
	S_LIST,        /* a list of strings (a single string is accepted) */
	S_INT,         /* an integer year */
	S_BOOL,
} shape;

typedef struct field {
	const char *name;
	shape shape;
	int required;
	const char *example;
} field;

static const field fields[] = {
    {"title", S_STRING, 1, "title: \"Client councils in Dutch elderly care\""},
    {"summary", S_STRING, 0, "summary: \"One sentence: who does what, where.\""},
    {"country", S_STRINGS, 1, "country: Netherlands"},
    {"city", S_STRINGS, 0, "city: Rotterdam"},
    {"year", S_INT, 1, "year: 2014"},
    {"end_year", S_INT, 0, "end_year: 2016"},
    {"sector", S_STRINGS, 1, "sector: health"},
    {"phases", S_LIST, 0, "phases: [co-design, co-delivery]"},
    {"level", S_STRINGS, 0, "level: group"},
    {"initiator", S_STRINGS, 0, "initiator: government"},
    {"role", S_STRINGS, 0, "role: co-implementer"},
    {"task", S_STRING, 0, "task: core"},
    {"type", S_STRING, 0, "type: core-implementation"},
    {"coproducer_role", S_STRINGS, 0, "coproducer_role: client"},
    {"motivations", S_LIST, 0, "motivations: [efficacy]"},
    {"risks", S_LIST, 0, "risks: [reinforced-inequalities]"},
    {"tags", S_LIST, 0, "tags: [neighbourhood watch]"},
    {"digital", S_BOOL, 0, "digital: true"},
    {"sources", S_LIST, 1, "sources:\n  - \"Author, A. (2018). Title. Publisher.\""},
    {NULL, S_STRING, 0, NULL},
};

const char *const cb_schema_fields[] = {
    "title", "summary", "country", "city", "year", "end_year", "sector", "phases", "level",
    "initiator", "role", "task", "type", "coproducer_role", "motivations", "risks", "tags",
    "digital", "sources", NULL};

static const char *article(cb_type t)
{
	return t == CB_INT ? "an" : "a";
}

static int bad_type(const cb_doc *doc, const field *f, const cb_value *v, const char *want,
                    cb_diag_list *diags)
{
	cb_type t = cb_value_type(v);

	return cb_diag_add(diags, CB_ERROR, "field-type", cb_doc_path(doc), cb_value_line(v),
	                   cb_value_col(v), f->example, "%s must be %s, not %s %s", f->name, want,
	                   article(t), cb_type_name(t));
}

static int empty_string(const cb_value *v)
{
	const char *s = cb_value_cstr(v);

	if (!s)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s == '\0';
}

static int placeholder(const cb_value *v)
{
	size_t len;
	const char *s = cb_value_str(v, &len);

	return s && cb_lint_has_placeholder(s, len);
}

/* A map of one entry written on one line (`- Rome: Ministry of Health`) is
 * text with ': ' in it, which YAML read as a field: the hint to quote it,
 * or NULL. Caller frees. */
static char *colon_hint(const cb_value *v)
{
	size_t klen, word;
	const char *key;

	if (cb_value_type(v) != CB_MAP || cb_value_len(v) != 1)
		return NULL;
	key = cb_value_key(v, 0, &klen);
	if (cb_value_key_line(v, 0) != cb_value_line(cb_value_entry(v, 0)))
		return NULL;
	/* The word before the colon is enough to find it. */
	for (word = klen; word > 0 && key[word - 1] != ' '; word--)
		;
	return cb_xasprintf("the ': ' after '%.*s' made YAML read this item as a field and its "
	                    "value: put the whole item in double quotes",
	                    (int)(klen - word), key + word);
}

static int check_field(const cb_doc *doc, const field *f, const cb_value *v, cb_diag_list *diags)
{
	size_t i;

	if (placeholder(v))
		return 0; /* cb_lint reports it */

	switch (f->shape) {
	case S_STRING:
		if (cb_value_type(v) != CB_STRING)
			return bad_type(doc, f, v, "a string", diags);
		if (empty_string(v))
			return cb_diag_add(diags, CB_ERROR, "field-empty", cb_doc_path(doc),
			                   cb_value_line(v), cb_value_col(v), f->example, "%s is empty",
			                   f->name);
		return 0;
	case S_STRINGS:
	case S_LIST:
		if (cb_value_type(v) == CB_STRING) {
			if (empty_string(v))
				return cb_diag_add(diags, CB_ERROR, "field-empty", cb_doc_path(doc),
				                   cb_value_line(v), cb_value_col(v), f->example,
				                   "%s is empty", f->name);
			return 0;
		}
		if (cb_value_type(v) != CB_LIST)
			return bad_type(doc, f, v,
			                f->shape == S_LIST ? "a list of strings"
			                                   : "a string or a list of strings",
			                diags);
		if (cb_value_len(v) == 0 && f->required)
			return cb_diag_add(diags, CB_ERROR, "field-empty", cb_doc_path(doc),
			                   cb_value_line(v), cb_value_col(v), f->example,
			                   "%s is an empty list", f->name);
		for (i = 0; i < cb_value_len(v); i++) {
			const cb_value *item = cb_value_at(v, i);
			if (cb_value_type(item) != CB_STRING) {
				cb_type t = cb_value_type(item);
				char *hint = colon_hint(item);
				int rc = cb_diag_add(diags, CB_ERROR, "field-type", cb_doc_path(doc),
				                     cb_value_line(item), cb_value_col(item),
				                     hint ? hint : f->example,
				                     "each item of %s must be a string, not %s %s", f->name,
				                     article(t), cb_type_name(t));
				free(hint);
				return rc;
			}
			if (empty_string(item))
				return cb_diag_add(diags, CB_ERROR, "field-empty", cb_doc_path(doc),
				                   cb_value_line(item), cb_value_col(item), f->example,
				                   "item %zu of %s is empty", i + 1, f->name);
		}
		return 0;
	case S_INT:
		if (cb_value_type(v) != CB_INT)
			return bad_type(doc, f, v, "a whole year (e.g. 2014)", diags);
		if (cb_value_int(v) < CB_SCHEMA_MIN_YEAR || cb_value_int(v) > CB_SCHEMA_MAX_YEAR)
			return cb_diag_add(diags, CB_ERROR, "year-range", cb_doc_path(doc),
			                   cb_value_line(v), cb_value_col(v), NULL,
			                   "%s %lld is out of range (%d to %d)", f->name, cb_value_int(v),
			                   CB_SCHEMA_MIN_YEAR, CB_SCHEMA_MAX_YEAR);
		return 0;
	case S_BOOL:
		if (cb_value_type(v) != CB_BOOL)
			return bad_type(doc, f, v, "true or false", diags);
		return 0;
	}
	return 0;
}

static const field *find_field(const char *name)
{
	const field *f;

	for (f = fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

const char *cb_schema_example(const char *name)
{
	const field *f = find_field(name);

	return f ? f->example : NULL;
}

int cb_schema_required(const char *name)
{
	const field *f = find_field(name);

	return f ? f->required : 0;
}

int cb_schema_check(const cb_doc *doc, cb_diag_list *diags)
{
	const cb_value *meta = cb_doc_meta(doc);
	const cb_value *year, *end;
	const field *f;
	int rc = 0;

	for (f = fields; f->name; f++) {
		const cb_value *v = cb_value_getc(meta, f->name);

		if (!v || cb_value_type(v) == CB_NULL) {
			/* "country:" or "country: ~" is placed where it is written. */
			if (f->required && v && cb_value_line(v))
				rc = cb_diag_add(diags, CB_ERROR, "field-missing", cb_doc_path(doc),
				                 cb_value_line(v), cb_value_col(v), f->example,
				                 "required field '%s' has no value", f->name);
			else if (f->required)
				rc = cb_diag_add(diags, CB_ERROR, "field-missing", cb_doc_path(doc), 1, 1,
				                 f->example, "missing required field '%s'", f->name);
			continue;
		}
		if (check_field(doc, f, v, diags) < 0)
			rc = -1;
	}
	year = cb_value_getc(meta, "year");
	end = cb_value_getc(meta, "end_year");
	if (cb_value_type(year) == CB_INT && cb_value_type(end) == CB_INT &&
	    cb_value_int(end) < cb_value_int(year))
		rc = cb_diag_add(diags, CB_ERROR, "year-order", cb_doc_path(doc), cb_value_line(end),
		                 cb_value_col(end), NULL, "end_year %lld is before year %lld",
		                 cb_value_int(end), cb_value_int(year));
	return rc;
}
