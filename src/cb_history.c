/*
 * cb_history: per-case histories from one log (see cb_history.h).
 *
 * The log lists commits children first, so one pass over it sees every
 * commit after all of its descendants. For each commit we know which tips
 * reach it (a bit set, filled from the children), and for each such tip we
 * apply the commit's changes to that tip's name map:
 *
 *   alias[p] absent     p is still the file of the same name at the tip
 *   alias[p] = string   p is (an older name of) that file at the tip
 *   alias[p] = null     p, this far back, is no file that exists at the tip
 */
#include "cb_history.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"

struct cb_history {
	size_t n_tips;
	cb_value **files; /* per tip: path at the tip -> history map */
};

typedef struct walk {
	const cb_git_log *log;
	size_t n_tips, words;
	uint64_t *reach;   /* per commit: words bit-set words of tips */
	cb_value **alias;  /* per tip */
	cb_value **lists;  /* per tip: path -> {entries, added} being built */
} walk;

static cb_value *entry_of(const walk *w, size_t ci, const char *kind)
{
	const cb_git_commit *c = &w->log->commits[ci];
	cb_value *e = cb_value_new_map();
	char date[11];

	cb_git_time_date(c->when, date);
	cb_value_set_str(e, "date", date);
	cb_value_set_str(e, "subject", c->subject);
	cb_value_set_str(e, "author", c->author);
	cb_value_set_str(e, "email", c->email);
	cb_value_set_str(e, "id", c->id);
	cb_value_setc(e, "short_id", cb_value_new_string(c->id, 7));
	cb_value_set_str(e, "kind", kind);
	return e;
}

/* The name at the tip of what is called p at this point, or NULL. */
static const char *lookup(const cb_value *alias, const char *p)
{
	const cb_value *v = cb_value_getc(alias, p);

	if (!v)
		return p;
	return cb_value_cstr(v);
}

/* Add commit ci's change to the history of the file called at_tip at the
 * tip; from: the file's earlier name when the change renamed it. */
static void record(walk *w, size_t tip, const char *at_tip, size_t ci, const char *kind,
                   const char *from)
{
	cb_value *e;
	cb_value *files = w->lists[tip];
	cb_value *f = cb_value_getc(files, at_tip);

	if (!f) {
		f = cb_value_new_map();
		cb_value_setc(f, "entries", cb_value_new_list());
		cb_value_setc(files, at_tip, f);
	}
	e = entry_of(w, ci, kind);
	if (from)
		cb_value_set_str(e, "from", from);
	cb_value_push(cb_value_getc(f, "entries"), e);
	if (strcmp(kind, "added") == 0)
		cb_value_set_int(f, "added", (long long)ci);
}

static void apply(walk *w, size_t tip, size_t ci, const cb_git_change *ch)
{
	cb_value *alias = w->alias[tip];
	const char *t;
	char *at_tip;

	if (!ch->path || (ch->status == 'R' && !ch->old_path))
		return;
	t = lookup(alias, ch->path);
	at_tip = t ? cb_xstrdup(t) : NULL;

	switch (ch->status) {
	case 'M':
		if (at_tip)
			record(w, tip, at_tip, ci, "changed", NULL);
		break;
	case 'A':
		if (at_tip)
			record(w, tip, at_tip, ci, "added", NULL);
		cb_value_setc(alias, ch->path, cb_value_new_null());
		break;
	case 'D':
		/* Met walking back from the tip: this file is gone at the tip
		 * (or came back later, which already set its alias to null). */
		cb_value_setc(alias, ch->path, cb_value_new_null());
		break;
	case 'R':
		if (at_tip)
			record(w, tip, at_tip, ci, "renamed", ch->old_path);
		cb_value_setc(alias, ch->old_path,
		              at_tip ? cb_value_new_cstr(at_tip) : cb_value_new_null());
		if (strcmp(ch->old_path, ch->path) != 0)
			cb_value_setc(alias, ch->path, cb_value_new_null());
		break;
	default:
		break;
	}
	free(at_tip);
}

/* "A", "A and B", "A, B and C". */
static cb_value *names_text(const cb_value *authors)
{
	cb_buf b = CB_BUF_INIT;
	size_t i, n = cb_value_len(authors);
	cb_value *v;

	for (i = 0; i < n; i++) {
		const char *name = cb_value_cstr(cb_value_getc(cb_value_at(authors, i), "name"));
		if (i > 0)
			cb_buf_puts(&b, i + 1 == n ? " and " : ", ");
		cb_buf_puts(&b, name ? name : "");
	}
	v = cb_value_new_string(b.ptr, b.len);
	cb_buf_dispose(&b);
	return v;
}

