/*
 * cb_doc: a loaded Markdown document: a case (content/cases/<slug>.md) or a
 * free page (content/pages/<name>.md).
 *
 * A document is its front matter (a cb_value map with line numbers), its
 * Markdown (cb_md: HTML blocks, sections, links) and what plugins add to it:
 * values for templates (vars), classifications (facets) and sections to leave
 * out of the body. Loading validates the bytes (UTF-8, no NUL) and the
 * front-matter framing; the case schema is checked by cb_schema.
 */
#ifndef CB_DOC_H
#define CB_DOC_H

#include <stddef.h>

#include "cb_diag.h"
#include "cb_md.h"
#include "cb_source.h"
#include "cb_value.h"

/* Case files over this size are refused. */
#define CB_DOC_MAX_SIZE (1024 * 1024)

typedef enum cb_doc_kind { CB_DOC_CASE, CB_DOC_PAGE } cb_doc_kind;

typedef struct cb_doc cb_doc;

typedef struct cb_doc_opts {
	int unsafe_html;
	const char *const *reserved_ids; /* NULL-terminated ids headings avoid */
	const char *find_word;           /* see cb_md_opts.find_word; NULL for none */
} cb_doc_opts;

/*
 * Parse a document from its bytes. `path` is its source path
 * ("content/cases/x.md"); the slug is the file name without ".md".
 *
 * Returns 0 with a document in *out, or -1 after reporting the problems to
 * diags. A document whose framing or front matter is broken still comes back
 * (with an empty map as front matter) when the rest can be read, so one run
 * reports everything; it is NULL only when the bytes cannot be used at all
 * (invalid UTF-8, NUL bytes). Caller frees with cb_doc_free.
 */
int cb_doc_parse(cb_doc **out, cb_doc_kind kind, const char *path, const char *data,
                 size_t len, const cb_doc_opts *opts, cb_diag_list *diags);
void cb_doc_free(cb_doc *doc);

/*
 * A new document with the same parsed content as doc (path, front matter,
 * Markdown, blob id), shared rather than copied, and none of what plugins
 * added (vars, facets, omitted sections): how one parse serves every edition
 * that holds the same file. The parsed content is freed with the last
 * document sharing it, so either may be freed first. The front matter is
 * shared: nothing may change it after loading. Safe to call from several
 * threads on one doc. Cannot fail; caller frees with cb_doc_free.
 */
cb_doc *cb_doc_share(const cb_doc *doc);

/* The site path of the page made from source path p ("content/cases/a.md" ->
 * "cases/a.html", "content/pages/about.md" -> "about.html", "content/img/x.png"
 * -> "img/x.png"). Caller frees. */
char *cb_doc_output_path(const char *source_path);

cb_doc_kind cb_doc_kind_of(const cb_doc *doc);
/* Borrowed strings, valid as long as doc. */
const char *cb_doc_path(const cb_doc *doc);   /* source path */
const char *cb_doc_slug(const cb_doc *doc);   /* file name without .md */
const char *cb_doc_url(const cb_doc *doc);    /* site path, e.g. "cases/a.html" */
/* Title: the front matter's title, else the first heading, else the slug. */
const char *cb_doc_title(const cb_doc *doc);
/* Front matter (a map, possibly empty; borrowed). */
cb_value *cb_doc_meta(const cb_doc *doc);
/* 1 if the front matter was read (0 when it is missing or broken: its
 * fields are then unknown rather than absent). */
int cb_doc_meta_ok(const cb_doc *doc);
const cb_md *cb_doc_md(const cb_doc *doc);
/* Free the parse's plain text (cb_md_drop_text) once nothing reads it:
 * the plugins and the search index are done. Documents sharing the parse
 * (cb_doc_share) lose it too. */
void cb_doc_drop_text(cb_doc *doc);
/* Line of the first Markdown line minus one (front matter lines). */
unsigned cb_doc_body_offset(const cb_doc *doc);
/* Line where the front matter's closing '---' is (0 if none). */
unsigned cb_doc_fm_end(const cb_doc *doc);

/* The git blob id of the file, if the loader set one ("" otherwise). */
const char *cb_doc_blob_id(const cb_doc *doc);
void cb_doc_set_blob_id(cb_doc *doc, const char *id);

/* ---- what plugins add ---------------------------------------------------- */

/* Values for templates (a map; borrowed). cb_doc_set_var steals val. */
cb_value *cb_doc_vars(const cb_doc *doc);
void cb_doc_set_var(cb_doc *doc, const char *key, cb_value *val);
/* Classify: add term to taxonomy (no duplicates); derived marks a value
 * computed by a rule rather than written in the front matter. */
void cb_doc_add_facet(cb_doc *doc, const char *taxonomy, const char *term, int derived);
/* The same with an entry made by cb_doc_facet_entry (stolen), which may be
 * shared by many documents: nothing changes an entry once it is added. */
cb_value *cb_doc_facet_entry(const char *term, int derived);
void cb_doc_add_facet_entry(cb_doc *doc, const char *taxonomy, cb_value *entry);
/* Facets: a map taxonomy -> list of {term, derived} maps (borrowed). */
const cb_value *cb_doc_facets(const cb_doc *doc);
/* Leave the section with this id (and its sub-sections) out of the body.
 * Returns 0, or -1 if the document has no such section. */
int cb_doc_omit_section(cb_doc *doc, const char *id);
int cb_doc_section_omitted(const cb_doc *doc, size_t section);

/* Append the body HTML: every block except those of omitted sections. */
void cb_doc_body_html(const cb_doc *doc, cb_buf *out);

#endif
