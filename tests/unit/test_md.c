/* Unit tests for cb_md (the cmark-gfm adapter) and cb_doc (front matter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_md.h"
#include "cb_pool.h"

static const char *const reserved[] = {"related", NULL};

static cb_md *parse(const char *text, int unsafe, cb_diag_list *d)
{
	cb_md_opts o;
	cb_md *md = NULL;

	memset(&o, 0, sizeof o);
	o.path = "content/cases/a.md";
	o.line_offset = 10;
	o.unsafe_html = unsafe;
	o.output_dir = "cases";
	o.output_path = cb_doc_output_path;
	o.reserved_ids = reserved;
	cb_md_parse(&md, text, strlen(text), &o, d);
	return md;
}

static char *all_html(const cb_md *md)
{
	cb_buf b = CB_BUF_INIT;

	cb_md_html_range(md, 0, cb_md_block_count(md), &b);
	return cb_buf_detach(&b);
}

static void test_sections(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md = parse("Intro.\n\n## Context\n\nText *one*.\n\n### Detail\n\nMore.\n\n"
	                  "## Lessons for practice\n\n- First lesson.\n- Second, with [a link](b.md).\n\n"
	                  "## Context\n\n## Related\n",
	                  0, d);
	const cb_md_section *s;
	char *html;

	(void)state;
	assert_int_equal(cb_md_section_count(md), 5);
	s = cb_md_section_at(md, 0);
	assert_string_equal(s->id, "context");
	assert_int_equal(s->level, 2);
	assert_int_equal(s->line, 13); /* 3 + line offset 10 */
	assert_int_equal(s->parent, -1);
	assert_int_equal(s->text_len, strlen("Text one.\nDetail\nMore."));
	assert_memory_equal(s->text, "Text one.\nDetail\nMore.", s->text_len);
	s = cb_md_section_at(md, 1);
	assert_string_equal(s->id, "detail");
	assert_int_equal(s->parent, 0);
	s = cb_md_section_at(md, 2);
	assert_string_equal(s->id, "lessons-for-practice");
	assert_int_equal(s->n_items, 2);
	assert_int_equal(s->items[0].text_len, strlen("First lesson."));
	assert_memory_equal(s->items[0].text, "First lesson.", s->items[0].text_len);
	assert_int_equal(s->items[1].html_len, strlen("Second, with <a href=\"b.html\">a link</a>."));
	assert_memory_equal(s->items[1].html, "Second, with <a href=\"b.html\">a link</a>.",
	                    s->items[1].html_len);
	assert_int_equal(s->items[1].line, 24);
	/* Ids are unique and avoid the reserved ones. */
	assert_string_equal(cb_md_section_at(md, 3)->id, "context-1");
	assert_string_equal(cb_md_section_at(md, 4)->id, "related-1");
	/* The preamble belongs to no section; sections own their blocks. */
	assert_int_equal(cb_md_block_section(md, 0), -1);
	assert_int_equal(cb_md_block_section(md, 1), 0);
	html = all_html(md);
	assert_non_null(strstr(html, "<h2 id=\"context\">Context</h2>\n<p>Text <em>one</em>.</p>"));
	assert_non_null(strstr(html, "<h3 id=\"detail\">Detail</h3>"));
	free(html);
	cb_md_free(md);
	cb_diag_list_free(d);
}

/* Where each item starts (its text's first character) and ends (its last
 * character, spaces after it left out), in characters, with the line offset
 * of the front matter; a nested list or a tab does not move either. */
