/*
 * cb_site: the build's model (see cb_site.h).
 */
#include "cb_site.h"

#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"
#include "cb_path.h"

typedef struct extra {
	char *path, *tmpl, *origin;
	cb_value *data;
} extra;

typedef struct named {
	char *name, *path;
	cb_value *value;
} named;

typedef struct nav {
	char *title, *path;
	int order;
	size_t seq;
} nav;

typedef struct file {
	char *from, *to;
} file;

#define VEC(T)                                                                                 \
	struct {                                                                               \
		T *v;                                                                          \
		size_t len, cap;                                                               \
	}
#define VEC_PUSH(vec, item)                                                                    \
	do {                                                                                   \
		if ((vec).len == (vec).cap) {                                                  \
			(vec).cap = (vec).cap ? (vec).cap * 2 : 16;                            \
			(vec).v = cb_xreallocarray((vec).v, (vec).cap, sizeof(*(vec).v));      \
		}                                                                              \
		(vec).v[(vec).len++] = (item);                                                 \
	} while (0)

struct cb_site {
	cb_config *cfg;
	cb_source *src, *share;
	cb_diag_list *diags;
	VEC(cb_doc *) cases;
	VEC(cb_doc *) pages;
	cb_value *case_index; /* slug -> index */
	VEC(named) taxonomies;
	VEC(file) files;
	cb_value *file_index; /* to -> 1 */
	cb_value *vars;
	VEC(extra) extras;
	cb_value *extra_index; /* path -> index */
	cb_value *templates;   /* the theme's template names, or NULL */
	VEC(named) data;
	VEC(nav) nav;
	int nav_sorted;
};

cb_site *cb_site_new(cb_config *cfg, cb_source *src, cb_source *share, cb_diag_list *diags)
{
	cb_site *s = cb_xcalloc(1, sizeof *s);

	s->cfg = cfg;
	s->src = src;
	s->share = share;
	s->diags = diags;
	s->case_index = cb_value_new_map();
	s->file_index = cb_value_new_map();
	s->vars = cb_value_new_map();
	s->extra_index = cb_value_new_map();
	return s;
}

void cb_site_free(cb_site *site)
{
	size_t i;

	if (!site)
		return;
	for (i = 0; i < site->cases.len; i++)
		cb_doc_free(site->cases.v[i]);
	free(site->cases.v);
	for (i = 0; i < site->pages.len; i++)
		cb_doc_free(site->pages.v[i]);
	free(site->pages.v);
	for (i = 0; i < site->taxonomies.len; i++) {
		free(site->taxonomies.v[i].name);
		free(site->taxonomies.v[i].path);
		cb_value_unref(site->taxonomies.v[i].value);
	}
	free(site->taxonomies.v);
	for (i = 0; i < site->files.len; i++) {
		free(site->files.v[i].from);
		free(site->files.v[i].to);
	}
	free(site->files.v);
	for (i = 0; i < site->extras.len; i++) {
		free(site->extras.v[i].path);
		free(site->extras.v[i].tmpl);
		free(site->extras.v[i].origin);
		cb_value_unref(site->extras.v[i].data);
	}
	free(site->extras.v);
	for (i = 0; i < site->data.len; i++) {
		free(site->data.v[i].name);
		cb_value_unref(site->data.v[i].value);
	}
	free(site->data.v);
	for (i = 0; i < site->nav.len; i++) {
		free(site->nav.v[i].title);
		free(site->nav.v[i].path);
	}
	free(site->nav.v);
	cb_value_unref(site->case_index);
	cb_value_unref(site->file_index);
	cb_value_unref(site->vars);
	cb_value_unref(site->templates);
	cb_value_unref(site->extra_index);
	cb_config_free(site->cfg);
	free(site);
}

const cb_config *cb_site_config(const cb_site *site) { return site->cfg; }
cb_source *cb_site_source(const cb_site *site) { return site->src; }
cb_source *cb_site_share(const cb_site *site) { return site->share; }
cb_diag_list *cb_site_diags(const cb_site *site) { return site->diags; }

cb_source *cb_site_lookup(const cb_site *site, const char *relpath)
{
	cb_fs_kind kind;

	if (cb_source_kind(site->src, relpath, &kind) == 0)
		return site->src;
	if (site->share && cb_source_kind(site->share, relpath, &kind) == 0)
		return site->share;
	return NULL;
}

