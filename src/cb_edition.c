/*
 * cb_edition: editions and history (see cb_edition.h).
 */
#include "cb_edition.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_git.h"
#include "cb_history.h"
#include "cb_mem.h"

#define DEFAULT_GLOB "edition-*"
#define CASES_DIR "content/cases"

typedef struct edition {
	char *name;     /* folder name under editions/ */
	char *ref;      /* the tag, or the ref as configured */
	char commit[CB_OID_HEXSZ + 1];
	char date[11];
	char *note;     /* NULL if none */
	char *prefix;   /* "editions/<name>/" */
} edition;

typedef struct switch_ctx {
	cb_editions *e;
	size_t k;
} switch_ctx;

struct cb_editions {
	cb_git_repo *repo; /* NULL without a repository */
	edition *v;        /* oldest first */
	size_t n;
	int latest_head;   /* latest: HEAD */
	int has_head;
	char head[CB_OID_HEXSZ + 1];
	char head_date[11];
	cb_history *history; /* tips: v[0..n), then HEAD */
	size_t head_tip;     /* HEAD's tip in history */
	cb_value **pages;    /* per site: path -> true */
	switch_ctx *sw;      /* per site */
	/* Per site, from its history: renamed cases. former: slug -> [earlier
	 * slugs, newest first]; later: earlier slug -> slug (NULL: none). */
	cb_value **former, **later;
};

static const char *const edition_keys[] = {"tags", "list", "latest", NULL};
static const char *const entry_keys[] = {"name", "ref", "date", "note", NULL};

/* ---- configuration ------------------------------------------------------- */

/* A folder name: letters, digits, '.', '_', '-'; not starting with '.'. */
static int name_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > 100 || s[0] == '.' || strcmp(s, "index.html") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

/* The text of a scalar (a string, a number, a date), or NULL. Caller frees. */
static char *scalar_text(const cb_value *v)
{
	cb_buf b = CB_BUF_INIT;

	switch (cb_value_type(v)) {
	case CB_STRING:
	case CB_INT:
	case CB_FLOAT:
	case CB_DATE:
		cb_value_text(v, &b);
		return cb_buf_detach(&b);
	default:
		return NULL;
	}
}

static void unknown_keys(const cb_value *map, const char *const *known, const char *what,
                         cb_diag_list *diags)
{
	cb_config_keys k = {"config-unknown-key", CB_CONFIG_FILE, "key", what, known, 0};
	size_t i;

	for (i = 0; i < cb_value_len(map); i++)
		cb_config_key(diags, &k, map, i);
}

static void add_edition(cb_editions *e, const char *name, const char *ref, const char *commit,
                        const char *date, const char *note)
{
	edition *ed;

	e->v = cb_xreallocarray(e->v, e->n + 1, sizeof *e->v);
	ed = &e->v[e->n++];
	memset(ed, 0, sizeof *ed);
	ed->name = cb_xstrdup(name);
	ed->ref = cb_xstrdup(ref);
	snprintf(ed->commit, sizeof ed->commit, "%s", commit);
	snprintf(ed->date, sizeof ed->date, "%s", date);
	ed->note = note && *note ? cb_xstrdup(note) : NULL;
	ed->prefix = cb_xasprintf("editions/%s/", name);
}

