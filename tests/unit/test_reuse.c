/* Unit tests for cb_reuse's keys: what a file and a folder add to a build's
 * key, read and hashed on several threads, and the stat cache that spares
 * reading files that did not change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cb_buf.h"
#include "cb_diag.h"
#include "cb_fs.h"
#include "cb_git.h"
#include "cb_reuse.h"
#include "cb_source.h"

/* git hash-object of "hello\n" and of the empty file. */
#define HELLO_ID "ce013625030ba8dba906f756967f9e9ca394464a"
#define EMPTY_ID "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Write text over dir/name, keeping the file's modification time (and
 * inode): what the stat cache cannot tell from the file it recorded. */
static void put_same_time(const char *dir, const char *name, const char *text)
{
	char path[512];
	struct stat st;
	struct timespec times[2];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	put(dir, name, text);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* A fresh folder holding src/ and out/ (empty) and naming cache/: their
 * paths into src, cache and out (64 bytes each). */
static void make_dirs(char *base, char *src, char *cache, char *out)
{
	assert_non_null(mkdtemp(base));
	snprintf(src, 64, "%s/src", base);
	snprintf(cache, 64, "%s/cache", base);
	snprintf(out, 64, "%s/out", base);
	assert_int_equal(mkdir(src, 0777), 0);
	assert_int_equal(mkdir(out, 0777), 0);
}

/* The key cb_reuse_key_tree gives root with a fresh cache in cache_dir,
 * keyed on `threads` threads (caller frees). */
static char *tree_key(const char *cache_dir, const char *root, const char *skip, int threads)
{
	cb_reuse *c = cb_reuse_open(cache_dir, threads);
	cb_buf k = CB_BUF_INIT;

	cb_reuse_key_tree(c, root, skip, &k);
	cb_reuse_free(c);
	return cb_buf_detach(&k);
}

static void test_key_tree(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char src[64], cache[64], path[128], skip[128], want[2048];
	char *one, *four;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(src, sizeof src, "%s/src", base);
	snprintf(cache, sizeof cache, "%s/cache", base);
	assert_int_equal(mkdir(src, 0777), 0);
	put(src, "b.txt", "hello\n");
	put(src, "a-empty", "");
	put(src, ".hidden", "left out");
	snprintf(path, sizeof path, "%s/sub", src);
	assert_int_equal(mkdir(path, 0777), 0);
	put(path, "c.md", "hello\n");
	snprintf(skip, sizeof skip, "%s/site", src);
	assert_int_equal(mkdir(skip, 0777), 0);
	put(skip, "index.html", "the output folder, left out");
	snprintf(path, sizeof path, "%s/link", src);
	assert_int_equal(symlink("b.txt", path), 0);

	snprintf(want, sizeof want,
	         "%s/a-empty " EMPTY_ID "\n"
	         "%s/b.txt " HELLO_ID "\n"
	         "%s/link link b.txt\n"
	         "%s/sub/c.md " HELLO_ID "\n",
	         src, src, src, src);
	one = tree_key(cache, src, skip, 1);
	assert_string_equal(one, want);
	four = tree_key(cache, src, skip, 4);
	assert_string_equal(four, want);
	free(one);
	free(four);

	/* A missing folder is a line of its own, in its place. */
	snprintf(path, sizeof path, "%s/nowhere", base);
	one = tree_key(cache, path, NULL, 2);
	snprintf(want, sizeof want, "%s missing\n", path);
	assert_string_equal(one, want);
	free(one);
	cb_fs_remove_tree(base);
}

/* Many files on several threads: each line holds its own file's id, in
 * name order, as on one thread. */
static void test_key_many(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char cache[64], name[32], text[64];
	char *one, *four, *line;
	int i, lines = 0;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(cache, sizeof cache, "%s/.cache", base);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof name, "f%03d", i);
		snprintf(text, sizeof text, i % 2 ? "hello\n" : "%d\n", i);
		put(base, name, text);
	}
	one = tree_key(cache, base, NULL, 1);
	four = tree_key(cache, base, NULL, 4);
	assert_string_equal(one, four);
	for (line = four; *line; line = strchr(line, '\n') + 1, lines++) {
		char want[256];
		snprintf(want, sizeof want, "%s/f%03d ", base, lines);
		assert_memory_equal(line, want, strlen(want));
		if (lines % 2)
			assert_memory_equal(line + strlen(want), HELLO_ID "\n", strlen(HELLO_ID) + 1);
		else
			assert_memory_not_equal(line + strlen(want), HELLO_ID, strlen(HELLO_ID));
	}
	assert_int_equal(lines, 300);
	free(one);
	free(four);
	cb_fs_remove_tree(base);
}

