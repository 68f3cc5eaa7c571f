/*
 * cb_doc: loaded documents (see cb_doc.h).
 */
#include "cb_doc.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"
#include "cb_path.h"
#include "cb_utf8.h"
#include "cb_yaml.h"

struct cb_doc {
	cb_doc_kind kind;
	char *path, *slug, *url, *title;
	char blob_id[CB_OID_HEXSZ + 1];
	cb_value *meta;
	cb_md *md;
	atomic_uint *md_refs; /* documents sharing md (cb_doc_share) */
	unsigned body_offset, fm_end;
	int meta_ok;
	cb_value *vars;
	cb_value *facets;
	unsigned char *omitted; /* per section */
};

char *cb_doc_output_path(const char *p)
{
	size_t len = strlen(p);

	if (strncmp(p, "content/cases/", 14) == 0 && len > 17 && strcmp(p + len - 3, ".md") == 0 &&
	    !strchr(p + 14, '/'))
		return cb_xasprintf("cases/%.*s.html", (int)(len - 17), p + 14);
	if (strncmp(p, "content/pages/", 14) == 0 && len > 17 && strcmp(p + len - 3, ".md") == 0 &&
	    !strchr(p + 14, '/'))
		return cb_xasprintf("%.*s.html", (int)(len - 17), p + 14);
	if (strncmp(p, "content/", 8) == 0)
		p += 8;
	return cb_xstrdup(p);
}

/* Line and column (1-based, in characters) of byte offset off in data. */
static void position(const char *data, size_t off, unsigned *line, unsigned *col)
{
	size_t i, ls = 0;
	unsigned l = 1;

	for (i = 0; i < off; i++)
		if (data[i] == '\n') {
			l++;
			ls = i + 1;
		}
	*line = l;
	*col = (unsigned)cb_utf8_chars(data + ls, off - ls) + 1;
}

/* The front matter data[from..to) (its first line is line 2) would not
 * parse, and the first error is on line `err`: is that because it runs on
 * into the Markdown, its closing '---' missing (and a '---' rule further
 * down taken for it)? Returns the line of the first "## " heading before
 * `err` (YAML reads it as a comment), its offset in *at; or 0. The
 * archetype's own comments start with one '#'. */
static unsigned heading_before(const char *data, size_t from, size_t to, unsigned err, size_t *at)
{
	unsigned line = 2;
	size_t pos = from;

	while (pos < to && line < err) {
		size_t eol = pos;
		while (eol < to && data[eol] != '\n')
			eol++;
		if (eol - pos > 3 && memcmp(data + pos, "##", 2) == 0) {
			size_t i = pos;
			while (i < eol && data[i] == '#')
				i++;
			if (i - pos <= 6 && i < eol && data[i] == ' ') {
				*at = pos;
				return line;
			}
		}
		pos = eol + 1;
		line++;
	}
	return 0;
}

/* Parse the front matter buf[0..len) (from line 2 of the file) into
 * doc->meta (a map, empty if it is broken); doc->meta_ok when it is a
 * map. Returns 0, or -1 when something was reported to diags. */
static int parse_front_matter(cb_doc *doc, cb_doc_kind kind, const char *buf, size_t len,
                              const char *path, cb_diag_list *diags)
{
	cb_value *meta = NULL;
	int rc = 0;

	if (cb_yaml_parse(&meta, buf, len, path, 1, diags) < 0) {
		rc = -1;
		meta = cb_value_new_map();
	} else if (cb_value_type(meta) == CB_NULL) {
		if (kind == CB_DOC_CASE)
			rc = cb_diag_add(diags, CB_ERROR, "front-matter-empty", path, 1, 1,
			                 "give at least title, country, year, sector and sources",
			                 "the front matter is empty");
		cb_value_unref(meta);
		meta = cb_value_new_map();
	} else if (cb_value_type(meta) != CB_MAP) {
		rc = cb_diag_add(diags, CB_ERROR, "front-matter-not-map", path, cb_value_line(meta),
		                 cb_value_col(meta), "write one 'key: value' per line",
		                 "the front matter must be a mapping of fields, not a %s",
		                 cb_type_name(cb_value_type(meta)));
		cb_value_unref(meta);
		meta = cb_value_new_map();
	} else {
		doc->meta_ok = 1;
	}
	doc->meta = meta;
	return rc;
}

