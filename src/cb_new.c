/*
 * cb_new: new case files from an archetype (see cb_new.h).
 */
#include "cb_new.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cb_config.h"
#include "cb_fs.h"
#include "cb_lint.h"
#include "cb_load.h"
#include "cb_mem.h"
#include "cb_path.h"
#include "cb_schema.h"
#include "cb_site.h"
#include "cb_source.h"
#include "cb_template.h"
#include "cb_text.h"
#include "cb_utf8.h"

#define ARCHETYPE "archetypes/case.md"

/* ---- small helpers ------------------------------------------------------- */

/* s without leading and trailing white space, as a new string. */
static char *trimmed(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return cb_xstrndup(s, len);
}

/* Split a comma-separated argument into trimmed, non-empty items (a list
 * value of strings). */
static cb_value *split(const char *arg)
{
	cb_value *list = cb_value_new_list();
	const char *p = arg;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *item = trimmed(p, len);

		if (*item)
			cb_value_push(list, cb_value_new_cstr(item));
		free(item);
		if (!comma)
			break;
		p = comma + 1;
	}
	return list;
}

/* Append s as a double-quoted YAML scalar. */
static void yaml_quoted(cb_buf *out, const char *s)
{
	cb_buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			cb_buf_putc(out, '\\');
		cb_buf_putc(out, *s);
	}
	cb_buf_putc(out, '"');
}

/* Is s printable text: valid UTF-8 without control characters? */
static int printable(const char *s)
{
	const char *p;

	if (!cb_utf8_check(s, strlen(s), NULL, NULL))
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static char *slug_of(const char *s)
{
	cb_buf b = CB_BUF_INIT;

	cb_utf8_slug(&b, s, strlen(s));
	return cb_buf_detach(&b);
}

/* A file name made from s: its slug with only a-z, 0-9 and '-' kept (a
 * slug keeps letters outside Latin, which case file names may not use),
 * runs of '-' made one. Caller frees; "" when nothing is left. */
static char *file_slug_of(const char *s)
{
	char *slug = slug_of(s), *out = slug;
	const char *p;

	for (p = slug; *p; p++) {
		int keep = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		if (keep)
			*out++ = *p;
		else if (out > slug && out[-1] != '-')
			*out++ = '-';
	}
	while (out > slug && out[-1] == '-')
		out--;
	*out = '\0';
	return slug;
}

/* ---- the given values ---------------------------------------------------- */

static int check_title(const char *title, cb_diag_list *diags)
{
	if (!*title)
		return cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0,
		                   "casebook new \"Parents co-run school meals in Milan\"",
		                   "the title is empty");
	if (!printable(title))
		return cb_diag_error(diags, "new", NULL, 0, 0,
		                     "the title must be UTF-8 text on one line");
	if (cb_lint_has_placeholder(title, strlen(title)))
		return cb_diag_error(diags, "new", NULL, 0, 0,
		                     "the title holds the placeholder word " CB_LINT_PLACEHOLDER);
	return 0;
}

/* The file name: the given slug, or one made from the title, cut at a
 * hyphen to CB_NEW_MAX_SLUG bytes. Caller frees; NULL after reporting. */
static char *make_slug(const cb_new_opts *o, const char *title, cb_diag_list *diags)
{
	char *slug;

	if (o->slug) {
		slug = cb_xstrdup(o->slug);
		if (strlen(slug) > 3 && strcmp(slug + strlen(slug) - 3, ".md") == 0)
			slug[strlen(slug) - 3] = '\0';
		if (!cb_path_is_slug(slug, strlen(slug))) {
			char *s = file_slug_of(slug);
			char *hint = *s ? cb_xasprintf("--slug %s", s) : NULL;
			cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, hint,
			            "the slug '%s' may only use a-z, 0-9 and '-'", o->slug);
			free(hint);
			free(s);
			free(slug);
			return NULL;
		}
	} else {
		slug = file_slug_of(title);
		if (!*slug) {
			free(slug);
			cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "give one with --slug",
			            "the title has no letters a-z or digits to make a file name from");
			return NULL;
		}
		if (strlen(slug) > CB_NEW_MAX_SLUG) {
			char *cut = slug + CB_NEW_MAX_SLUG;
			while (cut > slug && *cut != '-')
				cut--;
			*(cut > slug ? cut : slug + CB_NEW_MAX_SLUG) = '\0';
		}
	}
	if (strcmp(slug, "index") == 0) {
		cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "give another with --slug",
		            "the slug 'index' is taken: cases/index.html is the list of all cases");
		free(slug);
		return NULL;
	}
	return slug;
}