static int find_edition(const cb_editions *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Whether s is written YYYY-MM-DD exactly: "23-11-2026" is no date (sscanf
 * alone would read the year 23), nor is "2027-1-5". */
static int iso_date_text(const char *s)
{
	size_t k;

	for (k = 0; k < 10; k++)
		if (k == 4 || k == 7 ? s[k] != '-' : !isdigit((unsigned char)s[k]))
			return 0;
	return s[10] == '\0';
}

/* A date written YYYY-MM-DD (a YAML date or a string), into out[11]. */
static int date_of(const cb_value *v, char *out)
{
	int y, m, d;
	cb_value *date = NULL;
	cb_buf b = CB_BUF_INIT;

	if (cb_value_type(v) == CB_STRING) {
		const char *s = cb_value_cstr(v);
		if (iso_date_text(s) && sscanf(s, "%4d-%2d-%2d", &y, &m, &d) == 3)
			date = cb_value_new_date(y, m, d);
	} else if (cb_value_date(v, &y, &m, &d)) {
		date = cb_value_ref((cb_value *)v);
	}
	if (!date)
		return -1;
	cb_value_text(date, &b);
	cb_value_unref(date);
	if (b.len != 10) {
		cb_buf_dispose(&b);
		return -1;
	}
	memcpy(out, b.ptr, 11);
	cb_buf_dispose(&b);
	return 0;
}

/* The listed editions. Returns -1 if any entry is wrong (all reported). */
static int read_list(cb_editions *e, const cb_value *list, cb_diag_list *diags)
{
	size_t i;
	int rc = 0;

	if (cb_value_type(list) != CB_LIST)
		return cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(list),
		                     cb_value_col(list),
		                     "editions.list must be a list of {name, ref, date, note}");
	for (i = 0; i < cb_value_len(list); i++) {
		const cb_value *it = cb_value_at(list, i);
		const cb_value *vn = cb_value_getc(it, "name"), *vr = cb_value_getc(it, "ref");
		const cb_value *vd = cb_value_getc(it, "date"), *vnote = cb_value_getc(it, "note");
		char *name = NULL, *ref = NULL, date[11] = "";
		char id[CB_OID_HEXSZ + 1];
		cb_git_time when;

		if (cb_value_type(it) != CB_MAP) {
			rc = cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(it),
			                   cb_value_col(it),
			                   "each edition must be a mapping like { name: \"2025\", ref: "
			                   "edition-2025 }");
			continue;
		}
		unknown_keys(it, entry_keys, "an edition", diags);
		name = scalar_text(vn);
		ref = scalar_text(vr);
		if (!name) {
			rc = cb_diag_error(diags, "edition-name", CB_CONFIG_FILE, cb_value_line(it),
			                   cb_value_col(it), "this edition has no name");
		} else if (!name_ok(name)) {
			rc = cb_diag_add(diags, CB_ERROR, "edition-name", CB_CONFIG_FILE,
			                 cb_value_line(vn), cb_value_col(vn),
			                 "use letters, digits, '.', '_' and '-' (it names the edition's "
			                 "folder, editions/NAME/)",
			                 "edition name '%s' cannot be a folder name", name);
		} else if (find_edition(e, name) >= 0) {
			rc = cb_diag_error(diags, "edition-name", CB_CONFIG_FILE, cb_value_line(vn),
			                   cb_value_col(vn), "edition '%s' is listed twice", name);
		}
		if (!ref) {
			rc = cb_diag_add(diags, CB_ERROR, "edition-ref", CB_CONFIG_FILE, cb_value_line(it),
			                 cb_value_col(it), "give a tag, a branch or a commit id",
			                 "edition '%s' has no ref", name ? name : "");
		}
		if (vd && cb_value_type(vd) != CB_NULL && date_of(vd, date) < 0) {
			rc = cb_diag_error(diags, "config-value", CB_CONFIG_FILE, cb_value_line(vd),
			                   cb_value_col(vd), "an edition's date must be a date like 2025-06-01");
			date[0] = '\0';
		}
		if (vnote && cb_value_type(vnote) != CB_STRING && cb_value_type(vnote) != CB_NULL) {
			rc = cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(vnote),
			                   cb_value_col(vnote), "an edition's note must be a string");
		}
		if (rc == 0 && name && ref && e->repo) {
			int found = cb_git_resolve(e->repo, ref, id, &when) == 0;

			if (!found && cb_git_repo_is_shallow(e->repo)) {
				/* Most likely beyond the cut of a shallow clone (CI
				 * checkouts): build without it rather than fail. */
				cb_diag_add(diags, CB_WARNING, "edition-shallow", CB_CONFIG_FILE,
				            cb_value_line(vr), cb_value_col(vr),
				            "fetch the whole history (git fetch --unshallow) to build it",
				            "edition '%s': '%s' is not in this shallow clone; the "
				            "edition is left out", name, ref);
			} else if (!found) {
				rc = cb_diag_add(diags, CB_ERROR, "edition-ref", CB_CONFIG_FILE,
				                 cb_value_line(vr), cb_value_col(vr),
				                 "give a tag, a branch or a commit id of this repository "
				                 "(quote commit ids made only of digits)",
				                 "edition '%s': '%s' does not name a commit", name, ref);
			} else {
				if (!date[0])
					cb_git_time_date(when, date);
				add_edition(e, name, ref, id, date, cb_value_cstr(vnote));
			}
		}
		free(name);
		free(ref);
	}
	return rc;
}

