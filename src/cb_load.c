/*
 * cb_load: the load stage (see cb_load.h).
 */
#include "cb_load.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cb_lint.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_pool.h"
#include "cb_schema.h"
#include "cb_utf8.h"
#include "cb_yaml.h"

const char *const cb_load_reserved_ids[] = {
    "main",    "content", "top",  "site-header", "site-footer", "site-nav", "search",
    "facts",   "toc",     "sources", "related",  "backlinks",   "lessons",  "history",
    "editions", NULL};

typedef struct job {
	char *path;
	cb_doc_kind kind;
	cb_doc *doc;
} job;

typedef struct jobs {
	cb_site *site;
	job *v;
	size_t len, cap;
	atomic_size_t done;
	const cb_load_opts *opts;
	cb_doc_opts dopts;
	int failed;
	pthread_mutex_t lock;
} jobs;

static void add_job(jobs *j, const char *path, cb_doc_kind kind)
{
	if (j->len == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 64;
		j->v = cb_xreallocarray(j->v, j->cap, sizeof(job));
	}
	j->v[j->len].path = cb_xstrdup(path);
	j->v[j->len].kind = kind;
	j->v[j->len].doc = NULL;
	j->len++;
}

/* The cache key of a document: everything its parse depends on. */
static char *doc_key(const job *jb, const char *id, const cb_doc_opts *o)
{
	return cb_xasprintf("%c:%d:%s:%s", jb->kind == CB_DOC_CASE ? 'c' : 'p', o->unsafe_html, id,
	                    jb->path);
}

static void run_job(jobs *j, job *jb)
{
	cb_site *site = j->site;
	cb_source *src = cb_site_source(site);
	cb_diag_list *diags = cb_site_diags(site);
	cb_cache *cache = j->opts ? j->opts->cache : NULL;
	char *data = NULL, *key = NULL;
	size_t len;
	char id[CB_OID_HEXSZ + 1];
	int rc, have_id = 0, failed = 0;

	/* A source that is not a folder on disk (a git tree) knows a file's
	 * blob id without reading it: an unchanged file is then not read. */
	if (cache && !cb_source_fs_root(src) && cb_source_blob_id(src, jb->path, NULL, 0, id) == 0) {
		have_id = 1;
		key = doc_key(jb, id, &j->dopts);
		if ((jb->doc = cb_cache_doc_get(cache, key, &failed)) != NULL)
			goto cached;
	}
	rc = cb_source_read(src, jb->path, CB_DOC_MAX_SIZE, &data, &len);
	if (rc == CB_FS_TOOBIG) {
		cb_diag_add(diags, CB_ERROR, "file-too-large", jb->path, 0, 0,
		            "split it, or move large material to a linked file",
		            "the file is larger than %d MB", CB_DOC_MAX_SIZE / (1024 * 1024));
		goto fail;
	}
	if (rc < 0) {
		cb_diag_error(diags, "io", jb->path, 0, 0, "cannot read: %s", cb_fs_strerror(rc));
		goto fail;
	}
	if (!have_id && cb_source_blob_id(src, jb->path, data, len, id) == 0) {
		have_id = 1;
		if (cache) {
			key = doc_key(jb, id, &j->dopts);
			if ((jb->doc = cb_cache_doc_get(cache, key, &failed)) != NULL) {
				free(data);
				goto cached;
			}
		}
	}
	rc = cb_doc_parse(&jb->doc, jb->kind, jb->path, data, len, &j->dopts, diags);
	if (jb->doc && have_id)
		cb_doc_set_blob_id(jb->doc, id);
	if (jb->doc && jb->kind == CB_DOC_CASE && cb_doc_meta_ok(jb->doc) &&
	    cb_schema_check(jb->doc, diags) < 0)
		rc = -1;
	if (jb->doc && jb->kind == CB_DOC_CASE && cb_lint_case(jb->doc, data, len, diags) < 0)
		rc = -1;
	free(data);
	if (jb->doc && key)
		cb_cache_doc_put(cache, key, jb->doc, rc < 0);
	if (rc < 0)
		goto fail;
	free(key);
	return;
cached:
	if (!failed) {
		free(key);
		return;
	}
fail:
	free(key);
	pthread_mutex_lock(&j->lock);
	j->failed = 1;
	pthread_mutex_unlock(&j->lock);
}