void cb_site_add_doc(cb_site *site, cb_doc *doc)
{
	if (cb_doc_kind_of(doc) == CB_DOC_CASE)
		VEC_PUSH(site->cases, doc);
	else
		VEC_PUSH(site->pages, doc);
}

static int cmp_doc(const void *a, const void *b)
{
	return strcmp(cb_doc_slug(*(cb_doc *const *)a), cb_doc_slug(*(cb_doc *const *)b));
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

void cb_site_seal(cb_site *site)
{
	size_t i;

	if (site->cases.len)
		qsort(site->cases.v, site->cases.len, sizeof(cb_doc *), cmp_doc);
	if (site->pages.len)
		qsort(site->pages.v, site->pages.len, sizeof(cb_doc *), cmp_doc);
	if (site->taxonomies.len)
		qsort(site->taxonomies.v, site->taxonomies.len, sizeof(named), cmp_named);
	cb_value_unref(site->case_index);
	site->case_index = cb_value_new_map();
	for (i = 0; i < site->cases.len; i++)
		cb_value_setc(site->case_index, cb_doc_slug(site->cases.v[i]),
		              cb_value_new_int((long long)i));
}

size_t cb_site_case_count(const cb_site *site) { return site->cases.len; }

cb_doc *cb_site_case(const cb_site *site, size_t i)
{
	return i < site->cases.len ? site->cases.v[i] : NULL;
}

long cb_site_case_index(const cb_site *site, const char *slug)
{
	const cb_value *v = cb_value_getc(site->case_index, slug);

	return v ? (long)cb_value_int(v) : -1;
}

cb_doc *cb_site_case_by_slug(const cb_site *site, const char *slug)
{
	long i = cb_site_case_index(site, slug);

	return i < 0 ? NULL : site->cases.v[i];
}

size_t cb_site_page_count(const cb_site *site) { return site->pages.len; }

cb_doc *cb_site_page(const cb_site *site, size_t i)
{
	return i < site->pages.len ? site->pages.v[i] : NULL;
}

cb_doc *cb_site_page_by_name(const cb_site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->pages.len; i++)
		if (strcmp(cb_doc_slug(site->pages.v[i]), name) == 0)
			return site->pages.v[i];
	return NULL;
}

void cb_site_add_taxonomy(cb_site *site, const char *name, cb_value *tax, const char *path)
{
	named n;

	n.name = cb_xstrdup(name);
	n.path = cb_xstrdup(path);
	n.value = tax;
	VEC_PUSH(site->taxonomies, n);
}

size_t cb_site_taxonomy_count(const cb_site *site) { return site->taxonomies.len; }

const cb_value *cb_site_taxonomy_at(const cb_site *site, size_t i, const char **name,
                                    const char **path)
{
	if (i >= site->taxonomies.len)
		return NULL;
	if (name)
		*name = site->taxonomies.v[i].name;
	if (path)
		*path = site->taxonomies.v[i].path;
	return site->taxonomies.v[i].value;
}

const cb_value *cb_site_taxonomy(const cb_site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->taxonomies.len; i++)
		if (strcmp(site->taxonomies.v[i].name, name) == 0)
			return site->taxonomies.v[i].value;
	return NULL;
}

const char *cb_site_term_label(const cb_site *site, const char *taxonomy, const char *term)
{
	const cb_value *terms = cb_value_getc(cb_site_taxonomy(site, taxonomy), "terms");
	size_t i;

	for (i = 0; i < cb_value_len(terms); i++) {
		const cb_value *t = cb_value_at(terms, i);
		const char *id = cb_value_cstr(cb_value_getc(t, "id"));
		if (id && strcmp(id, term) == 0) {
			const char *label = cb_value_cstr(cb_value_getc(t, "label"));
			return label ? label : term;
		}
	}
	return term;
}

void cb_site_add_file(cb_site *site, const char *from, const char *to)
{
	file f;

	if (cb_value_getc(site->file_index, to))
		return;
	cb_value_setc(site->file_index, to, cb_value_new_bool(1));
	f.from = cb_xstrdup(from);
	f.to = cb_xstrdup(to);
	VEC_PUSH(site->files, f);
}

