/* Unit tests for cb_print (the print edition), and the offline outputs of a
 * whole build (print.html, the search index, data files) for a handbook
 * whose cases carry lessons and related cases, set here the way plugins
 * set them (cb_doc_set_var). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_config.h"
#include "cb_doc.h"
#include "cb_fs.h"
#include "cb_load.h"
#include "cb_output.h"
#include "cb_print.h"
#include "cb_render.h"
#include "cb_site.h"
#include "cb_source.h"

static char *embed(const char *html, const char *prefix, int shift)
{
	cb_buf b = CB_BUF_INIT;

	cb_print_embed_html(&b, html, strlen(html), prefix, shift);
	return cb_buf_detach(&b);
}

static void test_embed(void **state)
{
	char *s;

	(void)state;
	s = embed("<h2 id=\"context\">Context</h2>\n<p>See <a href=\"#outcomes\">below</a> and "
	          "<a href=\"b.html#x\">b</a>.</p>\n<h6 id=\"deep\">x</h6><hr /><header>",
	          "case-a--", 1);
	assert_string_equal(s, "<h3 id=\"case-a--context\">Context</h3>\n<p>See <a "
	                       "href=\"#case-a--outcomes\">below</a> and <a href=\"b.html#x\">b</a>."
	                       "</p>\n<h6 id=\"case-a--deep\">x</h6><hr /><header>");
	free(s);
	s = embed("<h1>T</h1>", "", 0);
	assert_string_equal(s, "<h1>T</h1>");
	free(s);
	/* Edges: a pattern that ends the text is left (nothing follows it);
	 * only h1-h6 are headings; a heading at level 6 stays at 6. */
	s = embed("<h5>a</h5 ><h7>b</h7><p class=\"x\" id=\"", "p-", 2);
	assert_string_equal(s, "<h6>a</h6 ><h7>b</h7><p class=\"x\" id=\"");
	free(s);
	s = embed("<a href=\"#a\" id=\"b\"><a href=\"#", "p-", 0);
	assert_string_equal(s, "<a href=\"#p-a\" id=\"p-b\"><a href=\"#");
	free(s);
	/* Text that only looks like an attribute is escaped by cmark. */
	s = embed("<p>id=&quot;x&quot;</p>", "p-", 1);
	assert_string_equal(s, "<p>id=&quot;x&quot;</p>");
	free(s);
}

static char *rebase(const char *html, const char *from, const char *to, int inline_cases)
{
	cb_buf b = CB_BUF_INIT;

	cb_render_rebase_html(&b, html, strlen(html), from, to, inline_cases);
	return cb_buf_detach(&b);
}

/* Relative links and images moved from one folder to another; only
 * attributes (after a space) count, and absolute, rooted and in-page links
 * stay. */
static void test_rebase(void **state)
{
	char *s;

	(void)state;
	s = rebase("href=\"a.html\" <img src=\"../img/x.png\"> <a href=\"b.html#p\" "
	           "data-href=\"c.html\" xsrc=\"d.png\">"
	           "<a href=\"#top\"> <a href=\"/r.html\"> <a href=\"https://e.org/\"> <a href=\"\">",
	           "cases", "", 0);
	assert_string_equal(s, "href=\"cases/a.html\" <img src=\"img/x.png\"> <a href=\"cases/b.html#p\" "
	                       "data-href=\"c.html\" xsrc=\"d.png\">"
	                       "<a href=\"#top\"> <a href=\"/r.html\"> <a href=\"https://e.org/\"> "
	                       "<a href=\"\">");
	free(s);
	/* Cases on the same page (the print edition): anchors. */
	s = rebase("<a href=\"b.html\">b</a> <a href=\"b.html#x\">x</a> <a href=\"../about.html\">",
	           "cases", "", 1);
	assert_string_equal(s, "<a href=\"#case-b\">b</a> <a href=\"#case-b--x\">x</a> "
	                       "<a href=\"about.html\">");
	free(s);
	/* An attribute whose quote never closes is left as it is. */
	s = rebase("<p>x</p> <a href=\"open", "cases", "", 1);
	assert_string_equal(s, "<p>x</p> <a href=\"open");
	free(s);
}

