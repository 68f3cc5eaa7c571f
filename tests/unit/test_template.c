/*
 * test_template: the Mustache engine against the Mustache spec's YAML files
 * (required modules plus ~inheritance) and casebook's own cases: escaping,
 * truthiness, error positions, layouts, recursion limits and threads.
 *
 * The spec files are read in place from $MUSTACHE_SPEC_DIR (default
 * ../shared/mustache-spec, relative to the project root where tests run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cb_template.h"
#include "cb_yaml.h"

/* {=================================================================
 * Helpers
 * ================================================================== */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cb_buf b = CB_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		cb_buf_put(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return cb_buf_detach(&b);
}

/* A loader over a cb_value map of name -> template text. */
static int map_loader(void *ctx, const char *name, char **data, size_t *len, char **path,
                      cb_diag_list *diags)
{
	const cb_value *map = ctx;
	const cb_value *v = cb_value_getc(map, name);
	const char *s;
	size_t n;

	(void)diags;
	if (!v || !(s = cb_value_str(v, &n)))
		return CB_TMPL_NOTFOUND;
	*data = cb_xstrndup(s, n);
	*len = n;
	*path = cb_xasprintf("partials/%s.mustache", name);
	return 0;
}

/* Parse YAML text (a test's data) and fail the test on errors. */
static cb_value *yaml(const char *text)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *v = NULL;

	assert_int_equal(cb_yaml_parse(&v, text, strlen(text), "data.yml", 0, d), 0);
	cb_diag_list_free(d);
	return v;
}

/*
 * Render `text` as template "page" with the given YAML data and partials
 * (a YAML map, or NULL). Returns the output (caller frees) or NULL on error;
 * diagnostics go to diags when given.
 */
static char *render(const char *text, const char *data, const char *partials,
                    cb_diag_list *diags)
{
	cb_value *ctx = yaml(data);
	cb_value *parts = partials ? yaml(partials) : cb_value_new_map();
	cb_diag_list *own = diags ? NULL : cb_diag_list_new();
	cb_tmpl_set *set = cb_tmpl_set_new(map_loader, parts);
	const cb_tmpl *t = NULL;
	cb_buf out = CB_BUF_INIT;
	char *res = NULL;

	cb_tmpl_set_add(set, "page", text, strlen(text), "templates/page.mustache");
	if (cb_tmpl_set_get(set, "page", &t, diags ? diags : own) == 0 &&
	    cb_tmpl_render(t, set, ctx, &out, diags ? diags : own) == 0)
		res = cb_buf_detach(&out);
	cb_buf_dispose(&out);
	cb_tmpl_set_free(set);
	cb_diag_list_free(own);
	cb_value_unref(parts);
	cb_value_unref(ctx);
	return res;
}

static void assert_render(const char *text, const char *data, const char *partials,
                          const char *expected)
{
	char *got = render(text, data, partials, NULL);

	assert_non_null(got);
	assert_string_equal(got, expected);
	free(got);
}

static void print_escaped(const char *label, const char *s, size_t len)
{
	cb_buf b = CB_BUF_INIT;

	cb_buf_put_json(&b, s, len);
	printf("    %-9s \"%s\"\n", label, b.ptr);
	cb_buf_dispose(&b);
}

/* {=================================================================
 * The Mustache spec
 * ================================================================== */

static const char *const spec_files[] = {
    "comments.yml", "delimiters.yml", "interpolation.yml", "inverted.yml",
    "partials.yml", "sections.yml",   "~inheritance.yml",
};