/* Job i, and the progress after it (cb_pool_each). */
static void one_job(void *arg, size_t i)
{
	jobs *j = arg;
	size_t d;

	run_job(j, &j->v[i]);
	d = atomic_fetch_add(&j->done, 1) + 1;
	if (j->opts && j->opts->progress && (d % 256 == 0 || d == j->len)) {
		pthread_mutex_lock(&j->lock);
		j->opts->progress(j->opts->progress_ctx, d, j->len);
		pthread_mutex_unlock(&j->lock);
	}
}

static void run_jobs(jobs *j)
{
	cb_pool_each(j->opts ? j->opts->threads : 0, j->len, one_job, j);
}

/* A valid slug made from a file name, for the hint on a bad one. */
static char *suggest_slug(const char *name)
{
	cb_buf b = CB_BUF_INIT;
	size_t len = strlen(name);

	if (len > 3 && strcmp(name + len - 3, ".md") == 0)
		len -= 3;
	cb_utf8_slug(&b, name, len);
	return cb_buf_detach(&b);
}

static int is_hidden(const char *name)
{
	return name[0] == '.';
}

/* A Markdown extension other than ".md" (".MD", ".markdown", ...), which
 * casebook does not read as a case or page. */
static int other_markdown_ext(const char *ext)
{
	static const char *const exts[] = {".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn",
	                                   NULL};
	size_t k;

	if (strcmp(ext, ".md") == 0)
		return 0;
	for (k = 0; exts[k]; k++)
		if (strcasecmp(ext, exts[k]) == 0)
			return 1;
	return 0;
}

/* A Markdown file outside content/cases and content/pages is not rendered.
 * With front matter it is a misplaced case or page: an error, since it would
 * be published as raw Markdown; without, a warning. */
static int stray_markdown(cb_site *site, const char *path)
{
	cb_diag_list *diags = cb_site_diags(site);
	char *data = NULL;
	size_t len = 0, next;
	int fm;

	if (cb_source_read(cb_site_source(site), path, CB_DOC_MAX_SIZE, &data, &len) < 0)
		len = 0;
	next = len >= 3 && data && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	fm = len >= next + 3 && memcmp(data + next, "---", 3) == 0 &&
	     (len == next + 3 || data[next + 3] == '\n' || data[next + 3] == '\r' ||
	      data[next + 3] == ' ');
	free(data);
	if (fm)
		return cb_diag_add(diags, CB_ERROR, "case-location", path, 0, 0,
		                   "move a case to content/cases/, a page to content/pages/",
		                   "Markdown with front matter is read only in content/cases (cases) "
		                   "and content/pages (pages); this file would be published as it is");
	cb_diag_add(diags, CB_WARNING, "stray-markdown", path, 0, 0,
	            "move a case to content/cases/, a page to content/pages/",
	            "Markdown outside content/cases and content/pages is copied to the site as it "
	            "is, not made into a page");
	return 0;
}

/* ---- vocabularies -------------------------------------------------------- */

/* A vocabulary's keys and its terms' (docs/case-format.md#vocabularies),
 * with what each must hold. */
typedef enum { KEY_TEXT, KEY_TEXTS, KEY_OTHER } key_kind;
typedef struct {
	const char *name;
	key_kind kind;
} vocab_key;

static const vocab_key vocab_keys[] = {
    {"name", KEY_OTHER},       {"title", KEY_TEXT},      {"field", KEY_TEXT},
    {"description", KEY_TEXT}, {"citations", KEY_TEXTS}, {"terms", KEY_OTHER},
    {NULL, KEY_TEXT}};
static const vocab_key term_keys[] = {{"id", KEY_OTHER},        {"label", KEY_TEXT},
                                      {"definition", KEY_TEXT}, {"citation", KEY_TEXT},
                                      {"keywords", KEY_TEXTS},  {NULL, KEY_TEXT}};

/* Check the keys of map m (a vocabulary or one of its terms) against keys:
 * each known key's value has its kind (an error at the value otherwise;
 * KEY_OTHER is checked by the caller); an unknown key close to a known one is
 * a warning with the suggestion (another key is the handbook's own, for its
 * plugins). Returns -1 on errors. */