/* The editions tags make, unless listed under the same name. */
static int read_tags(cb_editions *e, const char *glob, size_t listed, cb_diag_list *diags)
{
	cb_git_tag *tags = NULL;
	size_t i, n = 0, plen = strcspn(glob, "*?[\\");
	int rc;

	if ((rc = cb_git_tags(e->repo, glob, &tags, &n, diags)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		const char *name = tags[i].name;
		char date[11];
		long k;

		if (plen && strncmp(name, glob, plen) == 0 && name[plen])
			name += plen;
		if (!name_ok(name)) {
			cb_diag_add(diags, CB_WARNING, "edition-name", NULL, 0, 0,
			            "rename the tag, or list the edition under editions.list with a name",
			            "tag '%s' is left out of the editions: '%s' cannot be a folder name",
			            tags[i].name, name);
			continue;
		}
		k = find_edition(e, name);
		if (k >= 0 && (size_t)k < listed)
			continue; /* the list says more about it */
		cb_git_time_date(tags[i].when, date);
		add_edition(e, name, tags[i].name, tags[i].commit, date, tags[i].message);
	}
	cb_git_tags_free(tags, n);
	return 0;
}

static int cmp_edition(const void *a, const void *b)
{
	const edition *x = a, *y = b;
	int c = strcmp(x->date, y->date);

	return c ? c : strcmp(x->name, y->name);
}

/* ---- opening --------------------------------------------------------------- */

static int read_history(cb_editions *e, cb_diag_list *diags)
{
	const char **tips = cb_xcalloc(e->n + 1, sizeof *tips);
	cb_git_log *log = NULL;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < e->n; i++)
		tips[n++] = e->v[i].commit;
	if (e->has_head)
		tips[n++] = e->head;
	rc = cb_git_log_read(&log, e->repo, tips, n, CASES_DIR, diags);
	if (rc == 0) {
		if (log->shallow || cb_git_repo_is_shallow(e->repo))
			cb_diag_add(diags, CB_WARNING, "git-shallow", NULL, 0, 0,
			            "fetch the whole history (git fetch --unshallow) for full dates",
			            "the repository is a shallow clone: case histories stop where it "
			            "does, and 'added' dates of older cases are unknown");
		/* The last tip is HEAD when there is one. */
		e->history = cb_history_new(log, tips, n);
		e->head_tip = e->n;
	}
	cb_git_log_free(log);
	free(tips);
	return rc;
}

static void drop_editions(cb_editions *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].ref);
		free(e->v[i].note);
		free(e->v[i].prefix);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
	e->latest_head = 0;
}

/* The slug of a case file path ("content/cases/a.md" -> "a"), or NULL.
 * Caller frees. */
static char *case_slug(const char *path)
{
	size_t len = strlen(path), pre = strlen(CASES_DIR "/");

	if (len <= pre + 3 || strncmp(path, CASES_DIR "/", pre) != 0 ||
	    strcmp(path + len - 3, ".md") != 0 || memchr(path + pre, '/', len - pre))
		return NULL;
	return cb_xstrndup(path + pre, len - pre - 3);
}

/* Site k's renamed cases, from the history of its tip. */
static void read_renames(cb_editions *e, size_t k)
{
	size_t i, j, tip = k < e->n ? k : e->head_tip;
	const cb_value *h;
	const char *path;

	e->former[k] = cb_value_new_map();
	e->later[k] = cb_value_new_map();
	if (!e->history || (k == e->n && !e->has_head))
		return;
	for (i = 0; (h = cb_history_at(e->history, tip, i, &path)) != NULL; i++) {
		const cb_value *entries = cb_value_getc(h, "entries");
		char *slug = case_slug(path);
		cb_value *list = NULL;

		for (j = 0; slug && j < cb_value_len(entries); j++) {
			const char *from = cb_value_cstr(cb_value_getc(cb_value_at(entries, j), "from"));
			char *old = from ? case_slug(from) : NULL;

			if (old && strcmp(old, slug) != 0) {
				if (!list) {
					list = cb_value_new_list();
					cb_value_setc(e->former[k], slug, list);
				}
				cb_value_push(list, cb_value_new_cstr(old));
				if (!cb_value_getc(e->later[k], old))
					cb_value_setc(e->later[k], old, cb_value_new_cstr(slug));
			}
			free(old);
		}
		free(slug);
	}
}

/* Room for each site's page list and switcher context, and its renames. */
static void make_site_slots(cb_editions *e)
{
	size_t i;

	e->pages = cb_xcalloc(e->n + 1, sizeof *e->pages);
	e->sw = cb_xcalloc(e->n + 1, sizeof *e->sw);
	e->former = cb_xcalloc(e->n + 1, sizeof *e->former);
	e->later = cb_xcalloc(e->n + 1, sizeof *e->later);
	for (i = 0; i <= e->n; i++) {
		e->pages[i] = cb_value_new_map();
		e->sw[i].e = e;
		e->sw[i].k = i;
		read_renames(e, i);
	}
}