/* Run one test of a spec file. Returns 1 when it passes. */
static int spec_case(const char *file, const cb_value *test)
{
	const cb_value *name = cb_value_getc(test, "name");
	const cb_value *tmpl = cb_value_getc(test, "template");
	const cb_value *expected = cb_value_getc(test, "expected");
	const cb_value *partials = cb_value_getc(test, "partials");
	cb_value *empty = cb_value_new_map();
	cb_diag_list *diags = cb_diag_list_new();
	cb_tmpl_set *set = cb_tmpl_set_new(map_loader, (void *)(partials ? partials : empty));
	const cb_tmpl *t = NULL;
	cb_buf out = CB_BUF_INIT, text = CB_BUF_INIT;
	const char *src, *want;
	size_t srclen, wantlen;
	int ok = 0, rc;

	src = cb_value_str(tmpl, &srclen);
	want = cb_value_str(expected, &wantlen);
	if (!src || !want) {
		printf("  %s: %s: bad test (template or expected is not a string)\n", file,
		       cb_value_cstr(name));
		goto out;
	}
	/* The spec names partials freely; keep the test's own template apart. */
	cb_tmpl_set_add(set, "\x01spec-test", src, srclen, file);
	rc = cb_tmpl_set_get(set, "\x01spec-test", &t, diags);
	if (rc == 0)
		rc = cb_tmpl_render(t, set, cb_value_getc(test, "data"), &out, diags);
	ok = rc == 0 && out.len == wantlen && memcmp(out.ptr, want, wantlen) == 0;
	if (!ok) {
		size_t i;

		printf("  FAIL %s: %s\n", file, cb_value_cstr(name));
		print_escaped("template", src, srclen);
		print_escaped("expected", want, wantlen);
		print_escaped("actual", out.ptr, out.len);
		for (i = 0; i < cb_diag_count(diags); i++) {
			cb_buf_clear(&text);
			cb_diag_format_text(cb_diag_at(diags, i), &text);
			printf("    %s\n", text.ptr);
		}
	}
out:
	cb_buf_dispose(&out);
	cb_buf_dispose(&text);
	cb_tmpl_set_free(set);
	cb_diag_list_free(diags);
	cb_value_unref(empty);
	return ok;
}

static void test_spec(void **state)
{
	const char *dir = getenv("MUSTACHE_SPEC_DIR");
	size_t f, failed = 0;
	struct stat st;

	(void)state;
	if (!dir || !*dir)
		dir = "../shared/mustache-spec";
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("mustache spec: skipped (MUSTACHE_SPEC_DIR=%s not found)\n", dir);
		skip();
	}
	for (f = 0; f < sizeof spec_files / sizeof spec_files[0]; f++) {
		char *path = cb_xasprintf("%s/%s", dir, spec_files[f]);
		cb_diag_list *diags = cb_diag_list_new();
		cb_value *doc = NULL;
		const cb_value *tests;
		size_t len = 0, i, passed = 0, total;
		char *text = read_file(path, &len);

		if (!text) {
			printf("mustache spec: %s: cannot read\n", path);
			failed++;
			goto next;
		}
		if (cb_yaml_parse(&doc, text, len, path, 0, diags) < 0) {
			printf("mustache spec: %s: YAML errors\n", path);
			failed++;
			goto next;
		}
		tests = cb_value_getc(doc, "tests");
		total = cb_value_len(tests);
		for (i = 0; i < total; i++)
			passed += (size_t)spec_case(spec_files[f], cb_value_at(tests, i));
		printf("mustache spec: %-18s %zu/%zu passed\n", spec_files[f], passed, total);
		failed += total - passed;
		if (total == 0)
			failed++;
	next:
		cb_value_unref(doc);
		cb_diag_list_free(diags);
		free(text);
		free(path);
	}
	if (failed)
		fail_msg("mustache spec: %zu test(s) failed", failed);
}

/* {=================================================================
 * Our own cases
 * ================================================================== */

static void test_escape(void **state)
{
	(void)state;
	assert_render("{{s}}", "s: \"&<>\\\"'x\"", NULL, "&amp;&lt;&gt;&quot;&#39;x");
	assert_render("{{{s}}}|{{&s}}", "s: \"&<>\\\"'\"", NULL, "&<>\"'|&<>\"'");
	/* Numbers are escaped too (nothing to escape, but the same path). */
	assert_render("{{n}}", "n: -12", NULL, "-12");
}

static void test_values(void **state)
{
	(void)state;
	assert_render("{{f}} {{g}} {{d}} [{{z}}] {{b}} [{{missing}}]",
	              "{f: 1.210, g: -0.25, d: 2024-03-05, z: null, b: true}", NULL,
	              "1.21 -0.25 2024-03-05 [] true []");
	/* Lists and maps interpolate as nothing. */
	assert_render("[{{l}}][{{m}}]", "{l: [1, 2], m: {a: 1}}", NULL, "[][]");
}

