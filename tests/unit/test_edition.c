/*
 * Tests for editions and history: whole builds (cb_build_run) of throw-away
 * repositories made with libgit2, checked through the pages they produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cb_build.h"
#include "cb_cache.h"
#include "cb_config.h"
#include "cb_git.h"
#include "cb_load.h"
#include "cb_md.h"
#include "cb_render.h"
#include "cb_site.h"
#include "git_fixture.h"

static char share_dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	cb_git_init();
	cb_md_init();
	/* The installed defaults: this source tree's themes. */
	if (!realpath(".", share_dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cb_git_shutdown();
	return 0;
}

/* A case file with the required fields, three sections and its lessons. */
static char *case_md(const char *title, int year, const char *context, const char *outcomes)
{
	return cb_xasprintf("---\ntitle: \"%s\"\ncountry: Netherlands\nyear: %d\nsector: health\n"
	                    "sources: [\"Author, A. (2020). A book.\"]\n---\n\n"
	                    "## Context\n\n%s\n\n## What happened\n\nThings happened in %s.\n\n"
	                    "## Outcomes\n\n%s\n\n## Lessons for practice\n\n- Ask early.\n",
	                    title, year, context, title, outcomes);
}

static void write_case(fx_repo *fx, const char *slug, const char *title, int year,
                       const char *context, const char *outcomes)
{
	char *path = cb_xasprintf("content/cases/%s.md", slug);
	char *text = case_md(title, year, context, outcomes);

	fx_write(fx, path, text);
	free(text);
	free(path);
}

typedef struct built {
	char out[PATH_MAX];
	cb_diag_list *diags;
	cb_build_result res;
	int rc;
} built;

static void build_opts(built *b, const char *src, int latest_only, int no_cache, int exiting)
{
	cb_build_opts o = CB_BUILD_OPTS_INIT;
	char base[] = "/tmp/cb-out-XXXXXX";

	assert_non_null(mkdtemp(base));
	snprintf(b->out, sizeof b->out, "%s/site", base);
	b->diags = cb_diag_list_new();
	o.source_dir = src;
	o.out_dir = b->out;
	o.share_dir = share_dir;
	o.threads = 2;
	o.latest_only = latest_only;
	o.no_cache = no_cache;
	o.exiting = exiting;
	b->rc = cb_build_run(&o, b->diags, &b->res);
}

static void build_with(built *b, const char *src, int latest_only)
{
	build_opts(b, src, latest_only, 0, 0);
}

static void build_into(built *b, const char *src)
{
	build_with(b, src, 0);
}

static void built_free(built *b)
{
	char *base = cb_xstrdup(b->out);

	*strrchr(base, '/') = '\0';
	cb_fs_remove_tree(base);
	free(base);
	cb_diag_list_free(b->diags);
}

/* All diagnostics as text lines. */
static char *diag_text(cb_diag_list *d)
{
	cb_buf b = CB_BUF_INIT;
	size_t i;

	for (i = 0; i < cb_diag_count(d); i++) {
		cb_diag_format_text(cb_diag_at(d, i), &b);
		cb_buf_putc(&b, '\n');
	}
	return cb_buf_detach(&b);
}

/* The errors and warnings as text lines (notes tell times and memory). */
static char *problems_text(cb_diag_list *d)
{
	cb_buf b = CB_BUF_INIT;
	size_t i;

	for (i = 0; i < cb_diag_count(d); i++) {
		if (cb_diag_at(d, i)->severity == CB_NOTE)
			continue;
		cb_diag_format_text(cb_diag_at(d, i), &b);
		cb_buf_putc(&b, '\n');
	}
	return cb_buf_detach(&b);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle)) {
		/* cmocka cuts long messages: the text goes to a file. */
		const char *dump = "/tmp/cb-test-edition-failed.txt";
		cb_fs_write(dump, hay ? hay : "", hay ? strlen(hay) : 0);
		fail_msg("expected to find '%s' in the text saved to %s", needle, dump);
	}
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		fail_msg("did not expect '%s' in:\n%s", needle, hay);
}

static void assert_page(const built *b, const char *path, const char *needle)
{
	char *s = fx_read(b->out, path);

	if (!s)
		fail_msg("missing page %s", path);
	assert_contains(s, needle);
	free(s);
}

static void assert_page_lacks(const built *b, const char *path, const char *needle)
{
	char *s = fx_read(b->out, path);

	if (!s)
		fail_msg("missing page %s", path);
	assert_lacks(s, needle);
	free(s);
}

static int exists(const built *b, const char *path)
{
	char *full = cb_xasprintf("%s/%s", b->out, path);
	struct stat st;
	int ok = stat(full, &st) == 0;

	free(full);
	return ok;
}

static void assert_no_errors(const built *b)
{
	if (b->rc != 0 || cb_diag_errors(b->diags)) {
		char *t = diag_text(b->diags);
		fail_msg("build failed (%d):\n%s", b->rc, t);
	}
}

/* ---- the main scenario ------------------------------------------------------
 *
 *   c1 2024-01-10 Ann   add a, b, c                      tag edition-2024 (annotated)
 *   c2 2024-03-05 Bob   a: year and Outcomes; b -> bee;   listed as "spring"
 *                       drop c; add d
 *   side 2024-04-01 Cat d: more (on a branch from c2)
 *   c3 2024-04-02 Ann   a: Context
 *   merge 2024-04-03    c3 + side                        tag edition-2025
 *   working tree        add e (not committed)
 */
static const char *const long_context =
    "Long enough a context that a rename with a small edit still counts as a rename: "
    "residents, nurses and the council met every month for two years to plan the service.";

/* Delta: unlike Gamma line by line (libgit2 measures similarity by lines),
 * so that adding Delta while dropping Gamma is no rename. */
static void write_delta(fx_repo *fx, const char *outcomes)
{
	char *text = cb_xasprintf(
	    "---\ntitle: \"Delta\"\ncountry: [Belgium, France]\ncity: Lille\nyear: 2013\n"
	    "sector: [education, health]\nphases: [co-design]\ntags: [budget, district]\n"
	    "sources:\n  - \"Writer, W. (2019). District budgets. A Journal, 3(1), 1-9.\"\n---\n\n"
	    "Delta is a district budget.\n\n## Background\n\nResidents proposed projects.\n"
	    "They argued over them in open evening meetings.\nThen they voted.\n\n"
	    "## Results\n\n%s\nThe city funded the winners.\nIt reported back every quarter.\n\n"
	    "## Lessons for practice\n\n- Report back often.\n",
	    outcomes);
	fx_write(fx, "content/cases/d.md", text);
	free(text);
}