size_t cb_site_file_count(const cb_site *site) { return site->files.len; }

void cb_site_file_at(const cb_site *site, size_t i, const char **from, const char **to)
{
	*from = site->files.v[i].from;
	*to = site->files.v[i].to;
}

cb_value *cb_site_vars(const cb_site *site) { return site->vars; }

void cb_site_set_var(cb_site *site, const char *key, cb_value *val)
{
	cb_value_setc(site->vars, key, val);
}

void cb_site_set_templates(cb_site *site, cb_value *names)
{
	cb_value_unref(site->templates);
	site->templates = names;
}

const cb_value *cb_site_templates(const cb_site *site) { return site->templates; }

static int page_path_ok(const char *path)
{
	char *norm = cb_path_normalize(path, strlen(path));
	const char *ext = cb_path_ext(path);
	int ok = norm && strcmp(norm, path) == 0 && *path &&
	         (strcmp(ext, ".html") == 0 || strcmp(ext, ".xml") == 0 ||
	          strcmp(ext, ".txt") == 0 || strcmp(ext, ".svg") == 0 || strcmp(ext, ".js") == 0);

	free(norm);
	return ok;
}

int cb_site_add_page(cb_site *site, const char *path, const char *tmpl, cb_value *data,
                     const char *origin)
{
	extra e;

	if (!page_path_ok(path) || cb_value_getc(site->extra_index, path)) {
		cb_value_unref(data);
		return -1;
	}
	cb_value_setc(site->extra_index, path, cb_value_new_int((long long)site->extras.len));
	e.path = cb_xstrdup(path);
	e.tmpl = cb_xstrdup(tmpl);
	e.origin = cb_xstrdup(origin ? origin : "");
	e.data = data;
	VEC_PUSH(site->extras, e);
	return 0;
}

size_t cb_site_extra_count(const cb_site *site) { return site->extras.len; }

void cb_site_extra_at(const cb_site *site, size_t i, const char **path, const char **tmpl,
                      const cb_value **data, const char **origin)
{
	*path = site->extras.v[i].path;
	*tmpl = site->extras.v[i].tmpl;
	*data = site->extras.v[i].data;
	if (origin)
		*origin = site->extras.v[i].origin;
}

int cb_site_has_extra(const cb_site *site, const char *path)
{
	return cb_value_getc(site->extra_index, path) != NULL;
}

int cb_site_add_data(cb_site *site, const char *name, cb_value *value)
{
	named n;
	size_t i;

	if (!cb_path_is_slug(name, strlen(name))) {
		cb_value_unref(value);
		return -1;
	}
	for (i = 0; i < site->data.len; i++)
		if (strcmp(site->data.v[i].name, name) == 0) {
			cb_value_unref(site->data.v[i].value);
			site->data.v[i].value = value;
			return 0;
		}
	n.name = cb_xstrdup(name);
	n.path = NULL;
	n.value = value;
	VEC_PUSH(site->data, n);
	return 0;
}

size_t cb_site_data_count(const cb_site *site) { return site->data.len; }

void cb_site_data_at(const cb_site *site, size_t i, const char **name, const cb_value **value)
{
	*name = site->data.v[i].name;
	*value = site->data.v[i].value;
}

void cb_site_add_nav(cb_site *site, const char *title, const char *path, int order)
{
	nav n;

	n.title = cb_xstrdup(title);
	n.path = cb_xstrdup(path);
	n.order = order;
	n.seq = site->nav.len;
	VEC_PUSH(site->nav, n);
	site->nav_sorted = 0;
}

static int cmp_nav(const void *pa, const void *pb)
{
	const nav *a = pa, *b = pb;
	int c;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	c = strcmp(a->title, b->title);
	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

size_t cb_site_nav_count(const cb_site *site)
{
	return site->nav.len;
}

void cb_site_nav_at(const cb_site *site, size_t i, const char **title, const char **path)
{
	cb_site *s = (cb_site *)site;

	if (!s->nav_sorted) {
		if (s->nav.len)
			qsort(s->nav.v, s->nav.len, sizeof(nav), cmp_nav);
		s->nav_sorted = 1;
	}
	*title = s->nav.v[i].title;
	*path = s->nav.v[i].path;
}