static void test_truthiness(void **state)
{
	(void)state;
	assert_render("{{#s}}yes{{/s}}{{^s}}no{{/s}}", "s: ''", NULL, "no");
	assert_render("{{#s}}yes{{/s}}{{^s}}no{{/s}}", "s: ' '", NULL, "yes");
	assert_render("{{#n}}[{{.}}]{{/n}}", "n: 0", NULL, "[0]");
	assert_render("{{#n}}[{{.}}]{{/n}}", "n: 0.0", NULL, "[0]");
	assert_render("{{#m}}map{{/m}}{{^m}}none{{/m}}", "m: {}", NULL, "map");
	assert_render("{{#l}}x{{/l}}{{^l}}empty{{/l}}", "l: []", NULL, "empty");
	assert_render("{{#z}}x{{/z}}{{^z}}null{{/z}}", "z: null", NULL, "null");
	assert_render("{{#f}}x{{/f}}{{^f}}false{{/f}}", "f: false", NULL, "false");
	assert_render("{{#l}}<{{name}}>{{/l}}", "l: [{name: a}, {name: b}]", NULL, "<a><b>");
}

static void check_diag(cb_diag_list *d, size_t i, unsigned line, unsigned col,
                       const char *needle)
{
	const cb_diag *g = cb_diag_at(d, i);

	assert_non_null(g);
	assert_string_equal(g->code, "template");
	assert_string_equal(g->path, "templates/page.mustache");
	if (g->line != line || g->col != col || !strstr(g->msg, needle)) {
		print_message("diag %zu: %u:%u: %s (wanted %u:%u: ...%s...)\n", i, g->line, g->col,
		              g->msg, line, col, needle);
		fail();
	}
}

static void test_error_unclosed_section(void **state)
{
	cb_diag_list *d = cb_diag_list_new();

	(void)state;
	assert_null(render("<ul>\n  {{#items}}\n  <li>{{name}}</li>\n</ul>\n", "{}", NULL, d));
	assert_int_equal(cb_diag_count(d), 1);
	check_diag(d, 0, 2, 3, "unclosed section 'items'");
	cb_diag_list_free(d);
}

static void test_error_mismatched_close(void **state)
{
	cb_diag_list *d = cb_diag_list_new();

	(void)state;
	assert_null(render("{{#a}}\n  {{#b}}x{{/a}}\n", "{}", NULL, d));
	assert_int_equal(cb_diag_count(d), 1);
	check_diag(d, 0, 2, 10, "closing tag 'a' does not match the section 'b' opened at 2:3");
	cb_diag_list_free(d);
}

static void test_error_all_reported(void **state)
{
	cb_diag_list *d = cb_diag_list_new();

	(void)state;
	/* Every syntax error of a template is reported, in order. Columns count
	 * characters, not bytes. */
	assert_null(render("é {{name\n{{/x}}\n{{=<% =}}\n{{#ok}}{{/ok}}{{! never closed\n", "{}",
	                   NULL, d));
	assert_int_equal(cb_diag_count(d), 4);
	check_diag(d, 0, 1, 3, "unclosed tag");
	check_diag(d, 1, 2, 1, "closing tag 'x' has no open section");
	check_diag(d, 2, 3, 1, "bad delimiters");
	check_diag(d, 3, 4, 15, "unclosed comment");
	cb_diag_list_free(d);

	d = cb_diag_list_new();
	assert_null(render("{{}} {{a b}} {{a..b}} {{#s}}", "{}", NULL, d));
	assert_int_equal(cb_diag_count(d), 4);
	check_diag(d, 0, 1, 1, "empty tag");
	check_diag(d, 1, 1, 6, "bad tag name 'a b'");
	check_diag(d, 2, 1, 14, "bad name 'a..b'");
	check_diag(d, 3, 1, 23, "unclosed section 's'");
	cb_diag_list_free(d);
}

static void test_error_in_partial(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	const cb_diag *g;

	(void)state;
	assert_null(render("a {{>broken}} b", "{}", "broken: \"x\\n{{#y}}\"", d));
	assert_int_equal(cb_diag_count(d), 1);
	g = cb_diag_at(d, 0);
	assert_string_equal(g->path, "partials/broken.mustache");
	assert_int_equal(g->line, 2);
	assert_int_equal(g->col, 1);
	cb_diag_list_free(d);
}