static void make_history(fx_repo *fx, git_oid *c2_out)
{
	git_oid c1, c2, side, c3, merge, parents[2];
	char *yml, *hex;

	fx_init(fx);
	fx_write(fx, ".mailmap", "Robert Builder <bob@example.org> Bob <bob@example.org>\n");
	fx_write(fx, "casebook.yml", "title: \"Test handbook\"\nplugins: []\n");
	fx_write(fx, "content/pages/index.md", "Welcome.\n");
	write_case(fx, "a", "Alpha", 2010, "Alpha context.", "Alpha outcomes.");
	write_case(fx, "b", "Beta", 2011, long_context, "Beta outcomes.");
	write_case(fx, "c", "Gamma", 2012, "Gamma context.", "Gamma outcomes.");
	c1 = fx_commit(fx, "Add the first cases", "Ann", "ann@example.org", FX_DAY(2024, 1, 10));
	fx_tag(fx, "edition-2024", &c1, "First edition", FX_DAY(2024, 2, 1));

	write_case(fx, "a", "Alpha", 2009, "Alpha context.", "Alpha outcomes, measured.");
	fx_remove(fx, "content/cases/b.md");
	write_case(fx, "bee", "Beta", 2011, long_context, "Beta outcomes, again.");
	fx_remove(fx, "content/cases/c.md");
	write_delta(fx, "Delta outcomes.");
	c2 = fx_commit(fx, "Spring update", "Bob", "bob@example.org", FX_DAY(2024, 3, 5));

	write_delta(fx, "Delta outcomes, longer.");
	side = fx_commit_with(fx, "Expand Delta", "Cat", "cat@example.org", FX_DAY(2024, 4, 1), &c2, 1,
	                      0);
	write_delta(fx, "Delta outcomes.");
	write_case(fx, "a", "Alpha", 2009, "Alpha context, revised.", "Alpha outcomes, measured.");
	c3 = fx_commit(fx, "Revise Alpha", "Ann", "ann@example.org", FX_DAY(2024, 4, 2));
	write_delta(fx, "Delta outcomes, longer.");
	parents[0] = c3;
	parents[1] = side;
	merge = fx_commit_with(fx, "Merge Delta", "Ann", "ann@example.org", FX_DAY(2024, 4, 3), parents,
	                       2, 1);
	fx_tag(fx, "edition-2025", &merge, NULL, 0);

	/* The working tree: one more case, and the spring edition listed. */
	write_case(fx, "e", "Epsilon", 2014, "Epsilon context.", "Epsilon outcomes.");
	hex = fx_hex(&c2);
	yml = cb_xasprintf("title: \"Test handbook\"\nplugins: []\neditions:\n  list:\n"
	                   "    - { name: spring, ref: \"%.10s\", date: 2024-03-06, note: \"Spring "
	                   "update\" }\n",
	                   hex);
	fx_write(fx, "casebook.yml", yml);
	free(yml);
	free(hex);
	if (c2_out)
		*c2_out = c2;
}

