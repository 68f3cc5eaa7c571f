/*
 * cb_print: the print edition (see cb_print.h).
 */
#include "cb_print.h"

#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_site.h"
#include "cb_value.h"

/* The next place at or after p where needle starts with more of the text
 * after it (as the rewrite wants), or NULL. */
static const char *next_at(const char *p, const char *end, const char *needle, size_t n)
{
	const char *q = (size_t)(end - p) > n ? memmem(p, (size_t)(end - p), needle, n) : NULL;

	return q && (size_t)(end - q) > n ? q : NULL;
}

void cb_print_embed_html(cb_buf *out, const char *html, size_t len, const char *prefix,
                         int shift)
{
	const char *end = html + len, *start = html;
	/* The three things rewritten never overlap: each is found by a search of
	 * its own (most of the text is words, which the searches skip). */
	const char *id = next_at(html, end, " id=\"", 5);
	const char *href = next_at(html, end, " href=\"#", 8);
	const char *lt = shift ? memchr(html, '<', len) : NULL;

	for (;;) {
		const char *at = id;

		if (!at || (href && href < at))
			at = href;
		if (!at || (lt && lt < at))
			at = lt;
		if (!at)
			break;
		if (at == id || at == href) {
			size_t n = at == id ? 5 : 8;
			cb_buf_put(out, start, (size_t)(at + n - start));
			cb_buf_puts(out, prefix);
			start = at + n;
			if (at == id)
				id = next_at(start, end, " id=\"", 5);
			else
				href = next_at(start, end, " href=\"#", 8);
			continue;
		}
		/* <hN> and </hN>: the level shifted. */
		if (end - lt > 3 && (lt[1] == 'h' || (lt[1] == '/' && end - lt > 4 && lt[2] == 'h'))) {
			const char *d = lt[1] == '/' ? lt + 3 : lt + 2;
			if (*d >= '1' && *d <= '6' && d + 1 < end && (d[1] == '>' || d[1] == ' ')) {
				int level = *d - '0' + shift;
				cb_buf_put(out, start, (size_t)(d - start));
				cb_buf_putc(out, (char)('0' + (level > 6 ? 6 : level < 1 ? 1 : level)));
				start = d + 1;
			}
		}
		lt = memchr(lt + 1, '<', (size_t)(end - lt - 1));
	}
	cb_buf_put(out, start, (size_t)(end - start));
}

/* Prefix ids and in-page links, shift headings, then rebase links from the
 * page's folder to the site root (links to cases become anchors). */
static cb_value *embed(const char *html, size_t len, const char *prefix, int shift,
                       const char *from_dir)
{
	cb_buf a = CB_BUF_INIT, b = CB_BUF_INIT;
	cb_value *v;

	cb_print_embed_html(&a, html, len, prefix, shift);
	cb_render_rebase_html(&b, a.ptr, a.len, from_dir, "", 1);
	v = cb_value_new_string(b.ptr, b.len);
	cb_buf_dispose(&a);
	cb_buf_dispose(&b);
	return v;
}

/* "cases/<slug>.html" -> "case-<slug>"; NULL for other urls. */
static char *case_anchor(const char *url)
{
	size_t n;

	if (!url || strncmp(url, "cases/", 6) != 0 || strchr(url + 6, '/'))
		return NULL;
	n = strlen(url + 6);
	if (n <= 5 || strcmp(url + 6 + n - 5, ".html") != 0)
		return NULL;
	return cb_xasprintf("case-%.*s", (int)(n - 5), url + 6);
}

/* A free page as a chapter: {slug, title, html}. */
static cb_value *page_ctx(const cb_doc *p)
{
	cb_value *v = cb_value_new_map();
	cb_buf b = CB_BUF_INIT;
	char *prefix = cb_xasprintf("page-%s--", cb_doc_slug(p));

	cb_doc_body_html(p, &b);
	cb_value_set_str(v, "slug", cb_doc_slug(p));
	cb_value_set_str(v, "title", cb_doc_title(p));
	cb_value_setc(v, "html", embed(b.ptr, b.len, prefix, 1, ""));
	free(prefix);
	cb_buf_dispose(&b);
	return v;
}