/* ---- a whole build ------------------------------------------------------- */

static char *tmp_dir;

static char *read_out(const char *rel)
{
	char *path, *data = NULL;
	size_t len;

	if (asprintf(&path, "%s/site/%s", tmp_dir, rel) < 0)
		return NULL;
	if (cb_fs_read(path, 0, &data, &len) < 0)
		fail_msg("cannot read %s", path);
	free(path);
	return data;
}

static cb_value *map2(const char *k1, cb_value *v1, const char *k2, cb_value *v2)
{
	cb_value *m = cb_value_new_map();

	cb_value_setc(m, k1, v1);
	if (k2)
		cb_value_setc(m, k2, v2);
	return m;
}

/* Lessons and related cases as the plugins give them. */
static void add_plugin_values(cb_site *site)
{
	cb_doc *alpha = cb_site_case_by_slug(site, "alpha-watch");
	cb_value *lesson = cb_value_new_map(), *items = cb_value_new_list();

	cb_value_set_str(lesson, "id", "lesson-train");
	cb_value_set_str(lesson, "text", "Train volunteers before they patrol.");
	cb_value_set_str(lesson, "html",
	                 "Train <a href=\"beta-clinic.html#outcomes\">volunteers</a> before they patrol.");
	cb_value_setc(lesson, "theme", map2("id", cb_value_new_cstr("process-design"), "label",
	                                    cb_value_new_cstr("Process design")));
	cb_value_push(items, lesson);
	cb_doc_set_var(alpha, "lessons", map2("items", items, NULL, NULL));
	items = cb_value_new_list();
	cb_value_push(items, map2("title", cb_value_new_cstr("Beta client council"), "url",
	                          cb_value_new_cstr("cases/beta-clinic.html")));
	cb_doc_set_var(alpha, "related", map2("items", items, NULL, NULL));
	assert_int_equal(cb_doc_omit_section(alpha, "lessons-for-practice"), 0);
}

static int build(void **state)
{
	char tmpl[] = "/tmp/casebook-print-XXXXXX", src_path[PATH_MAX], share_path[PATH_MAX];
	cb_diag_list *d = cb_diag_list_new();
	cb_source *src = NULL, *share = NULL;
	cb_config *cfg = NULL;
	cb_site *site;
	cb_output *out = NULL;
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	cb_render_opts ro = CB_RENDER_OPTS_INIT;
	char *out_dir;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	tmp_dir = strdup(tmpl);
	assert_non_null(realpath("tests/sites/basic", src_path));
	assert_non_null(realpath(".", share_path));
	assert_int_equal(cb_source_open_dir(&src, src_path), 0);
	assert_int_equal(cb_source_open_dir(&share, share_path), 0);
	assert_int_equal(cb_config_load(&cfg, src, d), 0);
	site = cb_site_new(cfg, src, share, d);
	cb_load(site, &lo);
	add_plugin_values(site);
	assert_int_equal(asprintf(&out_dir, "%s/site", tmp_dir) > 0, 1);
	assert_int_equal(cb_output_open(&out, out_dir, d), 0);
	assert_int_equal(cb_render_site(site, out, &ro), 0);
	assert_int_equal(cb_diag_errors(d), 0);
	assert_int_equal(cb_output_commit(out), 0);
	cb_output_free(out);
	cb_site_free(site);
	cb_source_free(src);
	cb_source_free(share);
	cb_diag_list_free(d);
	free(out_dir);
	return 0;
}

static int cleanup(void **state)
{
	(void)state;
	cb_fs_remove_tree(tmp_dir);
	free(tmp_dir);
	return 0;
}

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected to find: %s", needle);
}