static void test_editions_and_history(void **state)
{
	fx_repo fx;
	built b;
	char *t;

	(void)state;
	make_history(&fx, NULL);
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	assert_int_equal(b.res.editions, 3);
	assert_int_equal(b.res.cases, 4); /* the working tree's: a, bee, d, e */

	/* Each edition is a complete site of its own. */
	assert_page(&b, "editions/2024/index.html", "Test handbook");
	assert_page(&b, "editions/2024/cases/c.html", "Gamma");
	assert_page(&b, "editions/2024/cases/b.html", "Beta");
	assert_true(exists(&b, "editions/2024/assets/style.css"));
	assert_false(exists(&b, "editions/spring/cases/c.html"));
	assert_false(exists(&b, "editions/spring/cases/b.html"));
	assert_page(&b, "editions/spring/cases/bee.html", "Beta outcomes, again.");
	assert_page(&b, "editions/2025/cases/d.html", "Delta outcomes, longer.");
	assert_false(exists(&b, "editions/2025/cases/e.html"));
	assert_page(&b, "cases/e.html", "Epsilon");

	/* History: dates, authors (through .mailmap), renames followed. */
	assert_page(&b, "editions/2024/cases/a.html", "Last updated <time datetime=\"2024-01-10\">");
	assert_page(&b, "editions/2025/cases/a.html", "Last updated <time datetime=\"2024-04-02\">");
	assert_page(&b, "editions/2025/cases/a.html",
	            "Last updated 2024-04-02; added 2024-01-10; by Ann and Robert Builder.");
	assert_page(&b, "editions/2025/cases/a.html", "Revise Alpha");
	assert_page(&b, "editions/spring/cases/a.html", "Last updated 2024-03-05");
	assert_page_lacks(&b, "editions/spring/cases/a.html", "Revise Alpha");
	assert_page(&b, "editions/spring/cases/bee.html", "added 2024-01-10; by Ann and Robert Builder");
	assert_page(&b, "editions/spring/cases/bee.html", "Add the first cases");
	/* The merge brought the branch's change, not one of its own. */
	assert_page(&b, "cases/d.html", "Expand Delta");
	assert_page(&b, "cases/d.html", "by Robert Builder and Cat.");
	assert_page_lacks(&b, "cases/d.html", "Merge Delta");
	/* Not committed yet: no history. */
	assert_page_lacks(&b, "cases/e.html", "id=\"history\"");

	/* The editions index, in date order, newest first, with notes. */
	t = fx_read(b.out, "editions/index.html");
	assert_non_null(t);
	assert_contains(t, "Latest version");
	assert_contains(t, "href=\"../editions/2025/index.html\"");
	assert_contains(t, "Spring update");
	assert_contains(t, "First edition");
	assert_true(strstr(t, "Edition 2025") < strstr(t, "Edition spring"));
	assert_true(strstr(t, "Edition spring") < strstr(t, "Edition 2024"));
	free(t);

	/* The switcher: the same page elsewhere, else that edition's home;
	 * relative links only. */
	t = fx_read(b.out, "editions/2024/cases/c.html");
	assert_non_null(t);
	assert_contains(t, "Edition 2024 (2024-02-01)");
	assert_contains(t, "<a href=\"../cases/c.html\" aria-current=\"page\">2024</a>");
	assert_contains(t, "<a href=\"../../spring/index.html\" title=\"Not in this edition");
	assert_contains(t, "<a href=\"../../../index.html\" title=\"Not in this edition");
	assert_contains(t, "href=\"../../index.html\">All editions</a>");
	assert_lacks(t, "\x01");
	free(t);
	t = fx_read(b.out, "cases/a.html");
	assert_contains(t, "Latest version");
	assert_contains(t, "<a href=\"../editions/2024/cases/a.html\">2024</a>");
	assert_contains(t, "<a href=\"../cases/a.html\" aria-current=\"page\">Latest</a>");
	assert_contains(t, "href=\"../editions/index.html\">All editions</a>");
	free(t);
	assert_page(&b, "index.html", "<a href=\"editions/spring/index.html\">spring</a>");
	/* A renamed case is the same page under its name in each edition. */
	t = fx_read(b.out, "editions/2024/cases/b.html");
	assert_contains(t, "<a href=\"../../spring/cases/bee.html\">spring</a>");
	assert_contains(t, "<a href=\"../../../cases/bee.html\">Latest</a>");
	free(t);
	t = fx_read(b.out, "cases/bee.html");
	assert_contains(t, "<a href=\"../editions/2024/cases/b.html\">2024</a>");
	assert_contains(t, "<a href=\"../editions/spring/cases/bee.html\">spring</a>");
	free(t);
	/* Pages streamed piece by piece (the print edition) get it too. */
	t = fx_read(b.out, "editions/spring/print.html");
	assert_non_null(t);
	assert_contains(t, "<a href=\"../2024/print.html\">2024</a>");
	assert_contains(t, "<a href=\"print.html\" aria-current=\"page\">spring</a>");
	assert_lacks(t, "\x01");
	free(t);

	/* What changed, per edition. */
	t = fx_read(b.out, "editions/spring/changes.html");
	assert_non_null(t);
	assert_contains(t, "Changes in edition spring");
	assert_contains(t, "Compared with edition <a href=\"../2024/index.html\">2024</a>");
	assert_contains(t, "<a href=\"cases/d.html\">Delta</a>");
	assert_contains(t, "<a href=\"../2024/cases/c.html\">Gamma</a>");
	/* b was renamed bee: one changed case, not one removed and one added. */
	assert_contains(t, "<a href=\"cases/bee.html\">Beta</a> <span class=\"note\">(renamed from "
	                   "<a href=\"../2024/cases/b.html\">b</a>)</span>");
	assert_contains(t, "1 added, 2 changed, 1 removed");
	assert_lacks(t, "<a href=\"../2024/cases/b.html\">Beta</a> <span class=\"note\">(as it was");
	assert_contains(t, "<span class=\"field change-changed\">year (changed)</span>");
	assert_contains(t, "<a href=\"cases/a.html#outcomes\">Outcomes</a> (changed)");
	assert_lacks(t, "Context</a> (changed)");
	free(t);
	assert_page(&b, "editions/2024/changes.html", "This is the first edition, with 3 cases.");
	t = fx_read(b.out, "editions/2025/changes.html");
	assert_contains(t, "<a href=\"cases/a.html#context\">Context</a> (changed)");
	assert_contains(t, "<a href=\"cases/d.html\">Delta</a>");
	assert_lacks(t, "Beta");
	free(t);
	t = fx_read(b.out, "changes.html");
	assert_contains(t, "Changes since edition 2025");
	assert_contains(t, "<a href=\"cases/e.html\">Epsilon</a>");
	assert_contains(t, "1 added, 0 changed, 0 removed");
	free(t);

	t = diag_text(b.diags);
	assert_lacks(t, "warning");
	free(t);
	built_free(&b);
	fx_free(&fx);
}

/* A preview (casebook serve) builds the latest alone, with its history. */
static void test_latest_only(void **state)
{
	fx_repo fx;
	built b;

	(void)state;
	make_history(&fx, NULL);
	build_with(&b, fx.dir, 1);
	assert_no_errors(&b);
	assert_int_equal(b.res.editions, 0);
	assert_false(exists(&b, "editions"));
	assert_false(exists(&b, "changes.html"));
	assert_page(&b, "cases/a.html", "Last updated 2024-04-02; added 2024-01-10");
	assert_page_lacks(&b, "cases/a.html", "edition-switcher");
	built_free(&b);
	fx_free(&fx);
}

/* A case unchanged between editions is parsed once and its page rendered
 * once, when its neighbours and history are unchanged too. */
static void test_sharing(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1, c2;
	const char *slugs[5] = {"a", "b", "c", "d", "e"};
	size_t i;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: \"Shared\"\nplugins: []\n");
	for (i = 0; i < 5; i++) {
		char title[16];
		snprintf(title, sizeof title, "Case %s", slugs[i]);
		write_case(&fx, slugs[i], title, 2000 + (int)i, "Context.", "Outcomes.");
	}
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_tag(&fx, "edition-one", &c1, NULL, 0);
	write_case(&fx, "c", "Case c", 2002, "Context, changed.", "Outcomes.");
	c2 = fx_commit(&fx, "Two", "Ann", "ann@example.org", FX_DAY(2024, 2, 1));
	fx_tag(&fx, "edition-two", &c2, NULL, 0);

	build_into(&b, fx.dir);
	assert_no_errors(&b);
	assert_int_equal(b.res.editions, 2);
	/* Parsed: five cases, then c again; every other document is shared. */
	assert_int_equal(b.res.docs_parsed, 6);
	assert_int_equal(b.res.docs_shared, 9);
	/* Rendered: edition one's five; in two, b, c and d (c changed, b and d
	 * are its neighbours); the latest (HEAD, as two) shares all five. */
	assert_int_equal(b.res.pages_rendered, 8);
	assert_int_equal(b.res.pages_shared, 7);
	/* Shared pages still carry their own edition's switcher. */
	assert_page(&b, "editions/two/cases/a.html", "aria-current=\"page\">two</a>");
	assert_page(&b, "editions/one/cases/a.html", "aria-current=\"page\">one</a>");
	assert_page(&b, "cases/a.html", "aria-current=\"page\">Latest</a>");
	assert_page(&b, "editions/two/cases/c.html", "Context, changed.");
	assert_page(&b, "editions/one/cases/c.html", "<p>Context.</p>");
	/* The print edition: each case's part is rendered once too (one
	 * changed case), and each edition's file holds its own versions. */
	assert_int_equal(b.res.pieces_rendered, 6);
	assert_int_equal(b.res.pieces_shared, 9);
	/* So is each case's part of the search index, of data/cases.json and
	 * of data/cases.csv. */
	assert_int_equal(b.res.blobs_made, 3 * 6);
	assert_int_equal(b.res.blobs_shared, 3 * 9);
	assert_page(&b, "editions/two/print.html", "Context, changed.");
	assert_page_lacks(&b, "editions/one/print.html", "Context, changed.");
	assert_page(&b, "print.html", "Context, changed.");
	assert_page(&b, "editions/one/print.html", "Case e");
	assert_page(&b, "editions/two/print.html", "aria-current=\"page\">two</a>");
	/* The search index of every edition holds the text of its cases, read
	 * from the parses they share: the text is let go only after the last
	 * site written (the latest) has written its index. */
	assert_page(&b, "editions/one/assets/search-index.js", "Context\\nContext.\\nWhat happened");
	assert_page_lacks(&b, "editions/one/assets/search-index.js", "Context, changed.");
	assert_page(&b, "editions/two/assets/search-index.js", "Context, changed.");
	assert_page(&b, "editions/two/assets/search-index.js", "Context\\nContext.\\nWhat happened");
	assert_page(&b, "assets/search-index.js", "Context, changed.");
	assert_page(&b, "assets/search-index.js", "Context\\nContext.\\nWhat happened");
	built_free(&b);
	fx_free(&fx);
}