static void free_renames(cb_editions *e)
{
	size_t i;

	for (i = 0; e->former && i <= e->n; i++) {
		cb_value_unref(e->former[i]);
		cb_value_unref(e->later[i]);
	}
	free(e->former);
	free(e->later);
	e->former = e->later = NULL;
}

int cb_editions_open(cb_editions **out, const char *source_dir, const cb_config *cfg,
                     int check_only, cb_diag_list *diags)
{
	cb_editions *e = cb_xcalloc(1, sizeof *e);
	const cb_value *ed = cb_config_editions(cfg);
	const cb_value *v;
	const char *glob = DEFAULT_GLOB;
	size_t listed = 0;
	int rc = 0, r;
	cb_git_time when;

	*out = NULL;
	/* The configuration first: it is wrong or right with or without git. */
	if (ed) {
		unknown_keys(ed, edition_keys, "editions", diags);
		v = cb_value_getc(ed, "tags");
		if (cb_value_type(v) == CB_STRING && cb_value_cstr(v)[0])
			glob = cb_value_cstr(v);
		else if (cb_value_type(v) == CB_NULL || (cb_value_type(v) == CB_BOOL && !cb_value_bool(v)))
			glob = v ? NULL : DEFAULT_GLOB;
		else
			rc = cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v),
			                   cb_value_col(v),
			                   "editions.tags must be a glob like \"edition-*\" (or false)");
		v = cb_value_getc(ed, "latest");
		if (v && cb_value_type(v) != CB_NULL) {
			const char *s = cb_value_cstr(v);
			if (s && strcmp(s, "HEAD") == 0)
				e->latest_head = 1;
			else if (!s || strcmp(s, "worktree") != 0)
				rc = cb_diag_add(diags, CB_ERROR, "config-value", CB_CONFIG_FILE,
				                 cb_value_line(v), cb_value_col(v),
				                 "worktree builds the files as they are; HEAD, the last commit",
				                 "editions.latest must be worktree or HEAD");
		}
	}

	r = cb_git_repo_open(&e->repo, source_dir, diags);
	if (r == CB_GIT_ENOREPO && !check_only)
		cb_diag_add(diags, CB_WARNING, "no-git", NULL, 0, 0,
		            "build from a clone of the handbook's repository for dates, authors and "
		            "editions",
		            "the source is not in a git repository: building the working tree alone, "
		            "without history or editions");
	if (r == CB_GIT_EOWNER && !check_only)
		cb_diag_add(diags, CB_WARNING, "git-owner", NULL, 0, 0,
		            "if you trust it: git config --global --add safe.directory <folder>",
		            "the git repository of %s belongs to another user, and git's "
		            "safe.directory setting does not name it: building the working tree alone, "
		            "without history or editions", source_dir);
	if (r < 0 && r != CB_GIT_ENOREPO && r != CB_GIT_EOWNER)
		rc = -1;
	if (e->repo) {
		e->has_head = cb_git_resolve(e->repo, "HEAD", e->head, &when) == 0;
		if (e->has_head) {
			cb_git_time_date(when, e->head_date);
		} else if (e->latest_head) {
			v = cb_value_getc(ed, "latest");
			rc = cb_diag_error(diags, "config-value", CB_CONFIG_FILE, cb_value_line(v),
			                   cb_value_col(v),
			                   "editions.latest is HEAD, but the repository has no commit yet");
		}
	} else {
		e->latest_head = 0;
	}

	/* Listed editions are checked with or without a repository. */
	v = ed ? cb_value_getc(ed, "list") : NULL;
	if (v && cb_value_type(v) != CB_NULL && read_list(e, v, diags) < 0)
		rc = -1;
	listed = e->n;
	if (e->repo && glob && read_tags(e, glob, listed, diags) < 0)
		rc = -1;
	if (e->n > 1)
		qsort(e->v, e->n, sizeof *e->v, cmp_edition);
	if (rc < 0 || check_only) {
		/* Build nothing but the working tree: so that loading it still
		 * reports what else is wrong, and so that check reads the files
		 * as they are, whatever the editions and `latest` say. */
		drop_editions(e);
		if (check_only)
			e->latest_head = 0;
	} else if (e->repo && !check_only && (e->n || e->has_head) && read_history(e, diags) < 0) {
		drop_editions(e);
		rc = -1;
	}
	make_site_slots(e);
	*out = e;
	return rc;
}

void cb_editions_free(cb_editions *e)
{
	size_t i;

	if (!e)
		return;
	if (e->pages)
		for (i = 0; i <= e->n; i++)
			cb_value_unref(e->pages[i]);
	free_renames(e);
	drop_editions(e);
	free(e->pages);
	free(e->sw);
	cb_history_free(e->history);
	cb_git_repo_free(e->repo);
	free(e);
}