static int check_year(const char *arg, cb_value *ctx, cb_diag_list *diags)
{
	char *end;
	long y;

	errno = 0;
	y = strtol(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '+' || arg[0] == '-' || arg[0] == ' ')
		return cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "--year 2014",
		                   "--year must be a whole year, not '%s'", arg);
	if (y < CB_SCHEMA_MIN_YEAR || y > CB_SCHEMA_MAX_YEAR)
		return cb_diag_error(diags, "new", NULL, 0, 0, "year %ld is out of range (%d to %d)",
		                     y, CB_SCHEMA_MIN_YEAR, CB_SCHEMA_MAX_YEAR);
	cb_value_set_int(ctx, "year", y);
	return 0;
}

/* Countries the other cases name, by folded spelling -> spelling. */
static cb_value *known_countries(const cb_site *site)
{
	cb_value *known = cb_value_new_map();
	size_t i, k;

	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_value *c = cb_value_getc(cb_doc_meta(cb_site_case(site, i)), "country");
		size_t n = cb_value_type(c) == CB_LIST ? cb_value_len(c) : 1;

		for (k = 0; k < n; k++) {
			const char *s = cb_value_cstr(cb_value_type(c) == CB_LIST ? cb_value_at(c, k) : c);
			cb_buf f = CB_BUF_INIT;

			if (!s || cb_lint_has_placeholder(s, strlen(s)))
				continue;
			cb_utf8_fold(&f, s, strlen(s));
			if (!cb_value_getc(known, f.ptr))
				cb_value_setc(known, f.ptr, cb_value_new_cstr(s));
			cb_buf_dispose(&f);
		}
	}
	return known;
}

static int check_country(const char *arg, const cb_site *site, cb_value *ctx,
                         cb_diag_list *diags)
{
	cb_value *items = split(arg), *known = known_countries(site);
	cb_buf yaml = CB_BUF_INIT;
	size_t i, nk = cb_value_len(known);
	const char **keys = cb_xcalloc(nk + 1, sizeof(char *));
	int rc = 0;

	for (i = 0; i < nk; i++)
		keys[i] = cb_value_key(known, i, NULL);
	if (cb_value_len(items) == 0)
		rc = cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "--country Netherlands",
		                 "--country is empty");
	if (cb_value_len(items) > 1)
		cb_buf_putc(&yaml, '[');
	for (i = 0; i < cb_value_len(items) && rc == 0; i++) {
		const char *c = cb_value_cstr(cb_value_at(items, i));
		cb_buf f = CB_BUF_INIT;
		const cb_value *same;

		cb_utf8_fold(&f, c, strlen(c));
		same = cb_value_getc(known, f.ptr);
		if (!printable(c) || cb_lint_has_placeholder(c, strlen(c))) {
			rc = cb_diag_error(diags, "new", NULL, 0, 0, "--country must be a country's name");
		} else if (same) {
			/* The spelling the other cases use ("netherlands" -> "Netherlands"). */
			c = cb_value_cstr(same);
		} else {
			const char *near = nk ? cb_text_suggest(f.ptr, keys, nk) : NULL;
			if (near)
				cb_diag_add(diags, CB_WARNING, "new", NULL, 0, 0,
				            "other cases write it so; check the spelling",
				            "no other case is in '%s'; did you mean '%s'?", c,
				            cb_value_cstr(cb_value_getc(known, near)));
			else if (*c >= 'a' && *c <= 'z')
				cb_diag_add(diags, CB_WARNING, "new", NULL, 0, 0,
				            "country names are written in English, with a capital",
				            "'%s' starts with a small letter; did you mean '%c%s'?", c,
				            *c - 'a' + 'A', c + 1);
		}
		if (i > 0)
			cb_buf_puts(&yaml, ", ");
		yaml_quoted(&yaml, c);
		cb_buf_dispose(&f);
	}
	if (cb_value_len(items) > 1)
		cb_buf_putc(&yaml, ']');
	if (rc == 0)
		cb_value_set_str(ctx, "country", yaml.ptr);
	cb_buf_dispose(&yaml);
	free(keys);
	cb_value_unref(known);
	cb_value_unref(items);
	return rc;
}