/* The working tree was built alone (no history, no editions), with one
 * warning saying why. */
static void assert_built_alone(built *b, const char *why)
{
	char *t;

	assert_no_errors(b);
	assert_int_equal(b->res.editions, 0);
	assert_int_equal(cb_diag_warnings(b->diags), 1);
	t = diag_text(b->diags);
	assert_contains(t, why);
	free(t);
	assert_page(b, "cases/a.html", "Alpha");
	assert_page_lacks(b, "cases/a.html", "id=\"history\"");
}

static void test_no_repository(void **state)
{
	char dir[] = "/tmp/cb-plain-XXXXXX";
	built b;
	char *t, *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = cb_xasprintf("%s/casebook.yml", dir);
	assert_int_equal(cb_fs_write(path, "title: T\nplugins: []\n", 21), 0);
	free(path);
	path = cb_xasprintf("%s/content/cases", dir);
	assert_int_equal(cb_fs_mkdirs(path), 0);
	free(path);
	path = cb_xasprintf("%s/content/cases/a.md", dir);
	t = case_md("Alpha", 2010, "Context.", "Outcomes.");
	assert_int_equal(cb_fs_write(path, t, strlen(t)), 0);
	free(t);
	free(path);

	build_into(&b, dir);
	assert_built_alone(&b, "warning: the source is not in a git repository: building the "
	                       "working tree alone, without history or editions");
	assert_page_lacks(&b, "cases/a.html", "edition-switcher");
	assert_false(exists(&b, "editions"));
	assert_false(exists(&b, "changes.html"));
	built_free(&b);
	cb_fs_remove_tree(dir);
}

/* A repository of another user that git's safe.directory does not name is
 * not read (git's rule), and the build says why instead of "no repository".
 * Making one needs chown: only as root. */
static void test_other_owner(void **state)
{
	char home[] = "/tmp/cb-home-XXXXXX", *git_dir;
	fx_repo fx;
	built b;

	(void)state;
	if (geteuid() != 0)
		skip();
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\n");
	write_case(&fx, "a", "Alpha", 2010, "Context.", "Outcomes.");
	fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	/* No global git configuration (so no safe.directory) while it runs. */
	assert_non_null(mkdtemp(home));
	FX_GIT(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, home));
	git_dir = cb_xasprintf("%s/.git", fx.dir);
	assert_int_equal(chown(fx.dir, 4321, 4321), 0);
	assert_int_equal(chown(git_dir, 4321, 4321), 0);
	build_into(&b, fx.dir);
	FX_GIT(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, NULL));
	assert_built_alone(&b, "belongs to another user, and git's safe.directory setting does not "
	                       "name it: building the working tree alone, without history or editions");
	built_free(&b);
	free(git_dir);
	cb_fs_remove_tree(home);
	fx_free(&fx);
}

static void test_bad_ref(void **state)
{
	fx_repo fx;
	built b;
	char *t;

	(void)state;
	fx_init(&fx);
	write_case(&fx, "a", "Alpha", 2010, "Context.", "Outcomes.");
	fx_write(&fx, "casebook.yml", "title: T\n");
	fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_write(&fx, "casebook.yml",
	         "title: T\neditions:\n  tags: \"release-*\"\n  list:\n    - name: first\n"
	         "      ref: no-such-tag\n    - { name: \"../up\", ref: HEAD }\n"
	         "    - { name: x, ref: HEAD, colour: red }\n  latest: tip\n");
	build_into(&b, fx.dir);
	assert_int_equal(b.rc, -1);
	t = diag_text(b.diags);
	assert_contains(t, "casebook.yml:6:12: error: edition 'first': 'no-such-tag' does not name "
	                   "a commit");
	assert_contains(t, "casebook.yml:7:15: error: edition name '../up' cannot be a folder name");
	assert_contains(t, "casebook.yml:8:29: warning: unknown key 'colour' in an edition");
	assert_contains(t, "casebook.yml:9:11: error: editions.latest must be worktree or HEAD");
	free(t);
	assert_false(exists(&b, "index.html")); /* nothing written */
	built_free(&b);
	fx_free(&fx);
}

/* A tag glob matching nothing is fine: one site, with history. */
static void test_no_matching_tags(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\neditions:\n  tags: \"release-*\"\n");
	write_case(&fx, "a", "Alpha", 2010, "Context.", "Outcomes.");
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_tag(&fx, "edition-1", &c1, NULL, 0); /* not matched by the glob */
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	assert_int_equal(cb_diag_warnings(b.diags), 0);
	assert_int_equal(b.res.editions, 0);
	assert_page(&b, "cases/a.html", "Last updated 2024-01-01; added 2024-01-01; by Ann.");
	assert_page_lacks(&b, "cases/a.html", "edition-switcher");
	assert_false(exists(&b, "editions"));
	built_free(&b);
	fx_free(&fx);
}