void cb_editions_drop(cb_editions *e)
{
	size_t i;

	for (i = 1; i <= e->n; i++)
		cb_value_unref(e->pages[i]);
	/* Site 0 is now the latest: no edition, nothing renamed between. */
	free_renames(e);
	drop_editions(e);
}

size_t cb_editions_count(const cb_editions *e) { return e->n; }

const char *cb_editions_name(const cb_editions *e, size_t k)
{
	return k < e->n ? e->v[k].name : "latest";
}

const char *cb_editions_prefix(const cb_editions *e, size_t k)
{
	return k < e->n ? e->v[k].prefix : "";
}

const char *cb_editions_ref(const cb_editions *e, size_t k)
{
	if (k < e->n)
		return e->v[k].ref;
	return e->latest_head ? "HEAD" : NULL;
}

int cb_editions_source(cb_editions *e, size_t k, cb_source **out, cb_diag_list *diags)
{
	*out = NULL;
	if (k < e->n)
		return cb_git_source_open(out, e->repo, e->v[k].commit, e->v[k].ref, diags);
	if (e->latest_head && e->has_head)
		return cb_git_source_open(out, e->repo, e->head, "HEAD", diags);
	return 1;
}

void cb_editions_set_history(const cb_editions *e, size_t k, cb_site *site)
{
	size_t i, tip;

	if (!e->history)
		return;
	if (k < e->n)
		tip = k;
	else if (e->has_head)
		tip = e->head_tip;
	else
		return;
	for (i = 0; i < cb_site_case_count(site); i++) {
		cb_doc *doc = cb_site_case(site, i);
		const cb_value *h = cb_history_get(e->history, tip, cb_doc_path(doc));
		if (h)
			cb_doc_set_var(doc, "history", cb_value_ref((cb_value *)h));
	}
}

/* ---- links between editions ------------------------------------------------ */

/* The site path prefix from site k's root to site m's root. Caller frees. */
static char *root_from(const cb_editions *e, size_t k, size_t m)
{
	if (k == m)
		return cb_xstrdup("");
	if (k == e->n)
		return cb_xstrdup(e->v[m].prefix);
	if (m == e->n)
		return cb_xstrdup("../../");
	return cb_xasprintf("../%s/", e->v[m].name);
}

static const char *site_title(const cb_editions *e, size_t k)
{
	return k < e->n ? e->v[k].name : "Latest";
}

static const char *site_date(const cb_editions *e, size_t k)
{
	if (k < e->n)
		return e->v[k].date;
	return e->latest_head && e->has_head ? e->head_date : "";
}

/* {name, title, date, note, latest} of site k. */
static cb_value *site_info(const cb_editions *e, size_t k)
{
	cb_value *s = cb_value_new_map();

	cb_value_set_str(s, "name", cb_editions_name(e, k));
	cb_value_set_str(s, "title", site_title(e, k));
	if (*site_date(e, k))
		cb_value_set_str(s, "date", site_date(e, k));
	if (k < e->n && e->v[k].note)
		cb_value_set_str(s, "note", e->v[k].note);
	if (k < e->n && strcmp(e->v[k].ref, e->v[k].name) != 0)
		cb_value_set_str(s, "ref", e->v[k].ref);
	cb_value_set_bool(s, "latest", k == e->n);
	return s;
}

/* The path in site m of page `path` of site k: the page itself, or the same
 * case under the name it had or was given between the two (its history
 * follows renames). NULL when site m has neither. Caller frees. */
static char *page_in(const cb_editions *e, size_t k, size_t m, const char *path)
{
	size_t len = strlen(path), i;
	const cb_value *former, *to;
	char *slug, *found = NULL;

	if (cb_value_getc(e->pages[m], path))
		return cb_xstrdup(path);
	if (!e->former || len <= 11 || strncmp(path, "cases/", 6) != 0 ||
	    strcmp(path + len - 5, ".html") != 0)
		return NULL;
	slug = cb_xstrndup(path + 6, len - 11);
	former = cb_value_getc(e->former[k], slug);
	/* Renamed after site k, in site m: m's history knows the old name. */
	to = cb_value_getc(e->later[m], slug);
	if (to)
		found = cb_xasprintf("cases/%s.html", cb_value_cstr(to));
	/* Renamed before site k: the names it had. */
	for (i = 0; i < cb_value_len(former); i++) {
		if (found && cb_value_getc(e->pages[m], found))
			break;
		free(found);
		found = cb_xasprintf("cases/%s.html", cb_value_cstr(cb_value_at(former, i)));
	}
	free(slug);
	if (found && !cb_value_getc(e->pages[m], found)) {
		free(found);
		found = NULL;
	}
	return found;
}

