/*
 * cb_export: cases as JSON and CSV (see cb_export.h).
 */
#include "cb_export.h"

#include <stdlib.h>
#include <string.h>

#include "cb_config.h"
#include "cb_doc.h"
#include "cb_mem.h"
#include "cb_schema.h"
#include "cb_site.h"

void cb_export_csv_field(cb_buf *out, const char *s, size_t len)
{
	size_t i;

	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\r', len) &&
	    !memchr(s, '\n', len)) {
		cb_buf_put(out, s, len);
		return;
	}
	cb_buf_putc(out, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			cb_buf_putc(out, '"');
		cb_buf_putc(out, s[i]);
	}
	cb_buf_putc(out, '"');
}

void cb_export_cell_text(cb_buf *out, const cb_value *v)
{
	size_t i;

	switch (cb_value_type(v)) {
	case CB_LIST:
		for (i = 0; i < cb_value_len(v); i++) {
			if (i)
				cb_buf_puts(out, "; ");
			cb_export_cell_text(out, cb_value_at(v, i));
		}
		break;
	case CB_MAP:
		cb_value_json(v, out, 0);
		break;
	default:
		cb_value_text(v, out);
	}
}

static void push_unique(cb_value *list, const char *term)
{
	size_t i;

	for (i = 0; i < cb_value_len(list); i++)
		if (strcmp(cb_value_cstr(cb_value_at(list, i)), term) == 0)
			return;
	cb_value_push(list, cb_value_new_cstr(term));
}

cb_value *cb_export_classification(const cb_site *site, size_t c, cb_value **derived)
{
	const cb_doc *doc = cb_site_case(site, c);
	const cb_value *meta = cb_doc_meta(doc), *facets = cb_doc_facets(doc);
	cb_value *out = cb_value_new_map(), *der = NULL;
	size_t t, i;

	for (t = 0; t < cb_site_taxonomy_count(site); t++) {
		const char *name;
		const cb_value *tax = cb_site_taxonomy_at(site, t, &name, NULL);
		const char *field = cb_value_cstr(cb_value_getc(tax, "field"));
		const cb_value *v = cb_value_getc(meta, field ? field : name);
		const cb_value *facet = cb_value_getc(facets, name);
		cb_value *terms = cb_value_new_list();

		if (cb_value_type(v) == CB_STRING)
			push_unique(terms, cb_value_cstr(v));
		for (i = 0; cb_value_type(v) == CB_LIST && i < cb_value_len(v); i++)
			if (cb_value_cstr(cb_value_at(v, i)))
				push_unique(terms, cb_value_cstr(cb_value_at(v, i)));
		for (i = 0; i < cb_value_len(facet); i++) {
			const cb_value *e = cb_value_at(facet, i);
			const char *term = cb_value_cstr(cb_value_getc(e, "term"));
			if (!term)
				continue;
			push_unique(terms, term);
			if (derived && cb_value_bool(cb_value_getc(e, "derived"))) {
				cb_value *l;
				if (!der)
					der = cb_value_new_map();
				if (!(l = cb_value_getc(der, name))) {
					l = cb_value_new_list();
					cb_value_setc(der, name, l);
				}
				push_unique(l, term);
			}
		}
		cb_value_setc(out, name, terms);
	}
	if (derived)
		*derived = der;
	return out;
}

static cb_value *lesson_ids(const cb_doc *doc)
{
	const cb_value *items = cb_value_getc(cb_value_getc(cb_doc_vars(doc), "lessons"), "items");
	cb_value *ids = cb_value_new_list();
	size_t i;

	for (i = 0; i < cb_value_len(items); i++) {
		const cb_value *id = cb_value_getc(cb_value_at(items, i), "id");
		if (cb_value_type(id) == CB_STRING)
			cb_value_push(ids, cb_value_ref((cb_value *)id));
	}
	return ids;
}

/* ---- JSON ---------------------------------------------------------------- */

static int write_json(cb_render *r, cb_render_sink *sink, void *ctx, size_t arg)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_config *cfg = cb_site_config(site);
	cb_buf b = CB_BUF_INIT;
	size_t i;

	(void)ctx;
	(void)arg;
	cb_buf_puts(&b, "{\n\"title\": \"");
	cb_buf_put_json(&b, cb_config_title(cfg), strlen(cb_config_title(cfg)));
	cb_buf_puts(&b, "\",\n\"generator\": \"casebook " CB_VERSION "\",\n");
	if (cb_config_base_url(cfg)) {
		cb_buf_puts(&b, "\"base_url\": \"");
		cb_buf_put_json(&b, cb_config_base_url(cfg), strlen(cb_config_base_url(cfg)));
		cb_buf_puts(&b, "\",\n");
	}
	cb_buf_printf(&b, "\"case_count\": %zu,\n\"cases\": [\n", cb_site_case_count(site));
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_doc *doc = cb_site_case(site, i);
		cb_value *c = cb_value_new_map(), *derived = NULL;

		cb_value_set_str(c, "slug", cb_doc_slug(doc));
		cb_value_set_str(c, "url", cb_doc_url(doc));
		cb_value_set_str(c, "title", cb_doc_title(doc));
		cb_value_setc(c, "front_matter", cb_value_ref(cb_doc_meta(doc)));
		cb_value_setc(c, "classification", cb_export_classification(site, i, &derived));
		cb_value_setc(c, "derived", derived ? derived : cb_value_new_map());
		cb_value_setc(c, "lessons", lesson_ids(doc));
		cb_value_json(c, &b, 0);
		cb_value_unref(c);
		cb_buf_puts(&b, i + 1 < cb_site_case_count(site) ? ",\n" : "\n");
		if (b.len > (1 << 20)) {
			cb_render_sink_put(sink, b.ptr, b.len);
			cb_buf_clear(&b);
		}
	}
	cb_buf_puts(&b, "]\n}\n");
	cb_render_sink_put(sink, b.ptr, b.len);
	cb_buf_dispose(&b);
	return 0;
}