static void lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("did not expect: %s", needle);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_print_page(void **state)
{
	char *p = read_out("print.html");
	char *ids[512];
	const char *at = p;
	size_t n = 0, i;

	(void)state;
	/* Every case, in order, with in-page anchors. */
	contains(p, "<article class=\"print-case\" id=\"case-alpha-watch\"");
	assert_true(strstr(p, "id=\"case-alpha-watch\"") < strstr(p, "id=\"case-beta-clinic\""));
	contains(p, "<a href=\"#case-alpha-watch\">Alpha neighbourhood watch</a>");
	/* Links between cases are anchors; headings moved down a level. */
	contains(p, "<a href=\"#case-beta-clinic--outcomes\">its outcomes</a>");
	contains(p, "<h3 id=\"case-beta-clinic--outcomes\">Outcomes</h3>");
	lacks(p, "href=\"beta-clinic.html");
	lacks(p, "href=\"cases/beta-clinic.html");
	/* Images rebased to the site root. */
	contains(p, "<img src=\"cases/img/map.png\"");
	/* Lessons (the section they came from is left out), related cases. */
	contains(p, "<li id=\"case-alpha-watch--lesson-train\" class=\"lesson\">");
	contains(p, "Train <a href=\"#case-beta-clinic--outcomes\">volunteers</a> before they patrol.");
	lacks(p, "id=\"case-alpha-watch--lessons-for-practice\"");
	contains(p, "<a href=\"#case-beta-clinic\">Beta client council</a>");
	/* The catalogue, the vocabularies, the free pages. */
	contains(p, "<h3 id=\"lessons-process-design-title\">Process design</h3>");
	contains(p, "(<a href=\"#case-alpha-watch--lesson-train\">Alpha neighbourhood watch</a>)");
	contains(p, "<dt id=\"term-sector-health\">Health</dt>");
	contains(p, "id=\"page-method\"");
	contains(p, "<a href=\"#case-alpha-watch\">three cases</a>");
	/* Every id is unique, and every in-page link has a target. */
	while ((at = strstr(at, " id=\"")) && n < 512) {
		const char *e = strchr(at + 5, '"');
		ids[n++] = strndup(at + 5, (size_t)(e - at - 5));
		at = e;
	}
	qsort(ids, n, sizeof(char *), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			fail_msg("duplicate id %s", ids[i]);
	at = p;
	while ((at = strstr(at, "href=\"#"))) {
		const char *e = strchr(at + 7, '"');
		char *id = strndup(at + 7, (size_t)(e - at - 7));
		if (!bsearch(&id, ids, n, sizeof(char *), cmp_str))
			fail_msg("link to #%s, which is not on the page", id);
		free(id);
		at = e;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(p);
}

static void test_search_files(void **state)
{
	char *idx = read_out("assets/search-index.js");
	char *page = read_out("search.html");

	(void)state;
	/* A small handbook: every part inside search-index.js; two slots per
	 * case (the case and its one lesson). */
	contains(idx, "\"cases\":3,\"slots\":2,");
	contains(idx, "casebookSearch.part(\"t0\",");
	contains(idx, "casebookSearch.part(\"d0\",");
	contains(idx, "[\"lesson-train\",\"Train volunteers before they patrol.\",\"Process design\"]");
	/* The omitted section's text is not in the case's text. */
	lacks(idx, "Keep the police in the loop");
	contains(idx, "\"lodz\"");
	contains(page, "data-search=\"page\"");
	contains(page, "role=\"combobox\"");
	free(idx);
	free(page);
}

static void test_data_files(void **state)
{
	char *json = read_out("data/cases.json"), *csv = read_out("data/cases.csv");

	(void)state;
	contains(json, "\"slug\":\"alpha-watch\",\"url\":\"cases/alpha-watch.html\"");
	contains(json, "\"classification\":{\"sector\":[\"public-safety\"]},\"derived\":{},"
	               "\"lessons\":[\"lesson-train\"]}");
	contains(csv, "\r\nalpha-watch,cases/alpha-watch.html,Alpha neighbourhood watch,");
	contains(csv, ",public-safety,lesson-train\r\n");
	contains(csv, ",Belgium; Netherlands,");
	contains(csv, ",\"Author, A. (2018). A chapter. In B. Editor (Ed.), A book. Publisher.\",");
	free(json);
	free(csv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_embed), cmocka_unit_test(test_rebase),
	    cmocka_unit_test(test_print_page),
	    cmocka_unit_test(test_search_files),
	    cmocka_unit_test(test_data_files),
	};
	return cmocka_run_group_tests(tests, build, cleanup);
}