static void test_item_positions(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md = parse("## Lessons\n\n"
	                  "- One \xC3\xA9l\xC3\xA8ve [m]   \n"          /* 3 */
	                  "  1.  Two\n"                                  /* 4: nested */
	                  "- Three, wrapped\n  over lines.\t\n"         /* 5-6 */
	                  "-\n   Four\n\n"                               /* 7-8 */
	                  "- Five\n\n  - nested\n",                     /* 10-12 */
	                  0, d);
	const cb_md_section *s = cb_md_section_at(md, 0);

	(void)state;
	/* Item 1 ends in its nested list's "Two"; item 3 is "-" alone, so it
	 * starts at the marker and its text comes on the next line. */
	static const struct {
		unsigned line, col, end_line, end_col;
	} want[] = {{13, 3, 14, 9}, {15, 3, 16, 13}, {17, 1, 18, 7}, {20, 3, 22, 10}};
	size_t i;

	assert_int_equal(s->n_items, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(s->items[i].line, want[i].line);
		assert_int_equal(s->items[i].col, want[i].col);
		assert_int_equal(s->items[i].end_line, want[i].end_line);
		assert_int_equal(s->items[i].end_col, want[i].end_col);
	}
	cb_md_free(md);
	cb_diag_list_free(d);

	/* Characters, not bytes: "\xC3\xA9" is one column, at its start and
	 * at its end. */
	d = cb_diag_list_new();
	md = parse("## L\n\n- \xC3\xA9t\xC3\xA9 [x]\n-  \xC3\xA9t\xC3\xA9\n", 0, d);
	s = cb_md_section_at(md, 0);
	assert_int_equal(s->items[0].col, 3);
	assert_int_equal(s->items[0].end_col, 9);
	assert_int_equal(s->items[1].col, 4);
	assert_int_equal(s->items[1].end_col, 6);
	cb_md_free(md);
	cb_diag_list_free(d);
}

/* Dropping the plain text empties the text of the document, its sections
 * and their items; the HTML, headings and ids stay. */
static void test_drop_text(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md = parse("Intro.\n\n## Context\n\nText *one*.\n\n"
	                  "## Lessons for practice\n\n- First lesson.\n- Second.\n",
	                  0, d);
	const cb_md_section *s;
	char *before = all_html(md), *after;
	size_t i;

	(void)state;
	assert_non_null(strstr(cb_md_text(md), "First lesson."));
	cb_md_drop_text(md);
	assert_string_equal(cb_md_text(md), "");
	for (i = 0; i < cb_md_section_count(md); i++) {
		s = cb_md_section_at(md, i);
		assert_null(s->text);
		assert_int_equal(s->text_len, 0);
		assert_int_equal(s->own_len, 0);
	}
	s = cb_md_section_at(md, 1);
	assert_string_equal(s->title, "Lessons for practice");
	assert_string_equal(s->id, "lessons-for-practice");
	assert_int_equal(s->n_items, 2);
	assert_null(s->items[0].text);
	assert_int_equal(s->items[0].text_len, 0);
	assert_int_equal(s->items[0].html_len, strlen("First lesson."));
	assert_memory_equal(s->items[0].html, "First lesson.", s->items[0].html_len);
	after = all_html(md);
	assert_string_equal(after, before);
	cb_md_drop_text(md); /* twice is harmless */
	assert_string_equal(cb_md_text(md), "");
	free(before);
	free(after);
	cb_md_free(md);
	cb_diag_list_free(d);
}

static void test_links(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md = parse("[b](b.md#outcomes) [p](../pages/method.md) [x](https://x.org) [s](#here)\n"
	                  "![map](img/m%20ap.png) [up](../../../etc/passwd) [abs](/x.md)\n",
	                  0, d);
	const cb_md_link *l;
	char *html = all_html(md);

	(void)state;
	assert_int_equal(cb_md_link_count(md), 7);
	l = cb_md_link_at(md, 0);
	assert_int_equal(l->kind, CB_LINK_DOC);
	assert_string_equal(l->target, "content/cases/b.md");
	assert_string_equal(l->anchor, "outcomes");
	assert_int_equal(l->line, 11);
	assert_int_equal(l->col, 1);
	assert_int_equal(cb_md_link_at(md, 1)->kind, CB_LINK_DOC);
	assert_string_equal(cb_md_link_at(md, 1)->target, "content/pages/method.md");
	assert_int_equal(cb_md_link_at(md, 2)->kind, CB_LINK_EXTERNAL);
	assert_int_equal(cb_md_link_at(md, 3)->kind, CB_LINK_ANCHOR);
	l = cb_md_link_at(md, 4);
	assert_true(l->image);
	assert_int_equal(l->kind, CB_LINK_FILE);
	assert_string_equal(l->target, "content/cases/img/m ap.png");
	assert_non_null(strstr(html, "href=\"b.html#outcomes\""));
	assert_non_null(strstr(html, "href=\"../method.html\""));
	assert_non_null(strstr(html, "src=\"img/m%20ap.png\""));
	/* Leaving the source folder is an error; '/' paths a warning. */
	assert_int_equal(cb_diag_errors(d), 1);
	assert_string_equal(cb_diag_at(d, 0)->code, "link-outside");
	assert_int_equal(cb_diag_warnings(d), 1);
	free(html);
	cb_md_free(md);
	cb_diag_list_free(d);
}