static int check_sector(const char *arg, const cb_site *site, cb_value *ctx, cb_diag_list *diags)
{
	const cb_value *tax = cb_site_taxonomy(site, "sector");
	const cb_value *terms = cb_value_getc(tax, "terms");
	cb_value *items = split(arg);
	cb_buf yaml = CB_BUF_INIT, all = CB_BUF_INIT;
	size_t i, k, nt = cb_value_len(terms);
	const char **ids = cb_xcalloc(nt + 1, sizeof(char *));
	int rc = 0;

	for (k = 0; k < nt; k++) {
		ids[k] = cb_value_cstr(cb_value_getc(cb_value_at(terms, k), "id"));
		if (!ids[k])
			ids[k] = "";
		cb_buf_printf(&all, "%s%s", k ? ", " : "", ids[k]);
	}
	if (cb_value_len(items) == 0)
		rc = cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "--sector health",
		                 "--sector is empty");
	if (cb_value_len(items) > 1)
		cb_buf_putc(&yaml, '[');
	for (i = 0; i < cb_value_len(items); i++) {
		const char *given = cb_value_cstr(cb_value_at(items, i));
		char *slug = slug_of(given);
		const char *id = NULL;

		/* A term by id, or by its label ("Public safety" -> public-safety). */
		for (k = 0; k < nt && !id; k++) {
			const char *lab = cb_value_cstr(cb_value_getc(cb_value_at(terms, k), "label"));
			char *label = slug_of(lab ? lab : "");
			if (strcmp(ids[k], slug) == 0 || (*label && strcmp(label, slug) == 0))
				id = ids[k];
			free(label);
		}
		if (!tax && *slug && !cb_lint_has_placeholder(slug, strlen(slug)))
			id = slug; /* no vocabulary to check against */
		if (!id) {
			const char *near = nt ? cb_text_suggest(slug, ids, nt) : NULL;
			char *hint = near ? cb_xasprintf("did you mean '%s'?", near)
			                  : nt ? cb_xasprintf("the sectors (content/taxonomies/sector.yml): %s",
			                                      all.ptr)
			                       : NULL;
			rc = cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, hint, "unknown sector '%s'",
			                 given);
			free(hint);
		} else {
			if (i > 0)
				cb_buf_puts(&yaml, ", ");
			cb_buf_puts(&yaml, id);
		}
		free(slug);
	}
	if (cb_value_len(items) > 1)
		cb_buf_putc(&yaml, ']');
	if (rc == 0)
		cb_value_set_str(ctx, "sector", yaml.ptr);
	cb_buf_dispose(&yaml);
	cb_buf_dispose(&all);
	free(ids);
	cb_value_unref(items);
	return rc;
}

/* vocab: {name: {ids: "a, b", terms: [{id, label}]}} for the archetype. */
static cb_value *vocabularies(const cb_site *site)
{
	cb_value *vocab = cb_value_new_map();
	size_t i, k;

	for (i = 0; i < cb_site_taxonomy_count(site); i++) {
		const char *name, *path;
		const cb_value *tax = cb_site_taxonomy_at(site, i, &name, &path);
		const cb_value *terms = cb_value_getc(tax, "terms");
		cb_value *v = cb_value_new_map(), *list = cb_value_new_list();
		cb_buf ids = CB_BUF_INIT;

		for (k = 0; k < cb_value_len(terms); k++) {
			const cb_value *t = cb_value_at(terms, k);
			const char *id = cb_value_cstr(cb_value_getc(t, "id"));
			const char *label = cb_value_cstr(cb_value_getc(t, "label"));
			cb_value *term;

			if (!id)
				continue;
			term = cb_value_new_map();
			cb_value_set_str(term, "id", id);
			cb_value_set_str(term, "label", label ? label : id);
			cb_value_push(list, term);
			cb_buf_printf(&ids, "%s%s", ids.len ? ", " : "", id);
		}
		cb_value_set_str(v, "ids", ids.ptr);
		cb_value_setc(v, "terms", list);
		cb_value_setc(vocab, name, v);
		cb_buf_dispose(&ids);
	}
	return vocab;
}

/* ---- the archetype ------------------------------------------------------- */

/* Read the archetype into *data; *where is its display path. */
static int read_archetype(const cb_site *site, char **data, size_t *len, char **where,
                          cb_diag_list *diags)
{
	const char *theme = cb_config_theme(cb_site_config(site));
	char *in_theme = cb_xasprintf("themes/%s/" ARCHETYPE, theme);
	cb_source *from[3];
	const char *rel[3];
	size_t i;
	int rc = -1;

	from[0] = cb_site_source(site);
	rel[0] = ARCHETYPE;
	from[1] = cb_site_lookup(site, in_theme);
	rel[1] = in_theme;
	from[2] = cb_site_share(site);
	rel[2] = ARCHETYPE;
	for (i = 0; i < 3 && rc < 0; i++) {
		const char *root;

		if (!from[i] || cb_source_read(from[i], rel[i], CB_DOC_MAX_SIZE, data, len) < 0)
			continue;
		root = from[i] == cb_site_source(site) ? NULL : cb_source_fs_root(from[i]);
		*where = root ? cb_xasprintf("%s/%s", root, rel[i]) : cb_xstrdup(rel[i]);
		rc = 0;
	}
	if (rc < 0)
		cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0,
		            "write one there (see docs/case-format.md), or reinstall casebook",
		            "no archetype: none of " ARCHETYPE ", %s or the installed " ARCHETYPE
		            " exists",
		            in_theme);
	free(in_theme);
	return rc;
}