static int check_keys(cb_diag_list *diags, const char *path, const cb_value *m,
                      const vocab_key *keys, const char *what)
{
	const char *names[8];
	cb_config_keys ck = {"taxonomy-unknown-key", path, "key", what, names, 1};
	size_t i, j, n = 0;
	int rc = 0;

	for (n = 0; keys[n].name && n + 1 < sizeof names / sizeof *names; n++)
		names[n] = keys[n].name;
	names[n] = NULL;
	for (i = 0; i < cb_value_len(m); i++) {
		const char *key = cb_value_key(m, i, NULL);
		const cb_value *v = cb_value_entry(m, i);
		long k = cb_config_key(diags, &ck, m, i);
		int ok = 1;

		if (k < 0 || keys[k].kind == KEY_OTHER)
			continue;
		if (keys[k].kind == KEY_TEXT) {
			ok = cb_value_type(v) == CB_STRING;
			if (ok && !cb_value_cstr(v)[0]) {
				rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(v),
				                   cb_value_col(v), "%s is empty", key);
				continue;
			}
		} else {
			ok = cb_value_type(v) == CB_LIST;
			for (j = 0; ok && j < cb_value_len(v); j++)
				if (cb_value_type(cb_value_at(v, j)) != CB_STRING) {
					v = cb_value_at(v, j);
					ok = 0;
				}
		}
		if (!ok)
			rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(v), cb_value_col(v),
			                   keys[k].kind == KEY_TEXT ? "%s must be a text" :
			                                              "%s must be a list of texts",
			                   key);
	}
	return rc;
}

static int load_taxonomy(cb_site *site, const char *path, const char *file)
{
	cb_diag_list *diags = cb_site_diags(site);
	char *data = NULL, *name;
	size_t len, i;
	cb_value *tax = NULL;
	const cb_value *terms;
	int rc;

	rc = cb_source_read(cb_site_source(site), path, 4 << 20, &data, &len);
	if (rc < 0)
		return cb_diag_error(diags, "io", path, 0, 0, "cannot read: %s", cb_fs_strerror(rc));
	rc = cb_yaml_parse(&tax, data, len, path, 0, diags);
	free(data);
	if (rc < 0)
		return -1;
	if (cb_value_type(tax) != CB_MAP) {
		cb_value_unref(tax);
		return cb_diag_error(diags, "taxonomy", path, 1, 1,
		                     "a vocabulary must be a mapping with name, title and terms");
	}
	rc = check_keys(diags, path, tax, vocab_keys, "a vocabulary");
	name = cb_xstrndup(file, strlen(file) - strlen(cb_path_ext(file)));
	if (!cb_value_getc(tax, "name"))
		cb_value_set_str(tax, "name", name);
	else if (!cb_value_cstr(cb_value_getc(tax, "name")) ||
	         strcmp(cb_value_cstr(cb_value_getc(tax, "name")), name) != 0) {
		const cb_value *v = cb_value_getc(tax, "name");
		rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(v), cb_value_col(v),
		                   "name must be '%s', the file's name", name);
	}
	terms = cb_value_getc(tax, "terms");
	if (cb_value_type(terms) != CB_LIST) {
		rc = cb_diag_error(diags, "taxonomy", path, terms ? cb_value_line(terms) : 1, 1,
		                   "terms must be a list of {id, label, definition}");
	} else {
		/* Terms without an id, or with one given before, are reported and
		 * left out: the plugins and pages see each term once. */
		cb_value *seen = cb_value_new_map(), *kept = cb_value_new_list();
		for (i = 0; i < cb_value_len(terms); i++) {
			cb_value *t = cb_value_at(terms, i);
			const cb_value *id = cb_value_getc(t, "id"), *first;
			const char *s = cb_value_cstr(id);

			if (cb_value_type(t) != CB_MAP || !s) {
				rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(t), cb_value_col(t),
				                   "each term needs an id");
				continue;
			}
			if ((first = cb_value_getc(seen, s)) != NULL) {
				rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(id),
				                   cb_value_col(id),
				                   "term '%s' is defined twice (first on line %u); this one "
				                   "is left out", s, (unsigned)cb_value_line(first));
				continue;
			}
			if (check_keys(diags, path, t, term_keys, "a term") < 0)
				rc = -1;
			if (!cb_path_is_slug(s, strlen(s)))
				rc = cb_diag_error(diags, "taxonomy", path, cb_value_line(id),
				                   cb_value_col(id),
				                   "term id '%s' may only use a-z, 0-9 and '-'", s);
			cb_value_setc(seen, s, cb_value_ref((cb_value *)id));
			if (!cb_value_cstr(cb_value_getc(t, "label")))
				cb_diag_warn(diags, "taxonomy", path, cb_value_line(t), cb_value_col(t),
				             "term '%s' has no label", s);
			cb_value_push(kept, cb_value_ref(t));
		}
		cb_value_unref(seen);
		if (cb_value_len(kept) < cb_value_len(terms)) {
			cb_value_set_pos(kept, cb_value_line(terms), cb_value_col(terms));
			cb_value_setc(tax, "terms", kept);
		} else {
			cb_value_unref(kept);
		}
	}
	cb_site_add_taxonomy(site, name, tax, path);
	free(name);
	return rc;
}