/* Links, images and raw HTML are placed in characters, not bytes, as the
 * rest of casebook's positions: each of "—“ïa日本" counts one. */
static void test_link_columns(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md = parse("Citizens \xE2\x80\x94 \xE2\x80\x9Cna\xC3\xAFve\xE2\x80\x9D ![x](nope.png) "
	                  "\xE6\x97\xA5\xE6\x9C\xAC [w](b.md#nope) <b>x</b>\n",
	                  0, d);

	(void)state;
	assert_int_equal(cb_md_link_count(md), 2);
	assert_int_equal(cb_md_link_at(md, 0)->line, 11);
	assert_int_equal(cb_md_link_at(md, 0)->col, 20);
	assert_int_equal(cb_md_link_at(md, 1)->col, 38);
	assert_int_equal(cb_diag_count(d), 2); /* <b> and </b>, dropped */
	assert_string_equal(cb_diag_at(d, 0)->code, "raw-html");
	assert_int_equal(cb_diag_at(d, 0)->col, 53);
	cb_md_free(md);
	cb_diag_list_free(d);
}

static void test_safety(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	const char *text = "<div onclick=\"x()\">raw</div>\n\n[a](javascript:alert(1)) [b](data:text/html,x) "
	                   "![c](data:image/png;base64,AAAA)\n";
	cb_md *md = parse(text, 0, d);
	char *html = all_html(md);

	(void)state;
	assert_null(strstr(html, "onclick"));
	assert_null(strstr(html, "javascript:"));
	assert_null(strstr(html, "data:text"));
	assert_non_null(strstr(html, "data:image/png"));
	assert_int_equal(cb_diag_warnings(d), 3);
	free(html);
	cb_md_free(md);
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	md = parse(text, 1, d);
	html = all_html(md);
	assert_non_null(strstr(html, "<div onclick"));
	assert_int_equal(cb_diag_count(d), 0);
	free(html);
	cb_md_free(md);
	cb_diag_list_free(d);
}

static void test_doc_front_matter(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_doc *doc = NULL;
	const char *text = "\xEF\xBB\xBF---\r\ntitle: \"CRLF case\"\r\nyear: 2001\r\n---\r\n\r\n## Body\r\n";

	(void)state;
	assert_int_equal(cb_doc_parse(&doc, CB_DOC_CASE, "content/cases/crlf.md", text, strlen(text),
	                              NULL, d),
	                 0);
	assert_string_equal(cb_doc_title(doc), "CRLF case");
	assert_string_equal(cb_doc_slug(doc), "crlf");
	assert_string_equal(cb_doc_url(doc), "cases/crlf.html");
	assert_true(cb_doc_meta_ok(doc));
	assert_int_equal(cb_value_line(cb_value_getc(cb_doc_meta(doc), "year")), 3);
	assert_int_equal(cb_md_section_at(cb_doc_md(doc), 0)->line, 6);
	cb_doc_free(doc);

	/* A page needs no front matter; its title is its first h1. */
	text = "# The method\n\nText.\n";
	assert_int_equal(cb_doc_parse(&doc, CB_DOC_PAGE, "content/pages/method.md", text,
	                              strlen(text), NULL, d),
	                 0);
	assert_string_equal(cb_doc_title(doc), "The method");
	assert_string_equal(cb_doc_url(doc), "method.html");
	cb_doc_free(doc);

	/* '...' also ends front matter. */
	text = "---\ntitle: dots\n...\nBody\n";
	assert_int_equal(cb_doc_parse(&doc, CB_DOC_PAGE, "content/pages/x.md", text, strlen(text),
	                              NULL, d),
	                 0);
	assert_string_equal(cb_doc_title(doc), "dots");
	cb_doc_free(doc);
	assert_int_equal(cb_diag_count(d), 0);
	cb_diag_list_free(d);
}

