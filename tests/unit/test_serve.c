/* Unit tests for cb_serve's pieces: request paths, resolving them inside the
 * served folder (symbolic links included), content types, script injection. */
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

#include "cb_fs.h"
#include "cb_mem.h"
#include "cb_serve.h"

/* The site path for raw, or NULL when refused. Caller frees. */
static char *site_path(const char *raw)
{
	char *out = (char *)1;
	int rc = cb_serve_site_path(raw, &out);

	if (rc < 0)
		assert_null(out);
	else
		assert_non_null(out);
	return out;
}

static void accepted(const char *raw, const char *want)
{
	char *got = site_path(raw);

	if (!got)
		fail_msg("refused '%s', wanted '%s'", raw, want);
	assert_string_equal(got, want);
	free(got);
}

static void refused(const char *raw)
{
	char *got = site_path(raw);

	if (got)
		fail_msg("accepted '%s' as '%s'", raw, got);
}

static void test_site_paths(void **state)
{
	char long_path[5000];

	(void)state;
	accepted("/", "");
	accepted("/index.html", "index.html");
	accepted("/cases/", "cases/");
	accepted("/cases", "cases");
	accepted("/cases/alpha-watch.html", "cases/alpha-watch.html");
	accepted("/a%20b.html", "a b.html");
	accepted("/a+b.html", "a+b.html"); /* '+' is not a space in a path */
	accepted("/caf%C3%A9.html", "caf\xc3\xa9.html");
	accepted("/100%25.html", "100%.html");
	accepted("/50%.html", "50%.html");  /* a stray '%' stays */
	accepted("/.well-known/x.txt", ".well-known/x.txt");
	accepted("/a..b.html", "a..b.html"); /* dots inside a name are fine */
	accepted("/...", "...");

	/* Not a path from the root. */
	refused("");
	refused("index.html");
	refused("http://127.0.0.1:8000/index.html");
	refused("*");
	/* Climbing out, plainly or percent-encoded (any case, mixed). */
	refused("/..");
	refused("/../etc/passwd");
	refused("/cases/../../etc/passwd");
	refused("/cases/../index.html");
	refused("/%2e%2e/etc/passwd");
	refused("/%2E%2E/etc/passwd");
	refused("/.%2e/etc/passwd");
	refused("/%2e./etc/passwd");
	refused("/cases/%2e%2e/%2e%2e/etc/passwd");
	refused("/cases/..%2f..%2fetc%2fpasswd");
	refused("/cases/%2e%2e%2f%2e%2e%2fetc%2fpasswd");
	refused("/..%5c..%5cetc%5cpasswd");
	refused("/..\\..\\etc\\passwd");
	/* Absolute paths and empty segments. */
	refused("//etc/passwd");
	refused("/%2fetc/passwd");
	refused("/%2Fetc%2Fpasswd");
	refused("/a//b.html");
	/* "." segments, encoded separators, NUL and control bytes. */
	refused("/./index.html");
	refused("/cases/./a.html");
	refused("/%2e/index.html");
	refused("/a%2fb.html");
	refused("/index.html%00.png");
	refused("/a%0d%0aSet-Cookie:%20x");
	refused("/a\tb");
	refused("/a%7f");
	/* Too long. */
	memset(long_path, 'a', sizeof long_path - 1);
	long_path[0] = '/';
	long_path[sizeof long_path - 1] = '\0';
	refused(long_path);
}

typedef struct fixture {
	char base[64]; /* holds site/ and, beside it, outside/ and site2/ */
	char *root;    /* base/site, a real path */
} fixture;

static void put(const char *dir, const char *rel, const char *text)
{
	char *path = cb_xasprintf("%s/%s", dir, rel);

	assert_int_equal(cb_fs_write(path, text, strlen(text)), 0);
	free(path);
}

static void mkdir_in(const char *dir, const char *rel)
{
	char *path = cb_xasprintf("%s/%s", dir, rel);

	assert_int_equal(cb_fs_mkdirs(path), 0);
	free(path);
}