static cb_value *switcher(void *ctx, const char *path)
{
	const switch_ctx *sc = ctx;
	const cb_editions *e = sc->e;
	cb_value *v = cb_value_new_map(), *items = cb_value_new_list();
	size_t m;

	cb_value_setc(v, "current", site_info(e, sc->k));
	/* The latest first, then the editions, newest first. */
	for (m = e->n + 1; m-- > 0;) {
		cb_value *it = site_info(e, m);
		char *root = root_from(e, sc->k, m);
		char *there = page_in(e, sc->k, m, path);

		cb_value_setc(it, "url", cb_value_new_printf("%s%s", root, there ? there : "index.html"));
		cb_value_set_bool(it, "exists", there != NULL);
		cb_value_set_bool(it, "current", m == sc->k);
		cb_value_push(items, it);
		free(there);
		free(root);
	}
	cb_value_setc(v, "items", items);
	cb_value_set_str(v, "index_url", sc->k == e->n ? "editions/index.html" : "../index.html");
	cb_value_set_str(v, "changes_url", "changes.html");
	return v;
}

void cb_editions_set_pages(cb_editions *e, size_t k, const cb_render *r)
{
	size_t i;

	for (i = 0; i < cb_render_page_count(r); i++)
		cb_value_setc(e->pages[k], cb_render_page_path(r, i), cb_value_new_bool(1));
}

void cb_editions_render_opts(cb_editions *e, size_t k, cb_render_opts *opts)
{
	if (e->n == 0)
		return;
	opts->editions = switcher;
	opts->editions_ctx = &e->sw[k];
}

/* ---- what changed ---------------------------------------------------------- */

/* The HTML of section i's own blocks (without its sub-sections). */
static void section_own_html(const cb_md *md, size_t i, cb_buf *out)
{
	const cb_md_section *s = cb_md_section_at(md, i);
	size_t end = s->end;

	if (i + 1 < cb_md_section_count(md) && cb_md_section_at(md, i + 1)->block < end)
		end = cb_md_section_at(md, i + 1)->block;
	cb_md_html_range(md, s->block, end, out);
}

static long section_by_id(const cb_md *md, const char *id)
{
	size_t i;

	for (i = 0; i < cb_md_section_count(md); i++)
		if (strcmp(cb_md_section_at(md, i)->id, id) == 0)
			return (long)i;
	return -1;
}

static void push_change(cb_value *list, const char *key, const char *name, const char *change)
{
	cb_value *c = cb_value_new_map();

	cb_value_set_str(c, key, name);
	cb_value_set_str(c, "change", change);
	cb_value_push(list, c);
}

/* {fields, sections} that differ between the two versions of a case. */
static void diff_case(const cb_doc *a, const cb_doc *b, cb_value *item)
{
	const cb_value *ma = cb_doc_meta(a), *mb = cb_doc_meta(b);
	const cb_md *da = cb_doc_md(a), *db = cb_doc_md(b);
	cb_value *fields = cb_value_new_list(), *sections = cb_value_new_list();
	cb_buf names = CB_BUF_INIT;
	size_t i;

	for (i = 0; i < cb_value_len(mb); i++) {
		const char *k = cb_value_key(mb, i, NULL);
		const cb_value *old = cb_value_getc(ma, k);
		if (!old)
			push_change(fields, "name", k, "added");
		else if (!cb_value_equal(old, cb_value_entry(mb, i)))
			push_change(fields, "name", k, "changed");
	}
	for (i = 0; i < cb_value_len(ma); i++) {
		const char *k = cb_value_key(ma, i, NULL);
		if (!cb_value_getc(mb, k))
			push_change(fields, "name", k, "removed");
	}
	for (i = 0; i < cb_value_len(fields); i++) {
		if (i)
			cb_buf_puts(&names, ", ");
		cb_buf_puts(&names, cb_value_cstr(cb_value_getc(cb_value_at(fields, i), "name")));
	}
	for (i = 0; i < cb_md_section_count(db); i++) {
		const cb_md_section *s = cb_md_section_at(db, i);
		long j = section_by_id(da, s->id);
		cb_value *c;

		if (j < 0) {
			c = cb_value_new_map();
			cb_value_set_str(c, "change", "added");
		} else {
			cb_buf x = CB_BUF_INIT, y = CB_BUF_INIT;
			int same;
			section_own_html(da, (size_t)j, &x);
			section_own_html(db, i, &y);
			same = x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
			cb_buf_dispose(&x);
			cb_buf_dispose(&y);
			if (same)
				continue;
			c = cb_value_new_map();
			cb_value_set_str(c, "change", "changed");
		}
		cb_value_set_str(c, "title", s->title);
		cb_value_set_str(c, "id", s->id);
		cb_value_setc(c, "url", cb_value_new_printf("%s#%s", cb_doc_url(b), s->id));
		cb_value_push(sections, c);
	}
	for (i = 0; i < cb_md_section_count(da); i++) {
		const cb_md_section *s = cb_md_section_at(da, i);
		if (section_by_id(db, s->id) < 0) {
			cb_value *c = cb_value_new_map();
			cb_value_set_str(c, "title", s->title);
			cb_value_set_str(c, "id", s->id);
			cb_value_set_str(c, "change", "removed");
			cb_value_push(sections, c);
		}
	}
	cb_value_set_bool(item, "has_fields", cb_value_len(fields) > 0);
	cb_value_set_bool(item, "has_sections", cb_value_len(sections) > 0);
	cb_value_setc(item, "fields_text", cb_value_new_string(names.ptr, names.len));
	cb_value_setc(item, "fields", fields);
	cb_value_setc(item, "sections", sections);
	cb_buf_dispose(&names);
}