static const char layout_partials[] =
    "base: |\n"
    "  <html>\n"
    "  <head><title>{{$title}}Casebook{{/title}}</title></head>\n"
    "  <body>\n"
    "    {{$content}}\n"
    "    <p>No content.</p>\n"
    "    {{/content}}\n"
    "    {{>footer}}\n"
    "  </body>\n"
    "  </html>\n"
    "footer: |\n"
    "  <footer>\n"
    "    {{site}}\n"
    "  </footer>\n"
    "article: |\n"
    "  {{<base}}\n"
    "  {{$title}}{{$heading}}Article{{/heading}} | {{site}}{{/title}}\n"
    "  {{$content}}\n"
    "  <article>\n"
    "    <h1>{{$heading}}Article{{/heading}}</h1>\n"
    "    {{$body}}\n"
    "    {{/body}}\n"
    "  </article>\n"
    "  {{/content}}\n"
    "  {{/base}}\n";

static void test_layout(void **state)
{
	(void)state;
	/* A page overrides blocks of "article", which is itself a parent of
	 * "base": the page's blocks win at every level, and block content is
	 * re-indented where it lands. */
	assert_render("{{<article}}\n"
	              "{{$heading}}{{title}}{{/heading}}\n"
	              "{{$body}}\n"
	              "<p>{{summary}}</p>\n"
	              "<ul>\n"
	              "  {{#tags}}\n"
	              "  <li>{{.}}</li>\n"
	              "  {{/tags}}\n"
	              "</ul>\n"
	              "{{/body}}\n"
	              "{{/article}}\n",
	              "{site: Casebook, title: 'Tenants & owners', summary: 'A case.',"
	              " tags: [housing, co-design]}",
	              layout_partials,
	              "<html>\n"
	              "<head><title>Tenants &amp; owners | Casebook</title></head>\n"
	              "<body>\n"
	              "  <article>\n"
	              "    <h1>Tenants &amp; owners</h1>\n"
	              "    <p>A case.</p>\n"
	              "    <ul>\n"
	              "      <li>housing</li>\n"
	              "      <li>co-design</li>\n"
	              "    </ul>\n"
	              "  </article>\n"
	              "  <footer>\n"
	              "    Casebook\n"
	              "  </footer>\n"
	              "</body>\n"
	              "</html>\n");
	/* A block site written on one line keeps its newline after the content. */
	assert_render("{{<l}}{{$c}}\nx\n{{/c}}{{/l}}", "{}", "l: \"<m>\\n  {{$c}}{{/c}}\\n</m>\\n\"",
	              "<m>\n  x\n\n</m>\n");
	/* Without overrides the defaults render. */
	assert_render("{{<base}}{{/base}}", "{site: S}", layout_partials,
	              "<html>\n"
	              "<head><title>Casebook</title></head>\n"
	              "<body>\n"
	              "  <p>No content.</p>\n"
	              "  <footer>\n"
	              "    S\n"
	              "  </footer>\n"
	              "</body>\n"
	              "</html>\n");
}

static void test_recursion_depth(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	const cb_diag *g;
	char *got;

	(void)state;
	/* Bounded recursion is fine... */
	got = render("{{>node}}", "{n: [{n: [{n: []}]}]}", "node: '<{{#n}}{{>node}}{{/n}}>'", NULL);
	assert_non_null(got);
	assert_string_equal(got, "<<<>>>");
	free(got);
	/* ...endless recursion is an error at the including tag. */
	assert_null(render("x{{>loop}}", "{}", "loop: \"a\\n  {{> loop }}\"", d));
	assert_int_equal(cb_diag_count(d), 1);
	g = cb_diag_at(d, 0);
	assert_string_equal(g->code, "template");
	assert_string_equal(g->path, "partials/loop.mustache");
	assert_int_equal(g->line, 2);
	assert_int_equal(g->col, 3);
	assert_non_null(strstr(g->msg, "nested deeper than 64"));

	/* A failed render leaves the output as it was. */
	{
		cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
		const cb_tmpl *t = NULL;
		cb_buf out = CB_BUF_INIT;

		cb_tmpl_set_add(set, "loop", "text {{>loop}}", 14, NULL);
		assert_int_equal(cb_tmpl_set_get(set, "loop", &t, d), 0);
		cb_buf_puts(&out, "before|");
		assert_int_equal(cb_tmpl_render(t, set, NULL, &out, d), -1);
		assert_string_equal(out.ptr, "before|");
		assert_int_equal(cb_diag_count(d), 2);
		cb_buf_dispose(&out);
		cb_tmpl_set_free(set);
	}
	cb_diag_list_free(d);

	/* A block whose override contains itself recurses too. */
	d = cb_diag_list_new();
	assert_null(render("{{<p}}{{$a}}[{{$a}}{{/a}}]{{/a}}{{/p}}", "{}", "p: '{{$a}}{{/a}}'", d));
	assert_int_equal(cb_diag_count(d), 1);
	cb_diag_list_free(d);
}