static void test_doc_omit(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_doc *doc = NULL;
	const char *text = "---\ntitle: t\n---\n## Keep\n\nA\n\n## Drop\n\nB\n\n### Sub\n\nC\n\n## Tail\n\nD\n";
	cb_buf b = CB_BUF_INIT;

	(void)state;
	cb_doc_parse(&doc, CB_DOC_CASE, "content/cases/o.md", text, strlen(text), NULL, d);
	assert_int_equal(cb_doc_omit_section(doc, "drop"), 0);
	assert_int_equal(cb_doc_omit_section(doc, "nope"), -1);
	cb_doc_body_html(doc, &b);
	assert_non_null(strstr(b.ptr, "<p>A</p>"));
	assert_null(strstr(b.ptr, "<p>B</p>"));
	assert_null(strstr(b.ptr, "<p>C</p>")); /* sub-sections go with their section */
	assert_non_null(strstr(b.ptr, "<p>D</p>"));
	cb_buf_dispose(&b);
	cb_doc_add_facet(doc, "phase", "co-design", 0);
	cb_doc_add_facet(doc, "phase", "co-design", 1);
	assert_int_equal(cb_value_len(cb_value_getc(cb_doc_facets(doc), "phase")), 1);
	{
		/* One entry shared by two documents; a duplicate is dropped. */
		cb_doc *other = cb_doc_share(doc);
		cb_value *e = cb_doc_facet_entry("design", 1);
		cb_doc_add_facet_entry(doc, "phase", cb_value_ref(e));
		cb_doc_add_facet_entry(other, "phase", cb_value_ref(e));
		cb_doc_add_facet_entry(doc, "phase", cb_doc_facet_entry("design", 0));
		assert_int_equal(cb_value_len(cb_value_getc(cb_doc_facets(doc), "phase")), 2);
		assert_ptr_equal(cb_value_at(cb_value_getc(cb_doc_facets(doc), "phase"), 1), e);
		assert_ptr_equal(cb_value_at(cb_value_getc(cb_doc_facets(other), "phase"), 0), e);
		assert_true(cb_value_bool(cb_value_getc(e, "derived")));
		cb_value_unref(e);
		cb_doc_free(other);
	}
	cb_doc_free(doc);
	cb_diag_list_free(d);
}

static void test_output_paths(void **state)
{
	char *p;

	(void)state;
	p = cb_doc_output_path("content/cases/a-b.md");
	assert_string_equal(p, "cases/a-b.html");
	free(p);
	p = cb_doc_output_path("content/pages/about.md");
	assert_string_equal(p, "about.html");
	free(p);
	p = cb_doc_output_path("content/img/x.png");
	assert_string_equal(p, "img/x.png");
	free(p);
	p = cb_doc_output_path("content/cases/img/notes.md");
	assert_string_equal(p, "cases/img/notes.md");
	free(p);
}

/* HTML comments are notes for editors: gone from the output, whether raw
 * HTML is allowed or not, and never warned about; other HTML still is. */