/* Is the line at data[pos..] exactly `---` (spaces/tabs and CR allowed after)?
 * Sets *next to the start of the following line. */
static int is_fence(const char *data, size_t len, size_t pos, size_t *next)
{
	size_t i = pos;

	if (len - pos < 3 || memcmp(data + pos, "---", 3) != 0)
		return 0;
	i += 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
		i++;
	if (i < len && data[i] != '\n')
		return 0;
	*next = i < len ? i + 1 : i;
	return 1;
}

/* The first top-level level-1 heading's title, or NULL. */
static const char *first_heading(const cb_md *md)
{
	size_t i;

	for (i = 0; i < cb_md_section_count(md); i++) {
		const cb_md_section *s = cb_md_section_at(md, i);
		if (s->level == 1)
			return s->title;
	}
	return NULL;
}

int cb_doc_parse(cb_doc **out, cb_doc_kind kind, const char *path, const char *data,
                 size_t len, const cb_doc_opts *opts, cb_diag_list *diags)
{
	cb_doc *doc;
	size_t bad, body = 0, pos, next;
	int nul, rc = 0;
	unsigned line = 1, bl, bc;
	const char *base = cb_path_basename(path);
	cb_md_opts mo;
	char *out_dir;

	*out = NULL;
	/* A UTF-8 byte-order mark is tolerated. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	if (!cb_utf8_check(data, len, &bad, &nul)) {
		position(data, bad, &bl, &bc);
		return cb_diag_add(diags, CB_ERROR, nul ? "nul-byte" : "invalid-utf8", path, bl, bc,
		                   nul ? NULL : "save the file as UTF-8",
		                   nul ? "the file contains a NUL byte (is it a binary file?)"
		                       : "the file is not valid UTF-8");
	}

	doc = cb_xcalloc(1, sizeof *doc);
	doc->kind = kind;
	doc->path = cb_xstrdup(path);
	doc->slug = cb_xstrndup(base, strlen(base) - (strcmp(cb_path_ext(base), ".md") == 0 ? 3 : 0));
	doc->url = cb_doc_output_path(path);
	doc->vars = cb_value_new_map();
	doc->facets = cb_value_new_map();

	/* Front matter: a first line '---', YAML, a line '---'. */
	if (is_fence(data, len, 0, &next)) {
		size_t fm_start = next, hpos = 0;
		unsigned hl = 0;

		pos = next;
		line = 2;
		while (pos < len) {
			size_t eol;
			if (is_fence(data, len, pos, &next) ||
			    (len - pos >= 3 && memcmp(data + pos, "...", 3) == 0 &&
			     (pos + 3 == len || data[pos + 3] == '\n' || data[pos + 3] == '\r'))) {
				if (data[pos] == '.') {
					next = pos + 3;
					while (next < len && data[next] != '\n')
						next++;
					if (next < len)
						next++;
				}
				break;
			}
			eol = pos;
			while (eol < len && data[eol] != '\n')
				eol++;
			pos = eol < len ? eol + 1 : len;
			line++;
		}
		if (pos < len) {
			/* Closed: parse it, unless a '---' rule in the text closed it. */
			cb_diag_list *yd = cb_diag_list_new();
			int r = parse_front_matter(doc, kind, data + fm_start, pos - fm_start, path, yd);

			if (r < 0 && cb_diag_count(yd))
				hl = heading_before(data, fm_start, pos, cb_diag_at(yd, 0)->line, &hpos);
			if (!hl) {
				cb_diag_list_merge(diags, yd);
				rc = r;
				doc->fm_end = line;
				doc->body_offset = line;
				body = next;
			}
			cb_diag_list_free(yd);
		} else {
			hl = heading_before(data, fm_start, len, UINT_MAX, &hpos);
		}
		if (pos >= len || hl) {
			rc = -1;
			cb_value_unref(doc->meta);
			doc->meta = NULL;
			doc->meta_ok = 0;
			if (hl) {
				/* The fields end where the text begins: check both. */
				cb_diag_add(diags, CB_ERROR, "front-matter-unclosed", path, hl, 1,
				            "add a line '---' after the last field, before this heading",
				            "the front matter runs on into the text: no line '---' closes "
				            "it before this heading");
				parse_front_matter(doc, kind, data + fm_start, hpos - fm_start, path, diags);
				doc->fm_end = hl;
				doc->body_offset = hl - 1;
				body = hpos;
			} else {
				cb_diag_add(diags, CB_ERROR, "front-matter-unclosed", path, 1, 1,
				            "add a line '---' after the front matter",
				            "the front matter is not closed");
				doc->meta = cb_value_new_map();
				body = len;
			}
		}
	} else {
		doc->meta = cb_value_new_map();
		if (kind == CB_DOC_CASE)
			rc = cb_diag_add(diags, CB_ERROR, "front-matter-missing", path, 1, 1,
			                 "start the file with a line '---', the fields, then '---'",
			                 "the case has no front matter");
	}

	memset(&mo, 0, sizeof mo);
	mo.path = path;
	mo.line_offset = doc->body_offset;
	mo.unsafe_html = opts ? opts->unsafe_html : 0;
	mo.reserved_ids = opts ? opts->reserved_ids : NULL;
	mo.find_word = opts ? opts->find_word : NULL;
	out_dir = cb_path_dirname(doc->url);
	mo.output_dir = out_dir;
	mo.output_path = cb_doc_output_path;
	if (cb_md_parse(&doc->md, data + body, len - body, &mo, diags) < 0)
		rc = -1;
	free(out_dir);
	doc->omitted = cb_xcalloc(cb_md_section_count(doc->md) + 1, 1);
	doc->md_refs = cb_xmalloc(sizeof *doc->md_refs);
	atomic_init(doc->md_refs, 1);

	{
		const char *t = cb_value_cstr(cb_value_getc(doc->meta, "title"));
		if (!t || !*t)
			t = first_heading(doc->md);
		doc->title = cb_xstrdup(t && *t ? t : doc->slug);
	}
	*out = doc;
	return rc;
}