/* latest: HEAD builds the top of the site from the last commit, not from
 * the files as they are. */
static void test_latest_head(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\neditions:\n  latest: HEAD\n");
	write_case(&fx, "a", "Alpha", 2010, "Committed context.", "Outcomes.");
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_tag(&fx, "edition-1", &c1, NULL, 0);
	write_case(&fx, "a", "Alpha", 2010, "Uncommitted context.", "Outcomes.");
	write_case(&fx, "b", "Beta", 2010, "Uncommitted case.", "Outcomes.");
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	assert_page(&b, "cases/a.html", "Committed context.");
	assert_false(exists(&b, "cases/b.html"));
	assert_page(&b, "editions/1/cases/a.html", "Committed context.");
	assert_page(&b, "changes.html", "No case has changed.");
	built_free(&b);
	fx_free(&fx);
}

/* check reads the files as they are: not the oldest edition's (it once
 * checked edition 1 in place of the working tree, and passed whatever a
 * contributor had written), nor HEAD's with `latest: HEAD`. */
static void test_check_reads_worktree(void **state)
{
	const char *configs[] = {"title: T\n", "title: T\neditions:\n  latest: HEAD\n"};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		cb_build_opts o = CB_BUILD_OPTS_INIT;
		cb_diag_list *d = cb_diag_list_new();
		cb_build_result res;
		fx_repo fx;
		git_oid c1;
		char *text;

		fx_init(&fx);
		fx_write(&fx, "casebook.yml", configs[i]);
		write_case(&fx, "a", "Alpha", 2010, "Committed context.", "Outcomes.");
		c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
		fx_tag(&fx, "edition-1", &c1, NULL, 0);
		fx_write(&fx, "content/cases/a.md", "---\ntitle: Alpha\nyear: \"abc\"\n---\n");
		o.source_dir = fx.dir;
		o.share_dir = share_dir;
		o.threads = 2;
		o.check_only = 1;
		assert_int_equal(cb_build_run(&o, d, &res), -1);
		text = problems_text(d);
		assert_contains(text, "content/cases/a.md:3:7: error: year must be a whole year");
		assert_contains(text, "missing required field 'country'");
		free(text);
		cb_build_leftovers_free(res.leftovers);
		cb_diag_list_free(d);
		fx_free(&fx);
	}
}

/* A build or check stopped by a signal (opts.stop set) says so, counts
 * as neither a pass nor a content error, and leaves the last site as it
 * was. */
static void test_stopped(void **state)
{
	volatile sig_atomic_t stop = 1;
	cb_build_opts o = CB_BUILD_OPTS_INIT;
	cb_build_result res;
	cb_diag_list *d;
	fx_repo fx;
	built b;
	char *before, *after, *text;
	int check;

	(void)state;
	make_history(&fx, NULL);
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	before = fx_read(b.out, "cases/a.html");
	write_case(&fx, "a", "Alpha", 2010, "Changed context.", "Outcomes.");
	for (check = 0; check < 2; check++) {
		d = cb_diag_list_new();
		o.source_dir = fx.dir;
		o.out_dir = b.out;
		o.share_dir = share_dir;
		o.threads = 2;
		o.check_only = check;
		o.stop = &stop;
		assert_int_equal(cb_build_run(&o, d, &res), -1);
		assert_true(res.interrupted);
		assert_false(res.env_error);
		text = problems_text(d);
		assert_contains(text, "error: interrupted by a signal");
		free(text);
		cb_build_leftovers_free(res.leftovers);
		cb_diag_list_free(d);
	}
	after = fx_read(b.out, "cases/a.html");
	assert_non_null(before);
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);
	built_free(&b);
	fx_free(&fx);
}

static void test_shallow(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1, c2;
	char *t;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\n");
	write_case(&fx, "a", "Alpha", 2010, "One.", "Outcomes.");
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	write_case(&fx, "a", "Alpha", 2010, "Two.", "Outcomes.");
	c2 = fx_commit(&fx, "Two", "Ann", "ann@example.org", FX_DAY(2024, 2, 1));
	write_case(&fx, "a", "Alpha", 2010, "Three.", "Outcomes.");
	fx_commit(&fx, "Three", "Bob", "bob@example.org", FX_DAY(2024, 3, 1));
	fx_make_shallow(&fx, &c2, &c1);
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	assert_int_equal(cb_diag_warnings(b.diags), 1);
	t = diag_text(b.diags);
	assert_contains(t, "warning: the repository is a shallow clone");
	free(t);
	/* History as far as it goes: the edge commit's changes are unknown. */
	assert_page(&b, "cases/a.html", "Last updated 2024-03-01; by Bob.");
	assert_page_lacks(&b, "cases/a.html", "added");
	built_free(&b);
	fx_free(&fx);
}

/* A listed edition whose commit is beyond a shallow clone's cut (a CI
 * checkout) is left out with a warning; the others are built. */
static void test_shallow_listed_edition(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1, c2;
	char hex1[GIT_OID_HEXSZ + 1], hex2[GIT_OID_HEXSZ + 1], *yml, *t;

	(void)state;
	fx_init(&fx);
	write_case(&fx, "a", "Alpha", 2010, "One.", "Outcomes.");
	fx_write(&fx, "casebook.yml", "title: T\n");
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	write_case(&fx, "a", "Alpha", 2010, "Two.", "Outcomes.");
	c2 = fx_commit(&fx, "Two", "Ann", "ann@example.org", FX_DAY(2024, 2, 1));
	git_oid_tostr(hex1, 13, &c1);
	git_oid_tostr(hex2, 13, &c2);
	yml = cb_xasprintf("title: T\neditions:\n  list:\n    - { name: old, ref: %s }\n"
	                   "    - { name: new, ref: %s }\n", hex1, hex2);
	fx_write(&fx, "casebook.yml", yml);
	free(yml);
	fx_commit(&fx, "Three", "Bob", "bob@example.org", FX_DAY(2024, 3, 1));
	fx_make_shallow(&fx, &c2, &c1);
	build_into(&b, fx.dir);
	assert_no_errors(&b);
	t = diag_text(b.diags);
	yml = cb_xasprintf("casebook.yml:4:25: warning: edition 'old': '%s' is not in this shallow "
	                   "clone; the edition is left out", hex1);
	assert_contains(t, yml);
	free(yml);
	free(t);
	assert_int_equal(b.res.editions, 1);
	assert_page(&b, "editions/new/cases/a.html", "Two.");
	assert_false(exists(&b, "editions/old"));
	built_free(&b);
	fx_free(&fx);
}