/* ---- CSV ----------------------------------------------------------------- */

static int is_schema_field(const char *k)
{
	size_t i;

	for (i = 0; cb_schema_fields[i]; i++)
		if (strcmp(cb_schema_fields[i], k) == 0)
			return 1;
	return 0;
}

/* Front-matter keys outside the schema, in the order they first appear. */
static cb_value *extra_keys(const cb_site *site)
{
	cb_value *seen = cb_value_new_map(), *keys = cb_value_new_list();
	size_t i, k;

	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_value *meta = cb_doc_meta(cb_site_case(site, i));
		for (k = 0; k < cb_value_len(meta); k++) {
			size_t kl;
			const char *key = cb_value_key(meta, k, &kl);
			if (is_schema_field(key) || cb_value_get(seen, key, kl))
				continue;
			cb_value_set(seen, key, kl, cb_value_new_bool(1));
			cb_value_push(keys, cb_value_new_string(key, kl));
		}
	}
	cb_value_unref(seen);
	return keys;
}

static void cell(cb_buf *out, const cb_value *v, cb_buf *tmp, int first)
{
	if (!first)
		cb_buf_putc(out, ',');
	cb_buf_clear(tmp);
	cb_export_cell_text(tmp, v);
	cb_export_csv_field(out, tmp->ptr, tmp->len);
}

static void cell_str(cb_buf *out, const char *s, int first)
{
	if (!first)
		cb_buf_putc(out, ',');
	cb_export_csv_field(out, s, strlen(s));
}

static int write_csv(cb_render *r, cb_render_sink *sink, void *ctx, size_t arg)
{
	const cb_site *site = cb_render_get_site(r);
	cb_value *extra = extra_keys(site);
	cb_buf b = CB_BUF_INIT, tmp = CB_BUF_INIT;
	size_t i, k;

	(void)ctx;
	(void)arg;
	/* Header: slug, url, the schema's fields, other front-matter keys, one
	 * classification column per vocabulary, lessons. */
	cell_str(&b, "slug", 1);
	cell_str(&b, "url", 0);
	for (k = 0; cb_schema_fields[k]; k++)
		cell_str(&b, cb_schema_fields[k], 0);
	for (k = 0; k < cb_value_len(extra); k++)
		cell_str(&b, cb_value_cstr(cb_value_at(extra, k)), 0);
	for (k = 0; k < cb_site_taxonomy_count(site); k++) {
		const char *name;
		char *col;
		cb_site_taxonomy_at(site, k, &name, NULL);
		col = cb_xasprintf("classification.%s", name);
		cell_str(&b, col, 0);
		free(col);
	}
	cell_str(&b, "lessons", 0);
	cb_buf_puts(&b, "\r\n");
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_doc *doc = cb_site_case(site, i);
		const cb_value *meta = cb_doc_meta(doc);
		cb_value *cls = cb_export_classification(site, i, NULL), *ids = lesson_ids(doc);

		cell_str(&b, cb_doc_slug(doc), 1);
		cell_str(&b, cb_doc_url(doc), 0);
		for (k = 0; cb_schema_fields[k]; k++)
			cell(&b, cb_value_getc(meta, cb_schema_fields[k]), &tmp, 0);
		for (k = 0; k < cb_value_len(extra); k++)
			cell(&b, cb_value_getc(meta, cb_value_cstr(cb_value_at(extra, k))), &tmp, 0);
		for (k = 0; k < cb_value_len(cls); k++)
			cell(&b, cb_value_entry(cls, k), &tmp, 0);
		cell(&b, ids, &tmp, 0);
		cb_buf_puts(&b, "\r\n");
		cb_value_unref(cls);
		cb_value_unref(ids);
		if (b.len > (1 << 20)) {
			cb_render_sink_put(sink, b.ptr, b.len);
			cb_buf_clear(&b);
		}
	}
	cb_render_sink_put(sink, b.ptr, b.len);
	cb_buf_dispose(&b);
	cb_buf_dispose(&tmp);
	cb_value_unref(extra);
	return 0;
}

void cb_export_generate(cb_render *r)
{
	const cb_site *site = cb_render_get_site(r);
	cb_value *info = cb_value_new_map();
	size_t i;

	/* A plugin's data file of the same name wins (gen_data queued it). */
	for (i = 0; i < cb_site_data_count(site); i++) {
		const char *name;
		const cb_value *v;
		cb_site_data_at(site, i, &name, &v);
		if (strcmp(name, "cases") == 0) {
			cb_value_unref(info);
			return;
		}
	}
	cb_render_add_writer(r, "data/cases.json", NULL, "data", NULL, write_json, NULL, 0);
	cb_render_add_writer(r, "data/cases.csv", NULL, "data", NULL, write_csv, NULL, 0);
	cb_value_set_str(info, "json", "data/cases.json");
	cb_value_set_str(info, "csv", "data/cases.csv");
	cb_value_setc(cb_render_site_ctx(r), "export", info);
}