static int render_archetype(const cb_site *site, const cb_value *ctx, cb_buf *out,
                            cb_diag_list *diags)
{
	cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
	const cb_tmpl *t;
	char *data = NULL, *where = NULL;
	size_t len;
	int rc = -1;

	if (read_archetype(site, &data, &len, &where, diags) < 0)
		goto out;
	cb_tmpl_set_add(set, "case", data, len, where);
	if (cb_tmpl_set_get(set, "case", &t, diags) < 0 || cb_tmpl_render(t, set, ctx, out, diags) < 0)
		goto out;
	rc = 0;
out:
	cb_tmpl_set_free(set);
	free(data);
	free(where);
	return rc;
}

/* ---- entry point --------------------------------------------------------- */

int cb_new_case(const cb_new_opts *o, char **path, cb_diag_list *diags)
{
	cb_source *src = NULL, *share = NULL;
	cb_config *cfg = NULL;
	cb_site *site = NULL;
	cb_diag_list *scratch = cb_diag_list_new();
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	cb_value *ctx = cb_value_new_map();
	cb_buf text = CB_BUF_INIT, key = CB_BUF_INIT;
	char root[PATH_MAX];
	char *title = NULL, *slug = NULL, *rel = NULL, *full = NULL, *dir = NULL;
	size_t i;
	int rc = -1, r;

	*path = NULL;
	if (!realpath(o->source_dir, root) || cb_source_open_dir(&src, root) < 0) {
		cb_diag_error(diags, "source", NULL, 0, 0, "cannot open source folder %s: %s",
		              o->source_dir, strerror(errno ? errno : ENOENT));
		goto out;
	}
	if (o->share_dir && strcmp(o->share_dir, root) != 0)
		cb_source_open_dir(&share, o->share_dir);
	/* The handbook as it is, for its vocabularies and other cases; its own
	 * problems are for `check`, not for `new`. */
	r = cb_config_load(&cfg, src, scratch);
	if (!cfg) {
		cb_diag_list_merge(diags, scratch);
		goto out;
	}
	(void)r;
	site = cb_site_new(cfg, src, share, scratch);
	cfg = NULL;
	cb_load(site, &lo);

	/* The values: all of them checked, every problem reported. */
	title = trimmed(o->title ? o->title : "", o->title ? strlen(o->title) : 0);
	rc = check_title(title, diags);
	if (rc == 0 && (slug = make_slug(o, title, diags)) == NULL)
		rc = -1;
	if (o->year && check_year(o->year, ctx, diags) < 0)
		rc = -1;
	if (o->country && check_country(o->country, site, ctx, diags) < 0)
		rc = -1;
	if (o->sector && check_sector(o->sector, site, ctx, diags) < 0)
		rc = -1;
	if (rc < 0)
		goto out;
	rc = -1;

	/* Never overwrite; never make a second case of the same title. */
	rel = cb_xasprintf("content/cases/%s.md", slug);
	cb_utf8_slug(&key, title, strlen(title));
	for (i = 0; i < cb_site_case_count(site); i++) {
		const cb_doc *d = cb_site_case(site, i);
		char *other = slug_of(cb_doc_title(d));
		int same = strcmp(other, key.ptr) == 0;

		free(other);
		if (same) {
			cb_diag_add(diags, CB_ERROR, "new", NULL, 0, 0, "edit that case, or choose another title",
			            "%s already has the title '%s'", cb_doc_path(d), cb_doc_title(d));
			rc = CB_NEW_EXISTS;
			goto out;
		}
	}

	cb_buf_clear(&key);
	yaml_quoted(&key, title);
	cb_value_set_str(ctx, "title", key.ptr);
	cb_value_set_str(ctx, "slug", slug);
	cb_value_setc(ctx, "vocab", vocabularies(site));
	if (render_archetype(site, ctx, &text, diags) < 0)
		goto out;

	full = cb_xasprintf("%s/%s", root, rel);
	dir = cb_path_dirname(full);
	r = cb_fs_mkdirs(dir);
	if (r == 0)
		r = cb_fs_create(full, text.ptr, text.len);
	if (r == -EEXIST) {
		cb_diag_add(diags, CB_ERROR, "new", rel, 0, 0,
		            "edit it, or give another file name with --slug",
		            "the case already exists; it is left as it is");
		rc = CB_NEW_EXISTS;
		goto out;
	}
	if (r < 0) {
		cb_diag_error(diags, "io", rel, 0, 0, "cannot write: %s", cb_fs_strerror(r));
		goto out;
	}
	*path = rel;
	rel = NULL;
	rc = 0;
out:
	cb_buf_dispose(&text);
	cb_buf_dispose(&key);
	cb_value_unref(ctx);
	free(title);
	free(slug);
	free(rel);
	free(full);
	free(dir);
	cb_site_free(site);
	cb_config_free(cfg);
	cb_source_free(share);
	cb_source_free(src);
	cb_diag_list_free(scratch);
	return rc;
}