/* The handbook in a sub-folder of the repository; an edition with errors
 * reports them with the edition's ref, as git names files at a commit. */
/* Commits, in folder `under` of repository fx ("" or "hb/"), a handbook
 * whose case lacks its required fields, tagged edition-old, then the case
 * fixed. */
static void make_broken_edition(fx_repo *fx, const char *under)
{
	char *yml = cb_xasprintf("%scasebook.yml", under);
	char *path = cb_xasprintf("%scontent/cases/a.md", under);
	char *text = case_md("Alpha", 2010, "Fixed.", "Outcomes.");
	git_oid c1;

	fx_write(fx, yml, "title: T\n");
	fx_write(fx, path, "---\ntitle: Alpha\n---\nNo country, year...\n");
	c1 = fx_commit(fx, "Broken", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_tag(fx, "edition-old", &c1, NULL, 0);
	fx_write(fx, path, text);
	fx_commit(fx, "Fix", "Ann", "ann@example.org", FX_DAY(2024, 2, 1));
	free(text);
	free(path);
	free(yml);
}

static void test_subfolder_and_edition_errors(void **state)
{
	fx_repo fx;
	built b;
	char *dir, *t;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "README", "A repository with a handbook in hb/.\n");
	make_broken_edition(&fx, "hb/");
	dir = cb_xasprintf("%s/hb", fx.dir);
	build_into(&b, dir);
	assert_int_equal(b.rc, -1);
	t = diag_text(b.diags);
	assert_contains(t, "edition-old:content/cases/a.md:");
	assert_contains(t, "error:");
	assert_lacks(t, "\ncontent/cases/a.md:");
	free(t);
	built_free(&b);

	/* Without the broken edition, the history is the sub-folder's. */
	fx_write(&fx, "hb/casebook.yml", "title: T\neditions:\n  tags: false\n");
	build_into(&b, dir);
	assert_no_errors(&b);
	assert_page(&b, "cases/a.html", "Last updated 2024-02-01; added 2024-01-01; by Ann.");
	built_free(&b);
	free(dir);
	fx_free(&fx);
}

/* A page's bytes without its edition switcher. */
static char *without_switcher(const char *html)
{
	const char *a = strstr(html, "<nav class=\"edition-switcher\"");
	const char *z = a ? strstr(a, "</nav>") : NULL;

	if (!a || !z)
		return cb_xstrdup(html);
	return cb_xasprintf("%.*s%s", (int)(a - html), html, z + 6);
}

/* Compare every file under dir a and dir b (relative folder rel), switchers
 * aside; changes.html may differ. Returns the number of files compared. */
static size_t compare_trees(const char *a, const char *b, const char *rel)
{
	char *da = cb_xasprintf("%s/%s", a, rel), *db = cb_xasprintf("%s/%s", b, rel);
	cb_fs_entry *ea = NULL, *eb = NULL;
	size_t na = 0, nb = 0, i, count = 0;

	assert_int_equal(cb_fs_list(da, &ea, &na), 0);
	assert_int_equal(cb_fs_list(db, &eb, &nb), 0);
	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		char *sub = *rel ? cb_xasprintf("%s/%s", rel, ea[i].name) : cb_xstrdup(ea[i].name);
		assert_string_equal(ea[i].name, eb[i].name);
		if (ea[i].kind == CB_FS_DIR) {
			count += compare_trees(a, b, sub);
		} else if (strcmp(sub, "changes.html") != 0) {
			char *x = fx_read(a, sub), *y = fx_read(b, sub);
			char *sx = without_switcher(x), *sy = without_switcher(y);
			if (strcmp(sx, sy) != 0)
				fail_msg("%s differs between %s and %s", sub, a, b);
			free(x);
			free(y);
			free(sx);
			free(sy);
			count++;
		}
		free(sub);
	}
	cb_fs_list_free(ea, na);
	cb_fs_list_free(eb, nb);
	free(da);
	free(db);
	return count;
}

/* What sharing produces is what rendering produces: an edition built with
 * others (most of its pages and print pieces copied from them) is, file by
 * file and switcher aside, the edition built first and alone. */
static void test_shared_equals_fresh(void **state)
{
	fx_repo fx;
	built all, alone;
	char *a, *b;

	(void)state;
	make_history(&fx, NULL);
	build_into(&all, fx.dir);
	assert_no_errors(&all);
	if (!(all.res.pages_shared > 0 && all.res.pieces_shared > 0))
		fail_msg("pages %zu/%zu pieces %zu/%zu", all.res.pages_rendered, all.res.pages_shared,
		         all.res.pieces_rendered, all.res.pieces_shared);
	fx_write(&fx, "casebook.yml", "title: \"Test handbook\"\nplugins: []\neditions:\n"
	                              "  tags: \"edition-2025\"\n");
	build_into(&alone, fx.dir);
	assert_no_errors(&alone);
	a = cb_xasprintf("%s/editions/2025", all.out);
	b = cb_xasprintf("%s/editions/edition-2025", alone.out);
	assert_true(compare_trees(a, b, "") > 10);
	free(a);
	free(b);
	built_free(&all);
	built_free(&alone);
	fx_free(&fx);
}

/*
 * A build for a command that exits next (opts.exiting) hands its data back
 * instead of freeing it: it writes and reports the same as any build, every
 * edition's diagnostics included, and what it left still frees once the
 * diagnostics list and the site folder are gone.
 */
static void test_exiting(void **state)
{
	fx_repo fx;
	built freed, kept;
	char *t1, *t2;

	(void)state;
	make_history(&fx, NULL);
	build_opts(&freed, fx.dir, 0, 1, 0);
	assert_no_errors(&freed);
	assert_null(freed.res.leftovers);
	build_opts(&kept, fx.dir, 0, 1, 1);
	assert_no_errors(&kept);
	assert_non_null(kept.res.leftovers);
	assert_int_equal(kept.res.pages, freed.res.pages);
	assert_true(compare_trees(freed.out, kept.out, "") > 10);
	built_free(&freed);
	built_free(&kept);
	cb_build_leftovers_free(kept.res.leftovers);
	fx_free(&fx);

	/* A broken edition: its errors are in the list before it is left. */
	fx_init(&fx);
	make_broken_edition(&fx, "");
	build_opts(&freed, fx.dir, 0, 1, 0);
	build_opts(&kept, fx.dir, 0, 1, 1);
	assert_int_equal(freed.rc, -1);
	assert_int_equal(kept.rc, -1);
	assert_non_null(kept.res.leftovers);
	t1 = problems_text(freed.diags);
	t2 = problems_text(kept.diags);
	assert_contains(t2, "edition-old:content/cases/a.md:");
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	built_free(&freed);
	built_free(&kept);
	cb_build_leftovers_free(kept.res.leftovers);
	fx_free(&fx);
}