void cb_doc_free(cb_doc *doc)
{
	if (!doc)
		return;
	free(doc->path);
	free(doc->slug);
	free(doc->url);
	free(doc->title);
	cb_value_unref(doc->meta);
	cb_value_unref(doc->vars);
	cb_value_unref(doc->facets);
	if (atomic_fetch_sub(doc->md_refs, 1) == 1) {
		cb_md_free(doc->md);
		free(doc->md_refs);
	}
	free(doc->omitted);
	free(doc);
}

cb_doc *cb_doc_share(const cb_doc *doc)
{
	cb_doc *d = cb_xcalloc(1, sizeof *d);

	d->kind = doc->kind;
	d->path = cb_xstrdup(doc->path);
	d->slug = cb_xstrdup(doc->slug);
	d->url = cb_xstrdup(doc->url);
	d->title = cb_xstrdup(doc->title);
	memcpy(d->blob_id, doc->blob_id, sizeof d->blob_id);
	d->meta = cb_value_ref(doc->meta);
	d->md = doc->md;
	d->md_refs = doc->md_refs;
	atomic_fetch_add(d->md_refs, 1);
	d->body_offset = doc->body_offset;
	d->fm_end = doc->fm_end;
	d->meta_ok = doc->meta_ok;
	d->vars = cb_value_new_map();
	d->facets = cb_value_new_map();
	d->omitted = cb_xcalloc(cb_md_section_count(d->md) + 1, 1);
	return d;
}