/* The stat cache: a saved cache gives a file the id it recorded while the
 * file's size, modification time and inode are the same (so an edit that
 * keeps all three is not seen, as with git's index), and reads it again
 * once one differs. */
static void test_stat_cache(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char src[64], cache[64], out[64], file[128], want[512];
	cb_diag_list *d = cb_diag_list_new();
	cb_reuse_result res = {1, 1, 0};
	cb_reuse *c;
	cb_buf b = CB_BUF_INIT;
	char *k;

	(void)state;
	make_dirs(base, src, cache, out);
	put(src, "a", "hello\n");
	snprintf(file, sizeof file, "%s/a", src);

	c = cb_reuse_open(cache, 2);
	cb_reuse_key_tree(c, src, NULL, &b);
	assert_int_equal(cb_reuse_save(c, "k1", out, &res, d), 0);
	cb_reuse_free(c);

	/* Same size, time and inode, other bytes: the recorded id stands. */
	put_same_time(src, "a", "HELLO\n");
	k = tree_key(cache, src, NULL, 2);
	snprintf(want, sizeof want, "%s/a " HELLO_ID "\n", src);
	assert_string_equal(k, want);
	free(k);

	/* Another size: read and hashed again. */
	put(src, "a", "");
	k = tree_key(cache, src, NULL, 2);
	snprintf(want, sizeof want, "%s/a " EMPTY_ID "\n", src);
	assert_string_equal(k, want);
	free(k);

	/* cb_reuse_key_file keys one file the same way. */
	c = cb_reuse_open(cache, 1);
	cb_buf_clear(&b);
	cb_reuse_key_file(c, file, &b);
	assert_string_equal(b.ptr, want);
	cb_buf_clear(&b);
	snprintf(file, sizeof file, "%s/none", src);
	cb_reuse_key_file(c, file, &b);
	snprintf(want, sizeof want, "%s missing\n", file);
	assert_string_equal(b.ptr, want);
	cb_buf_dispose(&b);
	cb_reuse_free(c);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

/* The ids keyed by this build, for the loader: a file keyed and unchanged
 * since has its id; a changed file, one not keyed, and one known only from
 * the last build's cache have none. */
static void test_known_id(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char src[64], cache[64], out[64], a[128], b[128], id[CB_OID_HEXSZ + 1];
	cb_diag_list *d = cb_diag_list_new();
	cb_reuse_result res = {1, 1, 0};
	cb_buf k = CB_BUF_INIT;
	cb_reuse *c;

	(void)state;
	make_dirs(base, src, cache, out);
	put(src, "a", "hello\n");
	put(src, "b", "");
	snprintf(a, sizeof a, "%s/a", src);
	snprintf(b, sizeof b, "%s/b", src);

	c = cb_reuse_open(cache, 2);
	assert_int_equal(cb_reuse_known_id(c, a, id), -1); /* not keyed yet */
	cb_reuse_key_tree(c, src, NULL, &k);
	assert_int_equal(cb_reuse_known_id(c, a, id), 0);
	assert_string_equal(id, HELLO_ID);
	assert_int_equal(cb_reuse_known_id(c, b, id), 0);
	assert_string_equal(id, EMPTY_ID);
	put(src, "b", "now longer");
	assert_int_equal(cb_reuse_known_id(c, b, id), -1);
	assert_int_equal(cb_reuse_save(c, "k", out, &res, d), 0);
	cb_reuse_free(c);

	/* In the next build, the saved stat cache alone is not enough: a
	 * file must be keyed by that build. */
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_known_id(c, a, id), -1);
	cb_buf_clear(&k);
	cb_reuse_key_file(c, a, &k);
	assert_int_equal(cb_reuse_known_id(c, a, id), 0);
	assert_string_equal(id, HELLO_ID);
	cb_reuse_free(c);
	cb_buf_dispose(&k);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

/* Keying later, for a first build: the files are listed now and their ids
 * filled in at the end, from what the loader learned or by reading them
 * then. The key comes out as keying them at once gives it, but for a file
 * changed after it was listed and not learned (the build may have read the
 * old bytes): its id is spoilt, and the next build reads it again. */
static void test_key_later(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char src[64], cache[64], out[64], a[128], b[128], c_[128], d_[128], want[1024];
	char id[CB_OID_HEXSZ + 1];
	cb_diag_list *d = cb_diag_list_new();
	cb_reuse_result res = {1, 1, 0};
	cb_buf k = CB_BUF_INIT;
	cb_reuse *c;
	char *now;

	(void)state;
	make_dirs(base, src, cache, out);
	put(src, "a", "hello\n");
	put(src, "b", "");
	put(src, "c", "hello\n");
	put(src, "d", "hello\n");
	snprintf(a, sizeof a, "%s/a", src);
	snprintf(b, sizeof b, "%s/b", src);
	snprintf(c_, sizeof c_, "%s/c", src);
	snprintf(d_, sizeof d_, "%s/d", src);

	c = cb_reuse_open(cache, 2);
	assert_int_equal(cb_reuse_has_record(c), 0);
	cb_reuse_key_tree_later(c, src, NULL, &k);
	cb_buf_puts(&k, "after\n");
	/* Nothing is known yet: the loader hashes for itself. */
	assert_int_equal(cb_reuse_known_id(c, a, id), -1);
	snprintf(want, sizeof want,
	         "%s/a ????????????????????????????????????????\n"
	         "%s/b ????????????????????????????????????????\n"
	         "%s/c ????????????????????????????????????????\n"
	         "%s/d ????????????????????????????????????????\nafter\n",
	         src, src, src, src);
	assert_string_equal(k.ptr, want);
	/* The loader read a, and c after it changed; b and d it never read,
	 * and d changed after the listing. */
	cb_reuse_learn_id(c, a, HELLO_ID);
	put(src, "c", "");
	cb_reuse_learn_id(c, c_, EMPTY_ID);
	put(src, "d", "changed\n");
	cb_reuse_learn_id(c, "/elsewhere/x", HELLO_ID); /* not keyed: ignored */
	/* Keyed again at once meanwhile, b gets its id, not the missing one. */
	{
		cb_buf one = CB_BUF_INIT;
		cb_reuse_key_file(c, b, &one);
		snprintf(want, sizeof want, "%s " EMPTY_ID "\n", b);
		assert_string_equal(one.ptr, want);
		cb_buf_dispose(&one);
	}
	cb_reuse_key_finish(c, &k);
	snprintf(want, sizeof want,
	         "%s/a " HELLO_ID "\n"
	         "%s/b " EMPTY_ID "\n"
	         "%s/c " EMPTY_ID "\n"
	         "%s/d ########################################\nafter\n",
	         src, src, src, src);
	assert_string_equal(k.ptr, want);
	assert_int_equal(cb_reuse_save(c, "k", out, &res, d), 0);
	cb_reuse_free(c);

	/* The next build trusts the stat cache for a (other bytes, same size
	 * and time: the recorded id stands) and reads d again (spoilt: not
	 * recorded). */
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_has_record(c), 1);
	cb_reuse_free(c);
	put_same_time(src, "a", "HELLO\n");
	assert_int_equal(cb_git_hash_blob("changed\n", 8, id), 0);
	now = tree_key(cache, src, NULL, 2);
	snprintf(want, sizeof want,
	         "%s/a " HELLO_ID "\n"
	         "%s/b " EMPTY_ID "\n"
	         "%s/c " EMPTY_ID "\n"
	         "%s/d %s\n",
	         src, src, src, src, id);
	assert_string_equal(now, want);
	free(now);
	cb_buf_dispose(&k);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

/* What a folder source does with known ids: takes them when known, hashes
 * the bytes otherwise. */
static int fake_known(void *ctx, const char *path, char *out)
{
	const char *want = ctx;
	size_t n = strlen(path), w = strlen(want);

	if (n < w || strcmp(path + n - w, want) != 0)
		return -1;
	memcpy(out, "0123456789012345678901234567890123456789", CB_OID_HEXSZ + 1);
	return 0;
}

/* What fake_learn was told last: "path id". */
static void fake_learn(void *ctx, const char *path, const char *id)
{
	snprintf(ctx, 256, "%s %s", path, id);
}

static void test_source_known_ids(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char id[CB_OID_HEXSZ + 1], known[] = "/a.md";
	cb_source *src = NULL;

	(void)state;
	assert_non_null(mkdtemp(base));
	put(base, "a.md", "hello\n");
	put(base, "b.md", "hello\n");
	assert_int_equal(cb_source_open_dir(&src, base), 0);
	cb_source_dir_known_ids(src, fake_known, NULL, known);
	assert_int_equal(cb_source_blob_id(src, "a.md", "hello\n", 6, id), 0);
	assert_string_equal(id, "0123456789012345678901234567890123456789");
	assert_int_equal(cb_source_blob_id(src, "b.md", "hello\n", 6, id), 0);
	assert_string_equal(id, HELLO_ID);
	assert_int_equal(cb_source_blob_id(src, "b.md", NULL, 0, id), 0);
	assert_string_equal(id, HELLO_ID);
	cb_source_free(src);

	/* Told each id it hashes from the bytes given, by the file's path on
	 * disk; not one of bytes it read itself (the caller may have used
	 * others, read before). */
	{
		char told[256] = "", want[256];
		assert_int_equal(cb_source_open_dir(&src, base), 0);
		cb_source_dir_known_ids(src, NULL, fake_learn, told);
		assert_int_equal(cb_source_blob_id(src, "b.md", "", 0, id), 0);
		snprintf(want, sizeof want, "%s/b.md " EMPTY_ID, base);
		assert_string_equal(told, want);
		assert_int_equal(cb_source_blob_id(src, "a.md", NULL, 0, id), 0);
		assert_string_equal(id, HELLO_ID);
		assert_string_equal(told, want);
		cb_source_free(src);
	}
	cb_fs_remove_tree(base);
}

/* What cb_reuse_site_reuse handed over, for test_sites_reused. */
typedef struct handed {
	int take;      /* what move returns: 0 takes the folder */
	char dir[64];  /* the folder offered */
	size_t files;
	int links;     /* files linked */
	char last[256]; /* "path <- from" of the last link */
} handed;

static int fake_move(void *ctx, const char *dir, size_t files)
{
	handed *h = ctx;

	snprintf(h->dir, sizeof h->dir, "%s", dir);
	h->files = files;
	return h->take;
}

static int fake_link(void *ctx, const char *path, const char *from)
{
	handed *h = ctx;

	h->links++;
	snprintf(h->last, sizeof h->last, "%s <- %s", path, from);
	return 0;
}

/* An edition's folder reused whole: fresh only while it holds exactly the
 * files the last build wrote there, handed over as a folder or file by
 * file, and recorded again for the next build. */
static void test_sites_reused(void **state)
{
	char base[] = "/tmp/cb-reuse-XXXXXX";
	char src[64], cache[64], out[64], dir[128], want[256];
	const char *pages[] = {"index.html", "cases/a.html"};
	cb_diag_list *d = cb_diag_list_new(), *got;
	cb_reuse_result res = {1, 5, 1}, again;
	handed h;
	cb_reuse *c;

	(void)state;
	make_dirs(base, src, cache, out);
	snprintf(dir, sizeof dir, "%s/editions/1/cases", out);
	assert_int_equal(cb_fs_mkdirs(dir), 0);
	snprintf(dir, sizeof dir, "%s/editions", out);
	put(out, "index.html", "latest");
	put(out, "zz.html", "last");
	put(dir, "0.html", "before the folder");
	put(dir, "index.html", "after the folder");
	put(dir, "1/index.html", "edition one");
	put(dir, "1/cases/a.html", "case a");
	cb_diag_add(d, CB_WARNING, "w", "content/cases/a.md", 3, 1, NULL, "a warning");

	c = cb_reuse_open(cache, 1);
	cb_reuse_site_record(c, "editions/1/", "P", "K", pages, 2, d);
	assert_int_equal(cb_reuse_save(c, "k1", out, &res, d), 0);
	cb_reuse_free(c);

	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_site_intact(c, "editions/1/", "P", out), 1);
	assert_int_equal(cb_reuse_site_intact(c, "editions/1/", "P2", out), 0);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 1);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K2", out), 0);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/2/", "K", out), 0);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", src), 0);
	cb_reuse_free(c);
	/* A file the last build did not write there: not as it left it. */
	put(dir, "1/extra.html", "x");
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_site_intact(c, "editions/1/", "P", out), 0);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 0);
	cb_reuse_free(c);
	snprintf(want, sizeof want, "%s/1/extra.html", dir);
	assert_int_equal(unlink(want), 0);
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 1);

	/* A site not found fresh gives nothing. */
	memset(&h, 0, sizeof h);
	got = cb_diag_list_new();
	assert_int_equal(cb_reuse_site_reuse(c, "editions/2/", out, fake_move, fake_link, &h, got), -1);
	assert_int_equal(h.links + (int)h.files, 0);
	cb_diag_list_free(got);

	/* Handed over file by file when the folder is not taken. */
	memset(&h, 0, sizeof h);
	h.take = -1;
	got = cb_diag_list_new();
	assert_int_equal(cb_reuse_site_reuse(c, "editions/1/", out, fake_move, fake_link, &h, got), 0);
	assert_string_equal(h.dir, "editions/1");
	assert_int_equal(h.files, 2);
	assert_int_equal(h.links, 2);
	snprintf(want, sizeof want, "editions/1/index.html <- %s/1/index.html", dir);
	assert_string_equal(h.last, want);
	assert_int_equal(cb_diag_count(got), 1); /* what its build reported */
	assert_string_equal(cb_diag_at(got, 0)->msg, "a warning");
	cb_diag_list_free(got);
	cb_reuse_free(c);

	/* Taken whole: no file linked, and the next cache lists the folder's
	 * files from the records, in their place among the others, so that a
	 * build with nothing changed finds the site as it was left. */
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 1);
	memset(&h, 0, sizeof h);
	got = cb_diag_list_new();
	assert_int_equal(cb_reuse_site_reuse(c, "editions/1/", out, fake_move, fake_link, &h, got), 0);
	assert_int_equal(h.links, 0);
	assert_int_equal(cb_diag_count(got), 1);
	cb_reuse_site_record(c, "editions/1/", "P", "K", pages, 2, got);
	assert_int_equal(cb_reuse_save(c, "k2", out, &res, d), 0);
	cb_diag_list_free(got);
	cb_reuse_free(c);
	c = cb_reuse_open(cache, 1);
	got = cb_diag_list_new();
	assert_int_equal(cb_reuse_fresh(c, "k2", out, &again, got), 1);
	assert_int_equal(again.pages, 5);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 1);
	cb_reuse_free(c);
	/* A file changed since: neither the site nor the edition is fresh. */
	put(dir, "1/cases/a.html", "case a, changed");
	c = cb_reuse_open(cache, 1);
	assert_int_equal(cb_reuse_fresh(c, "k2", out, &again, got), 0);
	assert_int_equal(cb_reuse_site_fresh(c, "editions/1/", "K", out), 0);
	cb_diag_list_free(got);
	cb_reuse_free(c);
	cb_diag_list_free(d);
	cb_fs_remove_tree(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_tree),
	    cmocka_unit_test(test_key_many),
	    cmocka_unit_test(test_stat_cache),
	    cmocka_unit_test(test_known_id),
	    cmocka_unit_test(test_key_later),
	    cmocka_unit_test(test_source_known_ids),
	    cmocka_unit_test(test_sites_reused),
	};
	int rc;

	cb_git_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	cb_git_shutdown();
	return rc;
}