/*
 * A plugin changed between editions: every page of the edition after the
 * change is rendered anew (the plugin could have changed any of them), while
 * editions with the same plugin share pages. Sites are loaded and rendered
 * here without running plugins, so this holds whatever the plugin runtime.
 */
static void test_plugin_change(void **state)
{
	fx_repo fx;
	git_oid c[3];
	cb_git_repo *repo = NULL;
	cb_diag_list *d = cb_diag_list_new();
	cb_cache *cache = cb_cache_new();
	cb_output *out = NULL;
	cb_source *share = NULL;
	cb_cache_stats st;
	char base[] = "/tmp/cb-out-XXXXXX", site_dir[PATH_MAX];
	size_t k, before = 0;
	const char *plugin[3] = {"return { name = \"stamp\" } -- one\n",
	                         "return { name = \"stamp\" } -- one\n",
	                         "return { name = \"stamp\" } -- two\n"};
	size_t want_new[3] = {3, 0, 3};

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\nplugins: [stamp]\n");
	write_case(&fx, "a", "Alpha", 2010, "Context.", "Outcomes.");
	write_case(&fx, "b", "Beta", 2010, "Context.", "Outcomes.");
	write_case(&fx, "c", "Gamma", 2010, "Context.", "Outcomes.");
	for (k = 0; k < 3; k++) {
		fx_write(&fx, "plugins/stamp.lua", plugin[k]);
		if (k == 1)
			fx_write(&fx, "README", "only this changed\n");
		c[k] = fx_commit(&fx, "Commit", "Ann", "ann@example.org", FX_DAY(2024, 1, 1 + (int)k));
	}
	assert_int_equal(cb_git_repo_open(&repo, fx.dir, d), 0);
	assert_int_equal(cb_source_open_dir(&share, share_dir), 0);
	assert_non_null(mkdtemp(base));
	snprintf(site_dir, sizeof site_dir, "%s/site", base);
	assert_int_equal(cb_output_open(&out, site_dir, d), 0);
	for (k = 0; k < 3; k++) {
		cb_source *src = NULL;
		cb_config *cfg = NULL;
		cb_site *site;
		cb_load_opts lo = CB_LOAD_OPTS_INIT;
		cb_render_opts ro = CB_RENDER_OPTS_INIT;
		char *hex = fx_hex(&c[k]), prefix[32];

		assert_int_equal(cb_git_source_open(&src, repo, hex, hex, d), 0);
		assert_int_equal(cb_config_load(&cfg, src, d), 0);
		site = cb_site_new(cfg, src, share, d);
		lo.cache = cache;
		assert_int_equal(cb_load(site, &lo), 0);
		snprintf(prefix, sizeof prefix, "e%zu/", k);
		ro.prefix = prefix;
		ro.cache = cache;
		ro.threads = 1;
		assert_int_equal(cb_render_site(site, out, &ro), 0);
		cb_cache_stats_get(cache, &st);
		assert_int_equal(st.pages_rendered - before, want_new[k]);
		before = st.pages_rendered;
		cb_site_free(site);
		cb_source_free(src);
		free(hex);
	}
	assert_int_equal(st.pages_shared, 3);
	assert_int_equal(cb_diag_errors(d), 0);
	cb_output_free(out);
	cb_fs_remove_tree(base);
	cb_source_free(share);
	cb_cache_free(cache);
	cb_git_repo_free(repo);
	cb_diag_list_free(d);
	fx_free(&fx);
}

/* A plugin naming a related case "Stamp <word> <date of the last change>". */
static char *stamp_plugin(const char *word)
{
	return cb_xasprintf("return { name = \"stamp\", case = function(c)\n"
	                    "  local h = c:get(\"history\")\n"
	                    "  c:set(\"related\", { items = { { url = \"cases/a.html\",\n"
	                    "    title = \"Stamp %s \" .. (h and h.updated or \"none\") } } })\n"
	                    "end }\n",
	                    word);
}

/*
 * The same, end to end, with the plugin runtime: each edition runs its own
 * commit's plugin, which sees the history. Skipped while the runtime is the
 * placeholder that refuses plugins.
 */
static void test_plugin_per_edition(void **state)
{
	fx_repo fx;
	built b;
	git_oid c1, c2;
	char *t;
	char *p;

	(void)state;
	fx_init(&fx);
	fx_write(&fx, "casebook.yml", "title: T\nplugins: [stamp]\n");
	write_case(&fx, "a", "Alpha", 2010, "Context.", "Outcomes.");
	p = stamp_plugin("one");
	fx_write(&fx, "plugins/stamp.lua", p);
	free(p);
	c1 = fx_commit(&fx, "One", "Ann", "ann@example.org", FX_DAY(2024, 1, 1));
	fx_tag(&fx, "edition-1", &c1, NULL, 0);
	p = stamp_plugin("two");
	fx_write(&fx, "plugins/stamp.lua", p);
	free(p);
	c2 = fx_commit(&fx, "Two", "Ann", "ann@example.org", FX_DAY(2024, 1, 2));
	fx_tag(&fx, "edition-2", &c2, NULL, 0);
	build_into(&b, fx.dir);
	t = diag_text(b.diags);
	if (b.rc != 0 && strstr(t, "plugins are not supported by this build")) {
		free(t);
		built_free(&b);
		fx_free(&fx);
		skip();
	}
	free(t);
	assert_no_errors(&b);
	assert_page(&b, "editions/1/cases/a.html", "Stamp one 2024-01-01");
	assert_page(&b, "editions/2/cases/a.html", "Stamp two 2024-01-01");
	assert_page(&b, "cases/a.html", "Stamp two 2024-01-01");
	/* A changed plugin: edition 2 renders its page anew; the latest shares it. */
	assert_int_equal(b.res.pages_rendered, 2);
	assert_int_equal(b.res.pages_shared, 1);
	built_free(&b);
	fx_free(&fx);
}


