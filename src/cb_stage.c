/*
 * cb_stage: what the plugins' hooks change, per plugin (see cb_stage.h).
 *
 * One layer per plugin and case: the template values it set (a map), the
 * facets it recorded (taxonomy -> entries) and the sections it left out.
 * Layers are made on first use; most plugins change a few cases' few keys.
 */
#include "cb_stage.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"

typedef struct layer {
	cb_value *vars;   /* key -> value, or NULL */
	cb_value *facets; /* taxonomy -> list of entries, or NULL */
	size_t *omits;    /* section indexes */
	size_t n_omits, cap_omits;
} layer;

struct cb_stage {
	size_t plugins, cases;
	layer *layers;  /* [p * cases + i] */
	size_t *done;   /* per plugin: how many cases it is done with */
	unsigned char *finished; /* per plugin: cb_stage_finish was called */
	int held;                /* cb_stage_hold, until cb_stage_open */
	pthread_mutex_t lock;
	pthread_cond_t moved;
};

static layer *at(const cb_stage *st, size_t p, size_t i)
{
	return &st->layers[p * st->cases + i];
}

cb_stage *cb_stage_new(size_t plugins, size_t cases)
{
	cb_stage *st = cb_xcalloc(1, sizeof *st);

	st->plugins = plugins;
	st->cases = cases;
	st->layers = cb_xcalloc(cb_mem_mul(plugins, cases ? cases : 1), sizeof(layer));
	st->done = cb_xcalloc(plugins ? plugins : 1, sizeof(size_t));
	st->finished = cb_xcalloc(plugins ? plugins : 1, 1);
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->moved, NULL);
	return st;
}

static void layer_dispose(layer *l)
{
	cb_value_unref(l->vars);
	cb_value_unref(l->facets);
	free(l->omits);
	memset(l, 0, sizeof *l);
}

void cb_stage_free(cb_stage *st)
{
	size_t k;

	if (!st)
		return;
	for (k = 0; k < st->plugins * st->cases; k++)
		layer_dispose(&st->layers[k]);
	free(st->layers);
	free(st->done);
	free(st->finished);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->moved);
	free(st);
}

void cb_stage_done(cb_stage *st, size_t p, size_t n)
{
	pthread_mutex_lock(&st->lock);
	if (n > st->cases)
		n = st->cases;
	if (n > st->done[p]) {
		st->done[p] = n;
		pthread_cond_broadcast(&st->moved);
	}
	pthread_mutex_unlock(&st->lock);
}

void cb_stage_finish(cb_stage *st, size_t p)
{
	pthread_mutex_lock(&st->lock);
	st->done[p] = st->cases;
	st->finished[p] = 1;
	pthread_cond_broadcast(&st->moved);
	pthread_mutex_unlock(&st->lock);
}

void cb_stage_hold(cb_stage *st)
{
	pthread_mutex_lock(&st->lock);
	st->held = 1;
	pthread_mutex_unlock(&st->lock);
}

void cb_stage_open(cb_stage *st)
{
	pthread_mutex_lock(&st->lock);
	st->held = 0;
	pthread_cond_broadcast(&st->moved);
	pthread_mutex_unlock(&st->lock);
}

/* Is the stage open, and are the plugins before p done with n cases (all:
 * finished)? Under the lock. */
static int ready(const cb_stage *st, size_t p, size_t n, int all)
{
	size_t r;

	if (st->held)
		return 0;
	for (r = 0; r < p; r++)
		if (st->done[r] < n || (all && !st->finished[r]))
			return 0;
	return 1;
}