/* Add template `name`: `inner` inside `depth` nested {{#list}} sections
 * (built in *tmpl), and return it compiled. */
static const cb_tmpl *nested_lists(cb_tmpl_set *set, const char *name, int depth,
                                   const char *inner, cb_buf *tmpl)
{
	cb_diag_list *d = cb_diag_list_new();
	const cb_tmpl *t = NULL;
	int i;

	cb_buf_clear(tmpl);
	for (i = 0; i < depth; i++)
		cb_buf_puts(tmpl, "{{#list}}");
	cb_buf_puts(tmpl, inner);
	for (i = 0; i < depth; i++)
		cb_buf_puts(tmpl, "{{/list}}");
	cb_tmpl_set_add(set, name, tmpl->ptr, tmpl->len, NULL);
	assert_int_equal(cb_tmpl_set_get(set, name, &t, d), 0);
	cb_diag_list_free(d);
	return t;
}

/* Nested sections over lists multiply: the render stops at its limits of
 * steps and output with an error, instead of running for hours (a hang the
 * fuzzer found: tests/fuzz/template/crash-nested-sections). */
static void test_limits(void **state)
{
	cb_diag_list *d = cb_diag_list_new();
	cb_value *ctx = yaml("{list: [1, 2, 3], big: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}");
	cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
	const cb_tmpl *t = NULL;
	cb_buf out = CB_BUF_INIT, tmpl = CB_BUF_INIT;

	(void)state;
	t = nested_lists(set, "nest", 30, "x", &tmpl); /* 3^30 passes */
	cb_tmpl_set_limits(set, 100000, 1 << 20);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(cb_diag_count(d), 1);
	assert_non_null(strstr(cb_diag_at(d, 0)->msg, "rendering stopped at '"));
	assert_non_null(strstr(cb_diag_at(d, 0)->msg,
	                       "after 100000 steps (sections over lists multiply when nested)"));
	cb_diag_list_free(d);

	/* A name looked up through many nested sections costs a step for each
	 * frame that does not hold it: 3^8 lookups of a missing name through 9
	 * frames are over 59,000 steps, though the render visits 9,841 nodes. */
	d = cb_diag_list_new();
	t = nested_lists(set, "deep", 8, "{{missing}}", &tmpl);
	cb_tmpl_set_limits(set, 30000, 1 << 20);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), -1);
	assert_int_equal(cb_diag_count(d), 1);
	assert_non_null(strstr(cb_diag_at(d, 0)->msg, "after 30000 steps"));
	cb_tmpl_set_limits(set, 100000, 1 << 20);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_int_equal(cb_diag_count(d), 1);
	cb_diag_list_free(d);

	/* The output is limited too; a failed render leaves it as it was. */
	d = cb_diag_list_new();
	cb_buf_clear(&tmpl);
	cb_buf_puts(&tmpl, "{{#list}}{{#list}}{{#list}}{{big}}{{/list}}{{/list}}{{/list}}");
	cb_tmpl_set_add(set, "wide", tmpl.ptr, tmpl.len, NULL);
	assert_int_equal(cb_tmpl_set_get(set, "wide", &t, d), 0);
	cb_tmpl_set_limits(set, 1000000, 1000);
	cb_buf_puts(&out, "kept|");
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), -1);
	assert_string_equal(out.ptr, "kept|");
	assert_int_equal(cb_diag_count(d), 1);
	assert_non_null(strstr(cb_diag_at(d, 0)->msg, "the output is over 1000 bytes"));
	/* Within the limits all is well: 27 times 40 bytes. */
	cb_tmpl_set_limits(set, 1000000, 2000);
	cb_buf_clear(&out);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_int_equal(out.len, 27 * 40);
	/* The defaults are generous but finite. */
	assert_true(CB_TMPL_MAX_STEPS >= 10000000ULL && CB_TMPL_MAX_OUTPUT >= ((size_t)256 << 20));
	cb_buf_dispose(&out);
	cb_buf_dispose(&tmpl);
	cb_tmpl_set_free(set);
	cb_value_unref(ctx);
	cb_diag_list_free(d);
}