/* ---- walking content/ ---------------------------------------------------- */

static int walk(cb_site *site, jobs *j, const char *dir)
{
	cb_diag_list *diags = cb_site_diags(site);
	cb_fs_entry *e = NULL;
	size_t n = 0, i;
	int rc = 0, r;
	int in_cases = strcmp(dir, "content/cases") == 0;
	int in_pages = strcmp(dir, "content/pages") == 0;
	int in_tax = strcmp(dir, "content/taxonomies") == 0;

	r = cb_source_list(cb_site_source(site), dir, &e, &n);
	if (r < 0)
		return cb_diag_error(diags, "io", dir, 0, 0, "cannot list: %s", cb_fs_strerror(r));
	for (i = 0; i < n; i++) {
		const char *name = e[i].name;
		char *path = cb_path_join(dir, name);
		int md = strcmp(cb_path_ext(name), ".md") == 0;
		int md_other = other_markdown_ext(cb_path_ext(name));

		if (is_hidden(name)) {
			/* .gitkeep, .DS_Store: not content */
		} else if (e[i].kind == CB_FS_LINK) {
			if (in_cases && md)
				rc = cb_diag_add(diags, CB_ERROR, "case-symlink", path, 0, 0,
				                 "copy the file into content/cases instead of linking it",
				                 "case files must be regular files, not symbolic links");
			else
				cb_diag_warn(diags, "symlink", path, 0, 0,
				             "symbolic link skipped (content files are never followed "
				             "outside the source)");
		} else if (e[i].kind == CB_FS_DIR) {
			if (walk(site, j, path) < 0)
				rc = -1;
		} else if (e[i].kind != CB_FS_FILE) {
			cb_diag_warn(diags, "not-a-file", path, 0, 0, "skipped: not a regular file");
		} else if ((in_cases || in_pages) && md_other) {
			char *hint = cb_xasprintf(
			    "rename it to %.*s.md", (int)(strlen(name) - strlen(cb_path_ext(name))), name);
			rc = cb_diag_add(diags, CB_ERROR, "case-location", path, 0, 0, hint,
			                 "%s are read only from files ending in .md; this one would be "
			                 "published as it is",
			                 in_cases ? "cases" : "pages");
			free(hint);
		} else if (in_cases && md) {
			size_t sl = strlen(name) - 3;
			if (sl == 5 && strncmp(name, "index", 5) == 0) {
				rc = cb_diag_add(diags, CB_ERROR, "duplicate-slug", path, 0, 0,
				                 "rename the file after the case, e.g. its title's words",
				                 "the slug 'index' is taken: cases/index.html is the list of "
				                 "all cases");
			} else if (!cb_path_is_slug(name, sl)) {
				char *s = suggest_slug(name);
				char *hint = *s ? cb_xasprintf("rename it to %s.md", s) : NULL;
				rc = cb_diag_add(diags, CB_ERROR, "bad-slug", path, 0, 0, hint,
				                 "case file names may only use a-z, 0-9 and '-' (the name is "
				                 "the page's address)");
				free(hint);
				free(s);
			} else {
				add_job(j, path, CB_DOC_CASE);
			}
		} else if (in_pages && md) {
			size_t sl = strlen(name) - 3;
			if (!cb_path_is_slug(name, sl)) {
				char *s = suggest_slug(name);
				char *hint = *s ? cb_xasprintf("rename it to %s.md", s) : NULL;
				rc = cb_diag_add(diags, CB_ERROR, "bad-slug", path, 0, 0, hint,
				                 "page file names may only use a-z, 0-9 and '-'");
				free(hint);
				free(s);
			} else {
				add_job(j, path, CB_DOC_PAGE);
			}
		} else if (in_tax && (strcmp(cb_path_ext(name), ".yml") == 0 ||
		                      strcmp(cb_path_ext(name), ".yaml") == 0)) {
			if (load_taxonomy(site, path, name) < 0)
				rc = -1;
		} else if ((md || md_other) && strncmp(dir, "content/cases", 13) == 0) {
			rc = cb_diag_add(diags, CB_ERROR, "case-location", path, 0, 0,
			                 "move it to content/cases/",
			                 "case files must lie directly in content/cases, not in a "
			                 "sub-folder");
		} else if ((md || md_other) && stray_markdown(site, path) < 0) {
			rc = -1;
		} else {
			/* Any other file, stray Markdown included, is copied. */
			char *to = cb_doc_output_path(path);
			cb_site_add_file(site, path, to);
			free(to);
		}
		free(path);
	}
	cb_fs_list_free(e, n);
	return rc;
}