static void test_comments(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md;
	char *html;
	int unsafe;

	(void)state;
	for (unsafe = 0; unsafe <= 1; unsafe++) {
		md = parse("<!-- a note\n     on two lines -->\n\n## Context\n\n"
		           "<!-- one --> <!-- two -->\n\nText <!-- inline --> here.\n",
		           unsafe, d);
		html = all_html(md);
		assert_null(strstr(html, "note"));
		assert_null(strstr(html, "inline"));
		assert_null(strstr(html, "<!--"));
		assert_non_null(strstr(html, "<p>Text  here.</p>"));
		assert_int_equal(cb_md_section_count(md), 1);
		assert_int_equal(cb_md_section_at(md, 0)->text_len, strlen("Text  here."));
		free(html);
		cb_md_free(md);
	}
	assert_int_equal(cb_diag_count(d), 0);
	/* Not only a comment: raw HTML, dropped with a warning. */
	md = parse("<!-- c --> <b>bold</b>\n", 0, d);
	assert_int_equal(cb_diag_warnings(d), 1);
	cb_md_free(md);
	cb_diag_list_free(d);
}

static cb_md *parse_find(const char *text, const char *word, cb_diag_list *d)
{
	cb_md_opts o;
	cb_md *md = NULL;

	memset(&o, 0, sizeof o);
	o.path = "content/cases/a.md";
	o.line_offset = 10;
	o.find_word = word;
	cb_md_parse(&md, text, strlen(text), &o, d);
	return md;
}

/* find_word: whole words in text, at their exact line and column (in
 * characters), never in code, HTML, URLs or comments. */
static void test_find_word(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_md *md;
	const cb_md_found *f;

	(void)state;
	md = parse_find("TODO: first.\n\n"
	                "Łódź, *TODO* and **bold TODO**; TODOS, XTODO, `TODO`.\n\n"
	                "```\nTODO in code\n```\n\n"
	                "<!-- TODO in a comment -->\n\n"
	                "- item &amp; TODO\n"
	                "  > quoted TODO\n\n"
	                "[TODO](https://example.org/TODO) ![alt TODO](x.png)\n\n"
	                "| a | b |\n|---|---|\n| x | TODO |\n",
	                "TODO", d);
	assert_int_equal(cb_md_found_count(md), 8);
	f = cb_md_found_at(md, 0);
	assert_int_equal(f->line, 11);
	assert_int_equal(f->col, 1);
	f = cb_md_found_at(md, 1);
	assert_int_equal(f->line, 13);
	assert_int_equal(f->col, 8); /* "Łódź, *" is seven characters */
	f = cb_md_found_at(md, 2);
	assert_int_equal(f->line, 13);
	assert_int_equal(f->col, 25);
	f = cb_md_found_at(md, 3);
	assert_int_equal(f->line, 21); /* "- item &amp; TODO": after the entity */
	assert_int_equal(f->col, 14);
	f = cb_md_found_at(md, 4);
	assert_int_equal(f->line, 22);
	assert_int_equal(f->col, 12);
	f = cb_md_found_at(md, 5); /* link text, not its URL */
	assert_int_equal(f->line, 24);
	assert_int_equal(f->col, 2);
	f = cb_md_found_at(md, 6); /* an image's alt text */
	assert_int_equal(f->line, 24);
	assert_int_equal(f->col, 40);
	f = cb_md_found_at(md, 7); /* a table cell */
	assert_int_equal(f->line, 28);
	assert_int_equal(f->col, 7);
	assert_null(cb_md_found_at(md, 8));
	cb_md_free(md);
	/* A candidate that starts inside a longer word, one right after it,
	 * and one that ends the text. */
	md = parse_find("TTODO TODOTODO TODO xTODO TODO", "TODO", d);
	assert_int_equal(cb_md_found_count(md), 2);
	assert_int_equal(cb_md_found_at(md, 0)->col, 16);
	assert_int_equal(cb_md_found_at(md, 1)->col, 27);
	cb_md_free(md);
	/* Nothing asked, nothing found. */
	md = parse("TODO\n", 0, d);
	assert_int_equal(cb_md_found_count(md), 0);
	cb_md_free(md);
	cb_diag_list_free(d);
}

/* Ids of headings with the same title: -1, -2, ... in order, skipping ids
 * taken otherwise; thousands of them in linear time (a hang the fuzzer's
 * input tests/fuzz/load/crash-many-empty-headings showed: 30,000 empty
 * headings took over 30 s). */