static void wait_for(cb_stage *st, size_t p, size_t n, int all)
{
	pthread_mutex_lock(&st->lock);
	while (!ready(st, p, n, all))
		pthread_cond_wait(&st->moved, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

void cb_stage_wait(cb_stage *st, size_t p, size_t i)
{
	wait_for(st, p, i + 1 < st->cases ? i + 1 : st->cases, 0);
}

void cb_stage_wait_all(cb_stage *st, size_t p)
{
	wait_for(st, p, st->cases, 1);
}

void cb_stage_set_var(cb_stage *st, size_t p, size_t i, const char *key, cb_value *val)
{
	layer *l = at(st, p, i);

	if (!l->vars)
		l->vars = cb_value_new_map();
	cb_value_setc(l->vars, key, val);
}

static int has_term(const cb_value *list, const char *term)
{
	size_t k;

	for (k = 0; k < cb_value_len(list); k++) {
		const char *t = cb_value_cstr(cb_value_getc(cb_value_at(list, k), "term"));
		if (t && term && strcmp(t, term) == 0)
			return 1;
	}
	return 0;
}

void cb_stage_add_facet(cb_stage *st, size_t p, size_t i, const cb_doc *doc, const char *taxonomy,
                        cb_value *entry)
{
	const char *term = cb_value_cstr(cb_value_getc(entry, "term"));
	layer *l;
	cb_value *list;
	size_t q;

	if (has_term(cb_value_getc(cb_doc_facets(doc), taxonomy), term))
		goto known;
	for (q = 0; q <= p; q++)
		if (has_term(cb_value_getc(at(st, q, i)->facets, taxonomy), term))
			goto known;
	l = at(st, p, i);
	if (!l->facets)
		l->facets = cb_value_new_map();
	if (!(list = cb_value_getc(l->facets, taxonomy))) {
		list = cb_value_new_list();
		cb_value_setc(l->facets, taxonomy, list);
	}
	cb_value_push(list, entry);
	return;
known:
	cb_value_unref(entry);
}

void cb_stage_omit(cb_stage *st, size_t p, size_t i, size_t section)
{
	layer *l = at(st, p, i);

	if (l->n_omits == l->cap_omits) {
		l->cap_omits = l->cap_omits ? l->cap_omits * 2 : 2;
		l->omits = cb_xreallocarray(l->omits, l->cap_omits, sizeof(size_t));
	}
	l->omits[l->n_omits++] = section;
}

const cb_value *cb_stage_var(const cb_stage *st, size_t p, size_t i, const cb_doc *doc,
                             const char *key)
{
	size_t q;

	for (q = p + 1; q-- > 0;) {
		const cb_value *v = cb_value_getc(at(st, q, i)->vars, key);
		if (v)
			return v;
	}
	return cb_value_getc(cb_doc_vars(doc), key);
}

/* Append the entries of facets (taxonomy -> list) to the view m, without
 * terms it has. */
static void add_facets(cb_value *m, const cb_value *facets)
{
	size_t t, k;

	for (t = 0; t < cb_value_len(facets); t++) {
		const char *tax = cb_value_key(facets, t, NULL);
		const cb_value *from = cb_value_entry(facets, t);
		cb_value *list = cb_value_getc(m, tax);
		if (!list) {
			list = cb_value_new_list();
			cb_value_setc(m, tax, list);
		}
		for (k = 0; k < cb_value_len(from); k++) {
			cb_value *e = cb_value_at(from, k);
			if (!has_term(list, cb_value_cstr(cb_value_getc(e, "term"))))
				cb_value_push(list, cb_value_ref(e));
		}
	}
}

const cb_value *cb_stage_facets(const cb_stage *st, size_t p, size_t i, const cb_doc *doc,
                                cb_value **made)
{
	size_t q;

	*made = NULL;
	for (q = 0; q <= p; q++)
		if (at(st, q, i)->facets)
			break;
	if (q > p)
		return cb_doc_facets(doc);
	*made = cb_value_new_map();
	add_facets(*made, cb_doc_facets(doc));
	for (q = 0; q <= p; q++)
		add_facets(*made, at(st, q, i)->facets);
	return *made;
}

int cb_stage_omitted(const cb_stage *st, size_t p, size_t i, const cb_doc *doc, size_t section)
{
	const cb_md *md = cb_doc_md(doc);
	const cb_md_section *s;
	size_t q, k;

	if (cb_doc_section_omitted(doc, section))
		return 1;
	while ((s = cb_md_section_at(md, section)) != NULL) {
		for (q = 0; q <= p; q++) {
			const layer *l = at(st, q, i);
			for (k = 0; k < l->n_omits; k++)
				if (l->omits[k] == section)
					return 1;
		}
		if (s->parent < 0)
			break;
		section = (size_t)s->parent;
	}
	return 0;
}

void cb_stage_commit(cb_stage *st, cb_doc *const *cases)
{
	size_t p, i, k, t;

	for (p = 0; p < st->plugins; p++)
		for (i = 0; i < st->cases; i++) {
			layer *l = at(st, p, i);
			cb_doc *doc = cases[i];
			for (k = 0; k < cb_value_len(l->vars); k++)
				cb_doc_set_var(doc, cb_value_key(l->vars, k, NULL),
				               cb_value_ref(cb_value_entry(l->vars, k)));
			for (t = 0; t < cb_value_len(l->facets); t++) {
				const char *tax = cb_value_key(l->facets, t, NULL);
				const cb_value *list = cb_value_entry(l->facets, t);
				for (k = 0; k < cb_value_len(list); k++)
					cb_doc_add_facet_entry(doc, tax, cb_value_ref(cb_value_at(list, k)));
			}
			for (k = 0; k < l->n_omits; k++)
				cb_doc_omit_section(doc, cb_md_section_at(cb_doc_md(doc), l->omits[k])->id);
			layer_dispose(l);
		}
}