/* Links to files and images must point at something in the source. */
static int check_file_links(cb_site *site, cb_doc *doc)
{
	const cb_md *md = cb_doc_md(doc);
	size_t i;
	int rc = 0;

	for (i = 0; i < cb_md_link_count(md); i++) {
		const cb_md_link *l = cb_md_link_at(md, i);
		cb_fs_kind kind;
		char *to;

		if (l->kind != CB_LINK_FILE || !l->target)
			continue;
		if (cb_source_kind(cb_site_source(site), l->target, &kind) < 0 || kind != CB_FS_FILE) {
			rc = cb_diag_add(cb_site_diags(site), CB_ERROR, l->image ? "image-missing" : "file-missing",
			                 cb_doc_path(doc), l->line, l->col, NULL, "%s '%s' not found (%s)",
			                 l->image ? "image" : "linked file", l->url, l->target);
			continue;
		}
		/* Files under content/ are copied anyway; others on demand. */
		to = cb_doc_output_path(l->target);
		cb_site_add_file(site, l->target, to);
		free(to);
	}
	return rc;
}

/* A front-matter key of a case that neither the schema nor a vocabulary (its
 * `field`) knows, but that is close to one of theirs (`initator`, `phase`,
 * `coproducer-role`), is a warning naming it: its value would be ignored
 * without a word. Other keys are the handbook's own, left alone. */
static void check_case_fields(cb_site *site)
{
	size_t nt = cb_site_taxonomy_count(site), n = 0, i, k;
	const char **names;
	cb_config_keys ck = {"unknown-field", NULL, "field", NULL, NULL, 1};

	while (cb_schema_fields[n])
		n++;
	names = cb_xcalloc(n + nt + 1, sizeof *names);
	memcpy(names, cb_schema_fields, n * sizeof *names);
	for (i = 0; i < nt; i++) {
		const char *f = cb_value_cstr(
		    cb_value_getc(cb_site_taxonomy_at(site, i, NULL, NULL), "field"));
		if (f)
			names[n++] = f;
	}
	ck.known = names;
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_value *meta = cb_doc_meta(cb_site_case(site, i));

		ck.path = cb_doc_path(cb_site_case(site, i));
		for (k = 0; cb_value_type(meta) == CB_MAP && k < cb_value_len(meta); k++)
			cb_config_key(cb_site_diags(site), &ck, meta, k);
	}
	free(names);
}

/* Case d's title is case other's, once both are slugs: an error at d's
 * title naming other. Returns -1. */
static int same_title(cb_diag_list *diags, const cb_doc *d, const cb_doc *other)
{
	const cb_value *tv = cb_value_getc(cb_doc_meta(d), "title");

	return cb_diag_add(diags, CB_ERROR, "duplicate-title", cb_doc_path(d), cb_value_line(tv),
	                   cb_value_col(tv), "give each case a title of its own",
	                   "%s has the same title", cb_doc_path(other));
}

/* A content file copied to the address of a page would overwrite it (or be
 * overwritten): content/cases/a.html against content/cases/a.md, or
 * content/index.html against the home page. */