static cb_value *case_item(const cb_doc *d, const char *root)
{
	cb_value *it = cb_value_new_map();

	cb_value_set_str(it, "slug", cb_doc_slug(d));
	cb_value_set_str(it, "title", cb_doc_title(d));
	cb_value_setc(it, "url", cb_value_new_printf("%s%s", root, cb_doc_url(d)));
	return it;
}

/* The case of prev that case b of site k was called before it was renamed
 * (and whose name site k no longer has), or NULL. */
static const cb_doc *renamed_from(const cb_editions *e, size_t k, const cb_site *site,
                                  const cb_site *prev, const cb_doc *b, int *renamed)
{
	const cb_value *former = e->former ? cb_value_getc(e->former[k], cb_doc_slug(b)) : NULL;
	size_t i;

	for (i = 0; i < cb_value_len(former); i++) {
		const char *old = cb_value_cstr(cb_value_at(former, i));
		const cb_doc *a = cb_site_case_by_slug(prev, old);
		if (a && !cb_site_case_by_slug(site, old)) {
			*renamed = 1;
			return a;
		}
	}
	return NULL;
}

/* The data of site k's changes page, against site p (or none: p == k). */
static cb_value *changes_data(const cb_editions *e, size_t k, size_t p, const cb_site *site,
                              const cb_site *prev)
{
	cb_value *d = cb_value_new_map();
	cb_value *added = cb_value_new_list(), *removed = cb_value_new_list();
	cb_value *changed = cb_value_new_list();
	size_t i;

	cb_value_setc(d, "title", k == e->n ? cb_value_new_printf("Changes since edition %s",
	                                                          e->v[p].name)
	                                    : cb_value_new_printf("Changes in edition %s",
	                                                          e->v[k].name));
	cb_value_setc(d, "edition", site_info(e, k));
	if (!prev) {
		cb_value_set_bool(d, "first", 1);
		cb_value_set_int(d, "case_count", (long long)cb_site_case_count(site));
	} else {
		char *proot = root_from(e, k, p);
		cb_value *pi = site_info(e, p);

		cb_value_setc(pi, "url", cb_value_new_printf("%sindex.html", proot));
		cb_value_setc(pi, "changes_url", cb_value_new_printf("%schanges.html", proot));
		cb_value_setc(d, "previous", pi);
		cb_value *moved = cb_value_new_map(); /* earlier slugs of renamed cases */

		for (i = 0; i < cb_site_case_count(site); i++) {
			const cb_doc *b = cb_site_case(site, i);
			const cb_doc *a = cb_site_case_by_slug(prev, cb_doc_slug(b));
			int renamed = 0;

			if (!a)
				a = renamed_from(e, k, site, prev, b, &renamed);
			if (!a)
				cb_value_push(added, case_item(b, ""));
			else if (renamed || strcmp(cb_doc_blob_id(a), cb_doc_blob_id(b)) != 0 ||
			         strcmp(cb_doc_path(a), cb_doc_path(b)) != 0) {
				cb_value *it = case_item(b, "");
				diff_case(a, b, it);
				if (renamed) {
					cb_value_setc(it, "renamed_from", case_item(a, proot));
					cb_value_set_bool(moved, cb_doc_slug(a), 1);
				}
				cb_value_push(changed, it);
			}
		}
		for (i = 0; i < cb_site_case_count(prev); i++) {
			const cb_doc *a = cb_site_case(prev, i);
			if (!cb_site_case_by_slug(site, cb_doc_slug(a)) &&
			    !cb_value_getc(moved, cb_doc_slug(a)))
				cb_value_push(removed, case_item(a, proot));
		}
		cb_value_unref(moved);
		free(proot);
	}
	cb_value_set_int(d, "added_count", (long long)cb_value_len(added));
	cb_value_set_int(d, "removed_count", (long long)cb_value_len(removed));
	cb_value_set_int(d, "changed_count", (long long)cb_value_len(changed));
	cb_value_set_bool(d, "has_added", cb_value_len(added) > 0);
	cb_value_set_bool(d, "has_removed", cb_value_len(removed) > 0);
	cb_value_set_bool(d, "has_changed", cb_value_len(changed) > 0);
	cb_value_set_bool(d, "none", prev && cb_value_len(added) + cb_value_len(removed) +
	                                        cb_value_len(changed) == 0);
	cb_value_setc(d, "added", added);
	cb_value_setc(d, "removed", removed);
	cb_value_setc(d, "changed", changed);
	return d;
}