static void link_in(const char *dir, const char *rel, const char *target)
{
	char *path = cb_xasprintf("%s/%s", dir, rel);

	assert_int_equal(symlink(target, path), 0);
	free(path);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	char real[PATH_MAX], *site;

	strcpy(f->base, "/tmp/cb-serve-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	assert_non_null(realpath(f->base, real));
	site = f->root = cb_xasprintf("%s/site", real);
	mkdir_in(real, "site/cases");
	mkdir_in(real, "site/empty");
	mkdir_in(real, "outside");
	mkdir_in(real, "site2");
	put(site, "index.html", "home");
	put(site, "cases/index.html", "cases");
	put(site, "cases/a.html", "a");
	put(real, "outside/secret.txt", "secret");
	put(real, "site2/secret.txt", "secret");
	/* Links that stay inside, and links that lead out. */
	link_in(site, "inside.html", "cases/a.html");
	link_in(site, "cases/up.html", "../index.html");
	link_in(site, "out.txt", "../outside/secret.txt");
	link_in(site, "abs.txt", "/etc/passwd");
	link_in(site, "outdir", "../outside");
	link_in(site, "sibling", "../site2");
	link_in(site, "loop", "loop");
	link_in(site, "dangling.html", "nothing-here.html");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	cb_fs_remove_tree(f->base);
	free(f->root);
	free(f);
	return 0;
}

static void resolves_to(const fixture *f, const char *path, const char *want_rel)
{
	char *file = NULL, *want;
	cb_serve_kind k = cb_serve_resolve(f->root, path, &file);

	if (k != CB_SERVE_FILE)
		fail_msg("'%s' did not resolve to a file (%d)", path, (int)k);
	want = cb_xasprintf("%s/%s", f->root, want_rel);
	assert_string_equal(file, want);
	free(want);
	free(file);
}

static void not_found(const fixture *f, const char *path)
{
	char *file = (char *)1;
	cb_serve_kind k = cb_serve_resolve(f->root, path, &file);

	if (k != CB_SERVE_NOTFOUND)
		fail_msg("'%s' resolved (%d) but should not", path, (int)k);
	assert_null(file);
}

static void test_resolve(void **state)
{
	const fixture *f = *state;
	char *file = (char *)1;

	resolves_to(f, "", "index.html");
	resolves_to(f, "index.html", "index.html");
	resolves_to(f, "cases/", "cases/index.html");
	resolves_to(f, "cases/a.html", "cases/a.html");
	/* Links inside the folder are followed to their real file. */
	resolves_to(f, "inside.html", "cases/a.html");
	resolves_to(f, "cases/up.html", "index.html");
	/* A folder without its '/' is redirected, so relative links work. */
	assert_int_equal(cb_serve_resolve(f->root, "cases", &file), CB_SERVE_FOLDER);
	assert_null(file);
	assert_int_equal(cb_serve_resolve(f->root, "empty", &file), CB_SERVE_FOLDER);
	/* A folder without index.html, missing files. */
	not_found(f, "empty/");
	not_found(f, "missing.html");
	not_found(f, "cases/missing/");
	not_found(f, "index.html/x");
	/* Links leading out: relative, absolute, through a linked folder, and
	 * into a sibling whose name starts with the root's. */
	not_found(f, "out.txt");
	not_found(f, "abs.txt");
	not_found(f, "outdir/secret.txt");
	not_found(f, "outdir/");
	not_found(f, "outdir");
	not_found(f, "sibling/secret.txt");
	not_found(f, "loop");
	not_found(f, "dangling.html");
}

static void test_mime_types(void **state)
{
	static const struct {
		const char *name, *type;
	} cases[] = {
	    {"index.html", "text/html; charset=utf-8"},
	    {"cases/a.htm", "text/html; charset=utf-8"},
	    {"assets/style.css", "text/css; charset=utf-8"},
	    {"assets/search.js", "text/javascript; charset=utf-8"},
	    {"search.json", "application/json"},
	    {"img/logo.svg", "image/svg+xml"},
	    {"img/map.png", "image/png"},
	    {"img/photo.jpg", "image/jpeg"},
	    {"img/photo.jpeg", "image/jpeg"},
	    {"img/anim.gif", "image/gif"},
	    {"img/pic.webp", "image/webp"},
	    {"files/report.pdf", "application/pdf"},
	    {"feed.xml", "application/xml"},
	    {"robots.txt", "text/plain; charset=utf-8"},
	    {"fonts/body.woff2", "font/woff2"},
	    {"favicon.ico", "image/x-icon"},
	    {"IMG/MAP.PNG", "image/png"}, /* any case */
	    {"Report.Pdf", "application/pdf"},
	    /* Unknown or no extension: a type browsers never run or render. */
	    {"README", "application/octet-stream"},
	    {"data.bin", "application/octet-stream"},
	    {"archive.tar.gz", "application/octet-stream"},
	    {"a.b/readme", "application/octet-stream"},
	    {"trailing.", "application/octet-stream"},
	    {"", "application/octet-stream"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(cb_serve_mime_type(cases[i].name), cases[i].type);
}

static void injected(const char *html, const char *want)
{
	cb_buf b = CB_BUF_INIT;

	cb_serve_inject(&b, html, strlen(html), "<S>");
	assert_string_equal(b.ptr, want);
	cb_buf_dispose(&b);
}

static void test_inject(void **state)
{
	(void)state;
	injected("<html><body><p>x</p></body></html>\n", "<html><body><p>x</p><S></body></html>\n");
	injected("<BODY>x</BODY>", "<BODY>x<S></BODY>");
	/* The last </body>: an earlier one may sit in a code sample. */
	injected("<p>&lt;/body&gt; </body> then </body>", "<p>&lt;/body&gt; </body> then <S></body>");
	injected("<p>no end tag</p>", "<p>no end tag</p><S>");
	injected("", "<S>");
	injected("</body", "<S></body");
	injected("</bod", "</bod<S>");
	injected("<p></bodyguard></p>", "<p></bodyguard></p><S>");
	injected("x</body\n>", "x<S></body\n>");
}

static void test_hosts(void **state)
{
	static const char *const ok[] = {
	    "localhost", "localhost:8000", "LOCALHOST:8000", "localhost.", "handbook.localhost:8000",
	    "127.0.0.1", "127.0.0.1:8000", "127.1.2.3:80", "192.168.1.20:8000", "[::1]:8000",
	    "[::1]", "[fe80::1]:8000",
	};
	static const char *const refused_hosts[] = {
	    "evil.example", "evil.example:8000", "localhost.evil.example:8000",
	    "127.0.0.1.evil.example", "notlocalhost", "xlocalhost:8000", "[::1", "[::1]x",
	    "[nonsense]:8000", ":8000", "0x7f.1:8000x",
	};
	size_t i;

	(void)state;
	assert_true(cb_serve_host_allowed(NULL)); /* HTTP/1.0: no Host at all */
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!cb_serve_host_allowed(ok[i]))
			fail_msg("refused Host '%s'", ok[i]);
	for (i = 0; i < sizeof refused_hosts / sizeof refused_hosts[0]; i++)
		if (cb_serve_host_allowed(refused_hosts[i]))
			fail_msg("allowed Host '%s'", refused_hosts[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_site_paths),
	    cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
	    cmocka_unit_test(test_mime_types),
	    cmocka_unit_test(test_inject),
	    cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