static void test_heading_ids(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_buf text = CB_BUF_INIT;
	cb_md *md;
	char want[32];
	size_t i;

	(void)state;
	md = parse("## A\n\n## A 1\n\n## A\n\n## A\n\n## Related\n\n## Related\n\n#\n\n## A-2\n", 0, d);
	assert_int_equal(cb_md_section_count(md), 8);
	assert_string_equal(cb_md_section_at(md, 0)->id, "a");
	assert_string_equal(cb_md_section_at(md, 1)->id, "a-1");
	assert_string_equal(cb_md_section_at(md, 2)->id, "a-2");
	assert_string_equal(cb_md_section_at(md, 3)->id, "a-3");
	assert_string_equal(cb_md_section_at(md, 4)->id, "related-1"); /* reserved */
	assert_string_equal(cb_md_section_at(md, 5)->id, "related-2");
	assert_string_equal(cb_md_section_at(md, 6)->id, "section");
	assert_string_equal(cb_md_section_at(md, 7)->id, "a-2-1");
	cb_md_free(md);

	for (i = 0; i < 20000; i++)
		cb_buf_puts(&text, "#\n");
	md = parse(text.ptr, 0, d);
	assert_int_equal(cb_md_section_count(md), 20000);
	assert_string_equal(cb_md_section_at(md, 0)->id, "section");
	for (i = 1; i < 20000; i++) {
		snprintf(want, sizeof want, "section-%zu", i);
		assert_string_equal(cb_md_section_at(md, i)->id, want);
	}
	cb_md_free(md);
	cb_buf_dispose(&text);
	cb_diag_list_free(d);
}

/* Documents parsed on several threads at once each get their autolinks,
 * strikethroughs and table cells' autolinks (cmark-gfm's table of special
 * characters is one for the whole process: cb_md_init). */
typedef struct parse_many {
	atomic_int next, wrong;
} parse_many;

static void *parse_worker(void *arg)
{
	parse_many *pm = arg;
	/* Most documents have no '~' (parsed side by side), some have one. */
	static const char plain[] = "See https://example.org/a and the list.\n\n"
	                            "| site | note |\n|---|---|\n| www.example.org | x |\n";
	static const char struck[] = "See https://example.org/a and ~~old~~ news.\n";
	int k;

	while ((k = atomic_fetch_add(&pm->next, 1)) < 20000) {
		cb_diag_list *d = cb_diag_list_new();
		int with_tilde = k % 8 == 0;
		cb_md *md = parse(with_tilde ? struck : plain, 0, d);
		char *html = all_html(md);

		if (!strstr(html, "<a href=\"https://example.org/a\">") ||
		    (with_tilde ? !strstr(html, "<del>old</del>")
		                : !strstr(html, "<a href=\"http://www.example.org\">")))
			atomic_fetch_add(&pm->wrong, 1);
		free(html);
		cb_md_free(md);
		cb_diag_list_free(d);
	}
	return NULL;
}

static void test_threads(void **state)
{
	parse_many pm;

	(void)state;
	atomic_init(&pm.next, 0);
	atomic_init(&pm.wrong, 0);
	cb_pool_run(4, parse_worker, &pm);
	assert_int_equal(atomic_load(&pm.wrong), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sections),         cmocka_unit_test(test_drop_text),
	    cmocka_unit_test(test_item_positions),
	    cmocka_unit_test(test_links),            cmocka_unit_test(test_link_columns),
	    cmocka_unit_test(test_safety),           cmocka_unit_test(test_doc_front_matter),
	    cmocka_unit_test(test_doc_omit),         cmocka_unit_test(test_output_paths),
	    cmocka_unit_test(test_comments),         cmocka_unit_test(test_find_word),
	    cmocka_unit_test(test_heading_ids),      cmocka_unit_test(test_threads),
	};
	cb_md_init();
	return cmocka_run_group_tests_name("cb_md, cb_doc", tests, NULL, NULL);
}