static void test_missing_and_replace(void **state)
{
	cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
	cb_diag_list *d = cb_diag_list_new();
	const cb_tmpl *t = NULL, *old;
	cb_buf out = CB_BUF_INIT;
	cb_value *ctx = yaml("{x: 1}");

	(void)state;
	assert_int_equal(cb_tmpl_set_get(set, "nope", &t, d), CB_TMPL_NOTFOUND);
	assert_null(t);
	cb_tmpl_set_add(set, "page", "[{{>inc}}]", 10, NULL);
	assert_int_equal(cb_tmpl_set_get(set, "page", &t, d), 0);
	assert_string_equal(cb_tmpl_path(t), "page");
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_string_equal(out.ptr, "[]");
	/* Adding the missing partial later: the next get compiles it. */
	cb_tmpl_set_add(set, "inc", "{{x}}", 5, "inc.mustache");
	assert_int_equal(cb_tmpl_set_get(set, "page", &t, d), 0);
	cb_buf_clear(&out);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_string_equal(out.ptr, "[1]");
	/* Replacing a template keeps the old one valid until the set is freed. */
	old = t;
	cb_tmpl_set_add(set, "page", "({{>inc}})", 10, NULL);
	assert_int_equal(cb_tmpl_set_compile_all(set, d), 0);
	assert_int_equal(cb_tmpl_set_get(set, "page", &t, d), 0);
	assert_ptr_not_equal(t, old);
	cb_buf_clear(&out);
	assert_int_equal(cb_tmpl_render(old, set, ctx, &out, d), 0);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &out, d), 0);
	assert_string_equal(out.ptr, "[1](1)");
	assert_int_equal(cb_diag_count(d), 0);
	cb_buf_dispose(&out);
	cb_value_unref(ctx);
	cb_diag_list_free(d);
	cb_tmpl_set_free(set);
}

/* A loader that fails with an I/O error for "io" and knows "page". */
static int failing_loader(void *ctx, const char *name, char **data, size_t *len, char **path,
                          cb_diag_list *diags)
{
	static const char page[] = "a{{>io}}b";

	(void)ctx;
	if (strcmp(name, "io") == 0)
		return cb_diag_error(diags, "io", "themes/t/io.mustache", 0, 0, "cannot read");
	if (strcmp(name, "page") != 0)
		return CB_TMPL_NOTFOUND;
	*data = cb_xstrdup(page);
	*len = sizeof page - 1;
	*path = NULL; /* the set then uses the name */
	return 0;
}

static void test_loader_error(void **state)
{
	cb_tmpl_set *set = cb_tmpl_set_new(failing_loader, NULL);
	cb_diag_list *d = cb_diag_list_new();
	const cb_tmpl *t = NULL;

	(void)state;
	/* The loader's error fails the page that needs the partial... */
	assert_int_equal(cb_tmpl_set_get(set, "page", &t, d), -1);
	assert_null(t);
	assert_int_equal(cb_diag_count(d), 1);
	assert_string_equal(cb_diag_at(d, 0)->code, "io");
	assert_string_equal(cb_diag_at(d, 0)->path, "themes/t/io.mustache");
	/* ...and is asked again next time, as is compile_all. */
	assert_int_equal(cb_tmpl_set_compile_all(set, d), -1);
	assert_int_equal(cb_diag_count(d), 2);
	/* Templates that do not need it are fine; unknown ones are not found. */
	cb_tmpl_set_add(set, "other", "{{>unknown}}ok", 14, NULL);
	assert_int_equal(cb_tmpl_set_get(set, "other", &t, d), 0);
	assert_int_equal(cb_tmpl_set_get(set, "unknown", &t, d), CB_TMPL_NOTFOUND);
	assert_int_equal(cb_diag_count(d), 2);
	cb_diag_list_free(d);
	cb_tmpl_set_free(set);
}