/* The lessons catalogue: lessons grouped by theme, in the order of the
 * lesson-theme vocabulary (then of first appearance), each linking to its
 * place in its case. */
static cb_value *lessons_ctx(cb_render *r)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_value *vocab = cb_value_getc(cb_site_taxonomy(site, "lesson-theme"), "terms");
	cb_value *groups = cb_value_new_list(), *by_id = cb_value_new_map(), *other = NULL;
	size_t i, k;

	for (i = 0; i < cb_value_len(vocab); i++) {
		const char *id = cb_value_cstr(cb_value_getc(cb_value_at(vocab, i), "id"));
		const char *label = cb_value_cstr(cb_value_getc(cb_value_at(vocab, i), "label"));
		cb_value *g;
		if (!id)
			continue;
		g = cb_value_new_map();
		cb_value_set_str(g, "id", id);
		cb_value_set_str(g, "label", label ? label : id);
		cb_value_setc(g, "items", cb_value_new_list());
		cb_value_push(groups, g);
		cb_value_setc(by_id, id, cb_value_ref(g));
	}
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_doc *doc = cb_site_case(site, i);
		const cb_value *items = cb_value_getc(cb_value_getc(cb_doc_vars(doc), "lessons"), "items");

		for (k = 0; k < cb_value_len(items); k++) {
			const cb_value *l = cb_value_at(items, k);
			const cb_value *theme = cb_value_getc(l, "theme");
			const char *tid = cb_value_cstr(cb_value_getc(theme, "id"));
			const char *id = cb_value_cstr(cb_value_getc(l, "id"));
			size_t hl;
			const char *html = cb_value_str(cb_value_getc(l, "html"), &hl);
			cb_value *g = tid ? cb_value_getc(by_id, tid) : NULL, *e;
			char *anchor;

			if (!id)
				continue;
			if (!g && tid) {
				const char *label = cb_value_cstr(cb_value_getc(theme, "label"));
				g = cb_value_new_map();
				cb_value_set_str(g, "id", tid);
				cb_value_set_str(g, "label", label ? label : tid);
				cb_value_setc(g, "items", cb_value_new_list());
				cb_value_push(groups, g);
				cb_value_setc(by_id, tid, cb_value_ref(g));
			} else if (!g) {
				if (!other) {
					other = cb_value_new_map();
					cb_value_set_str(other, "id", "other");
					cb_value_set_str(other, "label", "Other lessons");
					cb_value_setc(other, "items", cb_value_new_list());
				}
				g = other;
			}
			e = cb_value_new_map();
			anchor = cb_xasprintf("case-%s--%s", cb_doc_slug(doc), id);
			cb_value_set_str(e, "anchor", anchor);
			cb_value_set_str(e, "case_title", cb_doc_title(doc));
			cb_value_setc(e, "case_anchor", cb_value_new_printf("case-%s", cb_doc_slug(doc)));
			if (html)
				cb_value_setc(e, "html", embed(html, hl, "", 0, "cases"));
			else
				cb_value_setc(e, "html", cb_value_new_cstr(""));
			cb_value_push(cb_value_getc(g, "items"), e);
			free(anchor);
		}
	}
	if (other)
		cb_value_push(groups, other);
	cb_value_unref(by_id);
	/* Drop themes without lessons. */
	{
		cb_value *kept = cb_value_new_list();
		for (i = 0; i < cb_value_len(groups); i++) {
			cb_value *g = cb_value_at(groups, i);
			if (cb_value_len(cb_value_getc(g, "items")))
				cb_value_push(kept, cb_value_ref(g));
		}
		cb_value_unref(groups);
		groups = kept;
	}
	return groups;
}

/* The strings of a list (citations). */
static cb_value *str_list(const cb_value *v)
{
	cb_value *l = cb_value_new_list();
	size_t i;

	for (i = 0; i < cb_value_len(v); i++)
		if (cb_value_type(cb_value_at(v, i)) == CB_STRING)
			cb_value_push(l, cb_value_ref(cb_value_at(v, i)));
	return l;
}