/* The template map from what the walk gathered for one file. */
static cb_value *finish(walk *w, const cb_value *f)
{
	const cb_value *entries = cb_value_getc(f, "entries");
	const cb_value *added = cb_value_getc(f, "added");
	cb_value *h = cb_value_new_map(), *authors = cb_value_new_list(), *seen = cb_value_new_map();
	size_t i, n = cb_value_len(entries);

	cb_value_setc(h, "updated", cb_value_ref(cb_value_getc(cb_value_at(entries, 0), "date")));
	if (added) {
		char date[11];
		cb_git_time_date(w->log->commits[cb_value_int(added)].when, date);
		cb_value_set_str(h, "added", date);
	}
	/* Authors in the order of their first change: walk oldest first. */
	for (i = n; i-- > 0;) {
		const cb_value *e = cb_value_at(entries, i);
		const char *name = cb_value_cstr(cb_value_getc(e, "author"));
		cb_value *a;

		if (!name || !*name || cb_value_getc(seen, name))
			continue;
		cb_value_setc(seen, name, cb_value_new_bool(1));
		a = cb_value_new_map();
		cb_value_set_str(a, "name", name);
		cb_value_setc(a, "email", cb_value_ref(cb_value_getc(e, "email")));
		cb_value_push(authors, a);
	}
	cb_value_setc(h, "authors_text", names_text(authors));
	cb_value_setc(h, "authors", authors);
	cb_value_setc(h, "entries", cb_value_ref((cb_value *)entries));
	cb_value_unref(seen);
	return h;
}

cb_history *cb_history_new(const cb_git_log *log, const char *const *tips, size_t n_tips)
{
	cb_history *h = cb_xcalloc(1, sizeof *h);
	walk w;
	size_t i, k, t;

	memset(&w, 0, sizeof w);
	w.log = log;
	w.n_tips = n_tips;
	w.words = (n_tips + 63) / 64;
	if (w.words == 0)
		w.words = 1;
	w.reach = cb_xcalloc(cb_mem_mul(log->n ? log->n : 1, w.words), sizeof(uint64_t));
	w.alias = cb_xcalloc(n_tips ? n_tips : 1, sizeof(cb_value *));
	w.lists = cb_xcalloc(n_tips ? n_tips : 1, sizeof(cb_value *));
	for (t = 0; t < n_tips; t++) {
		long ci = cb_git_log_find(log, tips[t]);
		w.alias[t] = cb_value_new_map();
		w.lists[t] = cb_value_new_map();
		if (ci >= 0)
			w.reach[(size_t)ci * w.words + t / 64] |= (uint64_t)1 << (t % 64);
	}
	for (i = 0; i < log->n; i++) {
		const cb_git_commit *c = &log->commits[i];
		uint64_t *mine = &w.reach[i * w.words];

		for (k = 0; k < c->n_parents; k++) {
			uint64_t *theirs = &w.reach[c->parents[k] * w.words];
			size_t x;
			for (x = 0; x < w.words; x++)
				theirs[x] |= mine[x];
		}
		for (t = 0; t < n_tips; t++) {
			if (!(mine[t / 64] & ((uint64_t)1 << (t % 64))))
				continue;
			for (k = 0; k < c->n_changes; k++)
				apply(&w, t, i, &c->changes[k]);
		}
	}
	h->n_tips = n_tips;
	h->files = cb_xcalloc(n_tips ? n_tips : 1, sizeof(cb_value *));
	for (t = 0; t < n_tips; t++) {
		h->files[t] = cb_value_new_map();
		for (k = 0; k < cb_value_len(w.lists[t]); k++)
			cb_value_setc(h->files[t], cb_value_key(w.lists[t], k, NULL),
			              finish(&w, cb_value_entry(w.lists[t], k)));
		cb_value_unref(w.alias[t]);
		cb_value_unref(w.lists[t]);
	}
	free(w.alias);
	free(w.lists);
	free(w.reach);
	return h;
}

void cb_history_free(cb_history *h)
{
	size_t t;

	if (!h)
		return;
	for (t = 0; t < h->n_tips; t++)
		cb_value_unref(h->files[t]);
	free(h->files);
	free(h);
}

const cb_value *cb_history_get(const cb_history *h, size_t tip, const char *path)
{
	if (tip >= h->n_tips)
		return NULL;
	return cb_value_getc(h->files[tip], path);
}

const cb_value *cb_history_at(const cb_history *h, size_t tip, size_t i, const char **path)
{
	*path = NULL;
	if (tip >= h->n_tips || i >= cb_value_len(h->files[tip]))
		return NULL;
	*path = cb_value_key(h->files[tip], i, NULL);
	return cb_value_entry(h->files[tip], i);
}

size_t cb_history_count(const cb_history *h, size_t tip)
{
	return tip < h->n_tips ? cb_value_len(h->files[tip]) : 0;
}