/* Every file under dir a and dir b (folder rel) byte for byte the same. */
static size_t same_trees(const char *a, const char *b, const char *rel)
{
	char *da = cb_xasprintf("%s/%s", a, rel), *db = cb_xasprintf("%s/%s", b, rel);
	cb_fs_entry *ea = NULL, *eb = NULL;
	size_t na = 0, nb = 0, i, count = 0;

	assert_int_equal(cb_fs_list(da, &ea, &na), 0);
	assert_int_equal(cb_fs_list(db, &eb, &nb), 0);
	if (na != nb)
		fail_msg("%s: %zu entries in %s, %zu in %s", rel, na, a, nb, b);
	for (i = 0; i < na; i++) {
		char *sub = *rel ? cb_xasprintf("%s/%s", rel, ea[i].name) : cb_xstrdup(ea[i].name);
		assert_string_equal(ea[i].name, eb[i].name);
		if (ea[i].kind == CB_FS_DIR) {
			count += same_trees(a, b, sub);
		} else {
			char *x = fx_read(a, sub), *y = fx_read(b, sub);
			if (strcmp(x, y) != 0)
				fail_msg("%s differs between %s and %s", sub, a, b);
			free(x);
			free(y);
			count++;
		}
		free(sub);
	}
	cb_fs_list_free(ea, na);
	cb_fs_list_free(eb, nb);
	free(da);
	free(db);
	return count;
}

/* Build src into out, with the build cache unless no_cache. */
static void build_to(built *b, const char *src, const char *out, int no_cache)
{
	cb_build_opts o = CB_BUILD_OPTS_INIT;

	snprintf(b->out, sizeof b->out, "%s", out);
	b->diags = cb_diag_list_new();
	o.source_dir = src;
	o.out_dir = b->out;
	o.share_dir = share_dir;
	o.threads = 2;
	o.no_cache = no_cache;
	b->rc = cb_build_run(&o, b->diags, &b->res);
}

static unsigned long long inode_of(const char *dir, const char *path)
{
	char *p = cb_xasprintf("%s/%s", dir, path);
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	free(p);
	return (unsigned long long)st.st_ino;
}

/* A rebuild and then one without the cache: the same files; returns how
 * many editions the rebuild reused. */
static size_t rebuild_and_compare(fx_repo *fx, const char *out, const char *clean,
                                  cb_build_result *res)
{
	built b, c;
	size_t reused;

	build_to(&b, fx->dir, out, 0);
	assert_no_errors(&b);
	reused = b.res.sites_reused;
	if (res)
		*res = b.res;
	cb_fs_remove_tree(clean);
	build_to(&c, fx->dir, clean, 1);
	assert_no_errors(&c);
	assert_true(same_trees(out, clean, "") > 20);
	cb_diag_list_free(b.diags);
	cb_diag_list_free(c.diags);
	return reused;
}

/*
 * The build cache (cb_reuse.h): an edition whose inputs did not change since
 * the last build into the same folder is taken from it, not built again,
 * and the site is byte for byte the one a build without the cache makes;
 * an edition whose pages the latest stops having (its switcher links to
 * them) is built again.
 */
static void test_reuse_editions(void **state)
{
	fx_repo fx;
	built b;
	cb_build_result res;
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char *out, *clean;
	unsigned long long ino;

	(void)state;
	make_history(&fx, NULL);
	assert_non_null(mkdtemp(base));
	out = cb_xasprintf("%s/site", base);
	clean = cb_xasprintf("%s/clean", base);
	build_to(&b, fx.dir, out, 0);
	assert_no_errors(&b);
	assert_int_equal(b.res.editions, 3);
	assert_int_equal(b.res.sites_reused, 0);
	cb_diag_list_free(b.diags);
	ino = inode_of(out, "editions/2024/cases/a.html");

	/* A case of the working tree changed: every edition is reused. */
	write_case(&fx, "a", "Alpha", 2009, "Alpha context, revised.", "Alpha, now in the tree.");
	assert_int_equal(rebuild_and_compare(&fx, out, clean, NULL), 3);
	assert_true(inode_of(out, "editions/2024/cases/a.html") == ino);
	{
		char *t = fx_read(out, "cases/a.html");
		assert_non_null(strstr(t, "Alpha, now in the tree."));
		free(t);
	}
	/* A case only the latest has, removed: still reused. */
	fx_remove(&fx, "content/cases/e.md");
	assert_int_equal(rebuild_and_compare(&fx, out, clean, &res), 3);
	/* Every edition taken: the latest, made alone, keys nothing. */
	assert_int_equal(res.pages_rendered + res.pages_shared, 0);
	/* A case the newer editions have, removed from the latest: their
	 * switchers change, so they are built again; 2024 never had it. */
	fx_remove(&fx, "content/cases/d.md");
	assert_int_equal(rebuild_and_compare(&fx, out, clean, &res), 1);
	/* Every edition looked intact, so the latest's page list was made
	 * alone; once two editions had to be built after all, the latest keys
	 * its case pages when it is rendered, after them, to share theirs: 8
	 * case pages looked up, where the two editions alone look up 6. */
	assert_int_equal(res.pages_rendered + res.pages_shared, 8);
	/* Nothing changed: nothing built at all. */
	build_to(&b, fx.dir, out, 0);
	assert_no_errors(&b);
	assert_true(b.res.up_to_date);
	cb_diag_list_free(b.diags);

	cb_fs_remove_tree(base);
	free(out);
	free(clean);
	fx_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_editions_and_history),
	    cmocka_unit_test(test_latest_only),
	    cmocka_unit_test(test_sharing),
	    cmocka_unit_test(test_shared_equals_fresh),
	    cmocka_unit_test(test_exiting),
	    cmocka_unit_test(test_no_repository),
	    cmocka_unit_test(test_other_owner),
	    cmocka_unit_test(test_bad_ref),
	    cmocka_unit_test(test_no_matching_tags),
	    cmocka_unit_test(test_latest_head),
	    cmocka_unit_test(test_check_reads_worktree),
	    cmocka_unit_test(test_stopped),
	    cmocka_unit_test(test_shallow),
	    cmocka_unit_test(test_shallow_listed_edition),
	    cmocka_unit_test(test_subfolder_and_edition_errors),
	    cmocka_unit_test(test_plugin_change),
	    cmocka_unit_test(test_plugin_per_edition),
	    cmocka_unit_test(test_reuse_editions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