cb_doc_kind cb_doc_kind_of(const cb_doc *doc) { return doc->kind; }
const char *cb_doc_path(const cb_doc *doc) { return doc->path; }
const char *cb_doc_slug(const cb_doc *doc) { return doc->slug; }
const char *cb_doc_url(const cb_doc *doc) { return doc->url; }
const char *cb_doc_title(const cb_doc *doc) { return doc->title; }
cb_value *cb_doc_meta(const cb_doc *doc) { return doc->meta; }
int cb_doc_meta_ok(const cb_doc *doc) { return doc->meta_ok; }
const cb_md *cb_doc_md(const cb_doc *doc) { return doc->md; }
void cb_doc_drop_text(cb_doc *doc) { cb_md_drop_text(doc->md); }
unsigned cb_doc_body_offset(const cb_doc *doc) { return doc->body_offset; }
unsigned cb_doc_fm_end(const cb_doc *doc) { return doc->fm_end; }
const char *cb_doc_blob_id(const cb_doc *doc) { return doc->blob_id; }

void cb_doc_set_blob_id(cb_doc *doc, const char *id)
{
	snprintf(doc->blob_id, sizeof doc->blob_id, "%s", id);
}

cb_value *cb_doc_vars(const cb_doc *doc) { return doc->vars; }

void cb_doc_set_var(cb_doc *doc, const char *key, cb_value *val)
{
	cb_value_setc(doc->vars, key, val);
}

cb_value *cb_doc_facet_entry(const char *term, int derived)
{
	cb_value *entry = cb_value_new_map();

	cb_value_reserve(entry, 2);
	cb_value_set_str(entry, "term", term);
	cb_value_set_bool(entry, "derived", derived);
	return entry;
}

void cb_doc_add_facet_entry(cb_doc *doc, const char *taxonomy, cb_value *entry)
{
	cb_value *list = cb_value_getc(doc->facets, taxonomy);
	const char *term = cb_value_cstr(cb_value_getc(entry, "term"));
	size_t i;

	if (!list) {
		list = cb_value_new_list();
		cb_value_setc(doc->facets, taxonomy, list);
	}
	for (i = 0; i < cb_value_len(list); i++) {
		const char *t = cb_value_cstr(cb_value_getc(cb_value_at(list, i), "term"));
		if (t && term && strcmp(t, term) == 0) {
			cb_value_unref(entry);
			return;
		}
	}
	cb_value_push(list, entry);
}

void cb_doc_add_facet(cb_doc *doc, const char *taxonomy, const char *term, int derived)
{
	cb_doc_add_facet_entry(doc, taxonomy, cb_doc_facet_entry(term, derived));
}

const cb_value *cb_doc_facets(const cb_doc *doc) { return doc->facets; }

int cb_doc_omit_section(cb_doc *doc, const char *id)
{
	size_t i, n = cb_md_section_count(doc->md);

	for (i = 0; i < n; i++)
		if (strcmp(cb_md_section_at(doc->md, i)->id, id) == 0) {
			doc->omitted[i] = 1;
			return 0;
		}
	return -1;
}

int cb_doc_section_omitted(const cb_doc *doc, size_t section)
{
	const cb_md_section *s;

	/* A section is left out when it or one of its parents is. */
	while ((s = cb_md_section_at(doc->md, section)) != NULL) {
		if (doc->omitted[section])
			return 1;
		if (s->parent < 0)
			return 0;
		section = (size_t)s->parent;
	}
	return 0;
}

void cb_doc_body_html(const cb_doc *doc, cb_buf *out)
{
	size_t i, n = cb_md_block_count(doc->md);

	for (i = 0; i < n; i++) {
		int s = cb_md_block_section(doc->md, i);
		size_t len;
		const char *html;

		if (s >= 0 && cb_doc_section_omitted(doc, (size_t)s))
			continue;
		html = cb_md_block_html(doc->md, i, &len);
		cb_buf_put(out, html, len);
	}
}