/* The vocabularies: {name, title, description, terms, citations}. */
static cb_value *vocabularies_ctx(cb_render *r)
{
	const cb_site *site = cb_render_get_site(r);
	cb_value *list = cb_value_new_list();
	size_t i, k;

	for (i = 0; i < cb_site_taxonomy_count(site); i++) {
		const char *name;
		const cb_value *t = cb_site_taxonomy_at(site, i, &name, NULL);
		const cb_value *terms = cb_value_getc(t, "terms");
		cb_value *v = cb_value_new_map(), *tl = cb_value_new_list();
		const char *title = cb_value_cstr(cb_value_getc(t, "title"));

		cb_value_set_str(v, "name", name);
		cb_value_set_str(v, "title", title ? title : name);
		if (cb_value_type(cb_value_getc(t, "description")) == CB_STRING)
			cb_value_setc(v, "description", cb_value_ref(cb_value_getc(t, "description")));
		for (k = 0; k < cb_value_len(terms); k++) {
			const cb_value *term = cb_value_at(terms, k);
			cb_value *e = cb_value_new_map();
			const char *id = cb_value_cstr(cb_value_getc(term, "id"));
			const char *label = cb_value_cstr(cb_value_getc(term, "label"));
			if (!id) {
				cb_value_unref(e);
				continue;
			}
			cb_value_set_str(e, "id", id);
			cb_value_set_str(e, "label", label ? label : id);
			if (cb_value_type(cb_value_getc(term, "definition")) == CB_STRING)
				cb_value_setc(e, "definition", cb_value_ref(cb_value_getc(term, "definition")));
			if (cb_value_type(cb_value_getc(term, "citation")) == CB_STRING)
				cb_value_setc(e, "citation", cb_value_ref(cb_value_getc(term, "citation")));
			cb_value_push(tl, e);
		}
		cb_value_setc(v, "terms", tl);
		if (cb_value_len(cb_value_getc(t, "citations"))) {
			cb_value_setc(v, "citations", str_list(cb_value_getc(t, "citations")));
			cb_value_set_bool(v, "has_citations", 1);
		}
		cb_value_push(list, v);
	}
	return list;
}

/* The frame's data: everything but the cases. */
static cb_value *frame_ctx(cb_render *r)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_doc *intro = cb_site_page_by_name(site, "index");
	cb_value *d = cb_value_new_map(), *pages = cb_value_new_list();
	size_t i;

	if (intro) {
		cb_buf b = CB_BUF_INIT;
		cb_doc_body_html(intro, &b);
		cb_value_set_str(d, "intro_title", cb_doc_title(intro));
		cb_value_setc(d, "intro", embed(b.ptr, b.len, "intro--", 1, ""));
		cb_buf_dispose(&b);
	}
	cb_value_setc(d, "toc", cb_value_ref(cb_render_cases_in_order(r)));
	cb_value_setc(d, "lesson_groups", lessons_ctx(r));
	cb_value_set_bool(d, "has_lessons", cb_value_len(cb_value_getc(d, "lesson_groups")) > 0);
	cb_value_setc(d, "vocabularies", vocabularies_ctx(r));
	cb_value_set_bool(d, "has_vocabularies", cb_value_len(cb_value_getc(d, "vocabularies")) > 0);
	for (i = 0; i < cb_site_page_count(site); i++) {
		const cb_doc *p = cb_site_page(site, i);
		if (strcmp(cb_doc_slug(p), "index") != 0)
			cb_value_push(pages, page_ctx(p));
	}
	cb_value_setc(d, "pages", pages);
	cb_value_set_str(d, "cases", CB_PRINT_CASES);
	return d;
}

/* Case i as the print edition shows it: its full context with the body,
 * lessons and related cases made to live on one page. */