static cb_value *index_data(const cb_editions *e)
{
	cb_value *d = cb_value_new_map(), *list = cb_value_new_list();
	size_t m;

	cb_value_set_str(d, "title", "Editions");
	for (m = e->n + 1; m-- > 0;) {
		cb_value *it = site_info(e, m);
		char *root = root_from(e, e->n, m);
		cb_value_setc(it, "url", cb_value_new_printf("%sindex.html", root));
		cb_value_setc(it, "changes_url", cb_value_new_printf("%schanges.html", root));
		cb_value_push(list, it);
		free(root);
	}
	cb_value_setc(d, "edition_list", list);
	return d;
}

static void add_page(cb_site *site, const char *path, const char *tmpl, cb_value *data,
                     const char *label, cb_diag_list *diags)
{
	if (cb_site_add_page(site, path, tmpl, data, "casebook") < 0)
		cb_diag_warn(diags, "edition-page", NULL, 0, 0,
		             "%s%s already has a page %s (made by a plugin): the editions' page is "
		             "left out",
		             label ? "edition " : "the latest site", label ? label : "", path);
}

void cb_editions_add_site_pages(cb_editions *e, size_t k, cb_site *const *sites,
                                cb_diag_list *diags)
{
	size_t p = k == e->n ? e->n - 1 : k - 1;
	int first = k == 0;

	if (e->n == 0)
		return;
	add_page(sites[k], "changes.html", "changes",
	         changes_data(e, k, first ? k : p, sites[k], first ? NULL : sites[p]),
	         k < e->n ? e->v[k].name : NULL, diags);
	if (k == e->n)
		add_page(sites[e->n], "editions/index.html", "editions", index_data(e), NULL, diags);
}

void cb_editions_add_pages(cb_editions *e, cb_site *const *sites, cb_diag_list *diags)
{
	size_t k;

	for (k = 0; k <= e->n; k++)
		cb_editions_add_site_pages(e, k, sites, diags);
}

size_t cb_editions_previous(const cb_editions *e, size_t k)
{
	if (e->n == 0 || k == 0)
		return (size_t)-1;
	return k == e->n ? e->n - 1 : k - 1;
}

void cb_editions_describe(const cb_editions *e, cb_buf *out)
{
	size_t k;

	/* HEAD counts only when the latest is built from it (its date is
	 * shown); otherwise a new commit leaves the editions as they were. */
	if (e->latest_head)
		cb_buf_printf(out, "editions %zu latest HEAD %s %s\n", e->n,
		              e->has_head ? e->head : "-", e->head_date);
	else
		cb_buf_printf(out, "editions %zu latest worktree\n", e->n);
	for (k = 0; k < e->n; k++) {
		const edition *v = &e->v[k];
		cb_buf_printf(out, "edition %zu:%s %zu:%s %s %s ", strlen(v->name), v->name,
		              strlen(v->ref ? v->ref : ""), v->ref ? v->ref : "", v->commit, v->date);
		cb_buf_printf(out, "%zu:%s\n", v->note ? strlen(v->note) : 0, v->note ? v->note : "");
	}
}

void cb_editions_set_page_paths(cb_editions *e, size_t k, const char *const *paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cb_value_setc(e->pages[k], paths[i], cb_value_new_bool(1));
}

int cb_editions_has_page(const cb_editions *e, size_t k, const char *path)
{
	return e->pages && cb_value_getc(e->pages[k], path) != NULL;
}