typedef struct thread_job {
	const cb_tmpl *t;
	const cb_tmpl_set *set;
	const cb_value *ctx;
	const char *expected;
	int mismatches;
} thread_job;

static void *render_many(void *arg)
{
	thread_job *job = arg;
	cb_diag_list *d = cb_diag_list_new();
	cb_buf out = CB_BUF_INIT;
	int i;

	for (i = 0; i < 300; i++) {
		cb_buf_clear(&out);
		if (cb_tmpl_render(job->t, job->set, job->ctx, &out, d) != 0 ||
		    strcmp(out.ptr, job->expected) != 0)
			job->mismatches++;
	}
	cb_buf_dispose(&out);
	cb_diag_list_free(d);
	return NULL;
}

static void test_threads(void **state)
{
	cb_value *parts = yaml(layout_partials);
	cb_value *ctx = yaml("{site: Casebook, title: T, summary: S, tags: [a, b, c]}");
	cb_tmpl_set *set = cb_tmpl_set_new(map_loader, parts);
	cb_diag_list *d = cb_diag_list_new();
	const char *page = "{{<article}}{{$body}}\n  {{#tags}}<i>{{.}}</i>{{/tags}}\n{{/body}}"
	                   "{{/article}}";
	const cb_tmpl *t = NULL;
	cb_buf ref = CB_BUF_INIT;
	thread_job jobs[2];
	pthread_t th[2];
	int i;

	(void)state;
	cb_tmpl_set_add(set, "page", page, strlen(page), NULL);
	assert_int_equal(cb_tmpl_set_get(set, "page", &t, d), 0);
	assert_int_equal(cb_tmpl_render(t, set, ctx, &ref, d), 0);
	assert_non_null(strstr(ref.ptr, "<i>a</i><i>b</i><i>c</i>"));
	for (i = 0; i < 2; i++) {
		jobs[i] = (thread_job){t, set, ctx, ref.ptr, 0};
		assert_int_equal(pthread_create(&th[i], NULL, render_many, &jobs[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].mismatches, 0);
	}
	cb_buf_dispose(&ref);
	cb_diag_list_free(d);
	cb_tmpl_set_free(set);
	cb_value_unref(ctx);
	cb_value_unref(parts);
}

static void test_standalone_and_delimiters(void **state)
{
	(void)state;
	/* Standalone section lines vanish, CRLF included; a partial inside an
	 * indented partial is indented by both. */
	assert_render("<ul>\r\n  {{#l}}\r\n  <li>{{.}}</li>\r\n  {{/l}}\r\n</ul>", "l: [1, 2]",
	              NULL, "<ul>\r\n  <li>1</li>\r\n  <li>2</li>\r\n</ul>");
	assert_render("a\n  {{>outer}}\nb\n", "{}", "{outer: \"o1\\n  {{>inner}}\\n\", inner: "
	                                            "\"i1\\ni2\\n\"}",
	              "a\n  o1\n    i1\n    i2\nb\n");
	/* Delimiters apply to the rest of the template, not to partials; triple
	 * braces work with other delimiters. */
	assert_render("{{=<% %>=}}<%a%> {{a}} <%{b}%> <%>p%>", "{a: 1, b: '<'}", "p: '{{a}}'",
	              "1 {{a}} < 1");
	/* Dotted names resolve their first part up the stack only. */
	assert_render("{{#a}}{{b.c}}|{{x.y}}{{/a}}", "{a: {b: {c: 1}}, x: {y: 2}}", NULL, "1|2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_truthiness),
	    cmocka_unit_test(test_error_unclosed_section),
	    cmocka_unit_test(test_error_mismatched_close),
	    cmocka_unit_test(test_error_all_reported),
	    cmocka_unit_test(test_error_in_partial),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_recursion_depth),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_missing_and_replace),
	    cmocka_unit_test(test_loader_error),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_standalone_and_delimiters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