static int check_output_paths(cb_site *site)
{
	cb_value *taken = cb_value_new_map();
	size_t i;
	int rc = 0;

	cb_value_setc(taken, "index.html", cb_value_new_cstr("the home page"));
	cb_value_setc(taken, "cases/index.html", cb_value_new_cstr("the list of all cases"));
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_doc *d = cb_site_case(site, i);
		cb_value_setc(taken, cb_doc_url(d), cb_value_new_printf("the page of %s", cb_doc_path(d)));
	}
	for (i = 0; i < cb_site_page_count(site); i++) {
		const cb_doc *d = cb_site_page(site, i);
		if (strcmp(cb_doc_slug(d), "index") != 0)
			cb_value_setc(taken, cb_doc_url(d),
			              cb_value_new_printf("the page of %s", cb_doc_path(d)));
	}
	for (i = 0; i < cb_site_file_count(site); i++) {
		const char *from, *to;
		const cb_value *who;

		cb_site_file_at(site, i, &from, &to);
		who = cb_value_getc(taken, to);
		if (who)
			rc = cb_diag_add(cb_site_diags(site), CB_ERROR, "duplicate-path", from, 0, 0,
			                 "rename or move the file",
			                 "this file would be published as %s, which is %s", to,
			                 cb_value_cstr(who));
	}
	cb_value_unref(taken);
	return rc;
}

int cb_load(cb_site *site, const cb_load_opts *opts)
{
	cb_diag_list *diags = cb_site_diags(site);
	jobs j;
	size_t i;
	int rc = 0;
	cb_fs_kind kind;
	cb_value *titles;

	memset(&j, 0, sizeof j);
	j.site = site;
	j.opts = opts;
	j.dopts.unsafe_html = cb_config_unsafe_html(cb_site_config(site));
	j.dopts.reserved_ids = cb_load_reserved_ids;
	j.dopts.find_word = CB_LINT_PLACEHOLDER;
	pthread_mutex_init(&j.lock, NULL);
	atomic_init(&j.done, 0);

	if (cb_source_kind(cb_site_source(site), "content", &kind) < 0 || kind != CB_FS_DIR) {
		rc = cb_diag_error(diags, "no-content", NULL, 0, 0,
		                   "no content/ folder in the source (cases go in content/cases/)");
		goto out;
	}
	if (walk(site, &j, "content") < 0)
		rc = -1;
	run_jobs(&j);
	if (j.failed)
		rc = -1;
	for (i = 0; i < j.len; i++) {
		if (j.v[i].doc)
			cb_site_add_doc(site, j.v[i].doc);
		free(j.v[i].path);
	}
	cb_site_seal(site);

	/* Titles must tell cases apart, also to a reader who does not notice
	 * case, accents or punctuation: they are compared by their slugs. Every
	 * case of a pair is told, so a check of either file alone fails. */
	titles = cb_value_new_map(); /* slug -> the first case's index; -1 - it once told */
	for (i = 0; i < cb_site_case_count(site); i++) {
		cb_doc *d = cb_site_case(site, i);
		const cb_value *tv = cb_value_getc(cb_doc_meta(d), "title");
		const char *t = cb_value_cstr(tv);
		const cb_value *seen;
		cb_buf key = CB_BUF_INIT;
		long long first;

		if (!t || cb_lint_has_placeholder(t, strlen(t)))
			continue;
		cb_utf8_slug(&key, t, strlen(t));
		if (key.len == 0) {
			cb_buf_dispose(&key);
			continue;
		}
		seen = cb_value_getc(titles, key.ptr);
		if (!seen) {
			cb_value_setc(titles, key.ptr, cb_value_new_int((long long)i));
		} else {
			first = cb_value_int(seen);
			if (first < 0) {
				first = -1 - first;
			} else { /* the first case of the title, told once */
				same_title(diags, cb_site_case(site, (size_t)first), d);
				cb_value_setc(titles, key.ptr, cb_value_new_int(-1 - first));
			}
			rc = same_title(diags, d, cb_site_case(site, (size_t)first));
		}
		cb_buf_dispose(&key);
	}
	cb_value_unref(titles);
	check_case_fields(site);
	if (check_output_paths(site) < 0)
		rc = -1;
	for (i = 0; i < cb_site_case_count(site); i++)
		if (check_file_links(site, cb_site_case(site, i)) < 0)
			rc = -1;
	for (i = 0; i < cb_site_page_count(site); i++)
		if (check_file_links(site, cb_site_page(site, i)) < 0)
			rc = -1;
out:
	free(j.v);
	pthread_mutex_destroy(&j.lock);
	return rc;
}