static cb_value *case_ctx(cb_render *r, size_t i)
{
	cb_value *c = cb_render_case_full(r, i), *d = cb_value_new_map();
	const char *slug = cb_value_cstr(cb_value_getc(c, "slug"));
	char *prefix = cb_xasprintf("case-%s--", slug);
	const cb_value *body = cb_value_getc(c, "body");
	const cb_value *lessons = cb_value_getc(cb_value_getc(c, "lessons"), "items");
	const cb_value *related = cb_value_getc(cb_value_getc(c, "related"), "items");
	size_t len, k;
	const char *html = cb_value_str(body, &len);

	cb_value_setc(c, "body", embed(html ? html : "", html ? len : 0, prefix, 1, "cases"));
	if (cb_value_len(lessons)) {
		cb_value *m = cb_value_new_map(), *items = cb_value_new_list();
		for (k = 0; k < cb_value_len(lessons); k++) {
			const cb_value *l = cb_value_at(lessons, k);
			const char *lh = cb_value_str(cb_value_getc(l, "html"), &len);
			cb_value *e = cb_value_new_map();
			cb_value_setc(e, "anchor",
			              cb_value_new_printf("%s%s", prefix,
			                                  cb_value_cstr(cb_value_getc(l, "id"))
			                                      ? cb_value_cstr(cb_value_getc(l, "id"))
			                                      : ""));
			cb_value_setc(e, "html", embed(lh ? lh : "", lh ? len : 0, prefix, 0, "cases"));
			if (cb_value_getc(l, "theme"))
				cb_value_setc(e, "theme", cb_value_ref(cb_value_getc(l, "theme")));
			cb_value_push(items, e);
		}
		cb_value_setc(m, "items", items);
		cb_value_setc(c, "lessons", m);
	}
	if (cb_value_len(related)) {
		cb_value *m = cb_value_new_map(), *items = cb_value_new_list();
		for (k = 0; k < cb_value_len(related); k++) {
			const cb_value *e = cb_value_at(related, k);
			char *anchor = case_anchor(cb_value_cstr(cb_value_getc(e, "url")));
			cb_value *n;
			if (!anchor)
				continue;
			n = cb_value_new_map();
			cb_value_setc(n, "title", cb_value_ref(cb_value_getc(e, "title")));
			cb_value_set_str(n, "anchor", anchor);
			if (cb_value_getc(e, "reason"))
				cb_value_setc(n, "reason", cb_value_ref(cb_value_getc(e, "reason")));
			cb_value_push(items, n);
			free(anchor);
		}
		cb_value_setc(m, "items", items);
		cb_value_setc(c, "related", m);
	}
	free(prefix);
	cb_value_setc(d, "case", c);
	return d;
}

static int write_print(cb_render *r, cb_render_sink *sink, void *ctx, size_t arg)
{
	const cb_site *site = cb_render_get_site(r);
	cb_value *frame = frame_ctx(r);
	cb_buf page = CB_BUF_INIT;
	const char *at;
	size_t i;
	int rc = -1;

	(void)ctx;
	(void)arg;
	if (cb_render_sink_render(sink, "print", frame, &page) < 0)
		goto out;
	/* The frame's data (the lessons catalogue of every case, ...) is in
	 * the page now: drop it before the cases are streamed. */
	cb_value_unref(frame);
	frame = NULL;
	at = strstr(page.ptr, CB_PRINT_CASES);
	if (!at || strstr(at + 1, CB_PRINT_CASES)) {
		cb_diag_error(cb_site_diags(site), "print-template", "print.html", 0, 0,
		              "the theme's print template must write {{{cases}}} exactly once "
		              "(where the cases go)");
		goto out;
	}
	cb_render_sink_put(sink, page.ptr, (size_t)(at - page.ptr));
	/* Case by case; in an edition build, a case as in another edition is
	 * copied from there (cb_render_sink_put_case). */
	for (i = 0; i < cb_site_case_count(site); i++)
		if ((rc = cb_render_sink_put_case(sink, "print", "print-case",
		                                  cb_render_case_at(r, i), case_ctx)) < 0)
			goto out;
	at += strlen(CB_PRINT_CASES);
	cb_render_sink_put(sink, at, page.len - (size_t)(at - page.ptr));
	rc = 0;
out:
	cb_value_unref(frame);
	cb_buf_dispose(&page);
	return rc;
}

void cb_print_generate(cb_render *r)
{
	static const char *const tmpls[] = {"print", "print-case", NULL};
	cb_value *info = cb_value_new_map();

	cb_render_add_writer(r, "print.html", "Print edition", "print", tmpls, write_print, NULL, 0);
	cb_value_set_str(info, "url", "print.html");
	cb_value_setc(cb_render_site_ctx(r), "print", info);
}
