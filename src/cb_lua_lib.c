/*
 * cb_lua_lib: the `casebook` table's helpers for plugins (docs/plugins.md):
 * text helpers (slug, fold, hash, escape, suggest) and the related-items
 * index that crosslink ranks related cases with.
 *
 * Memory the index holds is taken through the state's allocator, so it counts
 * against the plugin's memory cap like any Lua value (but for the scratch
 * arrays of idx:rank_all's threads, two per thread of one number per
 * document, freed before it returns).
 */
#include "cb_lua_priv.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_load.h"
#include "cb_mem.h"
#include "cb_pool.h"
#include "cb_text.h"
#include "cb_utf8.h"

/* {=================================================================
 * text helpers
 * ================================================================== */

/* Push fn(s) for the string argument 1. The result is built in C memory and
 * copied into a Lua box allocated beforehand, so that nothing malloc'd is
 * held while Lua may raise. */
static int push_transformed(lua_State *L, void (*fn)(cb_buf *, const char *, size_t))
{
	size_t len, need;
	const char *s = luaL_checklstring(L, 1, &len);
	char *box;
	cb_buf b = CB_BUF_INIT;

	need = cb_mem_add(cb_mem_mul(len, 3), 16);
	for (;;) {
		box = lua_newuserdatauv(L, need, 0); /* -- s, box */
		fn(&b, s, len);
		if (b.len <= need)
			break;
		need = b.len; /* rare: retry with the exact size */
		cb_buf_dispose(&b);
		lua_pop(L, 1);
	}
	memcpy(box, b.ptr, b.len);
	need = b.len;
	cb_buf_dispose(&b);
	lua_pushlstring(L, box, need);
	return 1;
}

/* casebook.slug(s): an id for URLs and anchors ("Co-design" -> "co-design"). */
static int l_slug(lua_State *L) { return push_transformed(L, cb_utf8_slug); }

/* casebook.fold(s): lower case without accents, for matching. */
static int l_fold(lua_State *L) { return push_transformed(L, cb_utf8_fold); }

/* casebook.escape(s): s with & < > " ' escaped for HTML and SVG. */
static int l_escape(lua_State *L)
{
	size_t len, i;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&': luaL_addstring(&b, "&amp;"); break;
		case '<': luaL_addstring(&b, "&lt;"); break;
		case '>': luaL_addstring(&b, "&gt;"); break;
		case '"': luaL_addstring(&b, "&quot;"); break;
		case '\'': luaL_addstring(&b, "&#39;"); break;
		default: luaL_addchar(&b, s[i]); break;
		}
	}
	luaL_pushresult(&b);
	return 1;
}

/* casebook.hash(s [, n]): the first n (1..16, default 16) hex digits of the
 * 64-bit FNV-1a hash of s. Stable across runs and machines. */
static int l_hash(lua_State *L)
{
	size_t len, i;
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer n = luaL_optinteger(L, 2, 16);
	uint64_t h = 0xcbf29ce484222325ULL;
	char hex[17];
	static const char digits[] = "0123456789abcdef";

	luaL_argcheck(L, n >= 1 && n <= 16, 2, "between 1 and 16 digits");
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	for (i = 0; i < 16; i++)
		hex[i] = digits[(h >> (60 - 4 * i)) & 0xf];
	lua_pushlstring(L, hex, (size_t)n);
	return 1;
}

/* casebook.suggest(word, candidates): the candidate closest to word (a typo
 * away), or nil. candidates is a list of strings. */
static int l_suggest(lua_State *L)
{
	const char *word = luaL_checkstring(L, 1);
	const char **cands;
	const char *best;
	lua_Integer n, i;

	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	/* The array lives in a userdata, so an error below frees it. */
	cands = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(char *), 0);
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
			return luaL_error(L, "casebook.suggest: candidate %d is not a string", (int)i);
		cands[i - 1] = lua_tostring(L, -1); /* the list keeps the string alive */
		lua_pop(L, 1);
	}
	best = cb_text_suggest(word, cands, (size_t)n);
	if (best)
		lua_pushstring(L, best);
	else
		lua_pushnil(L);
	return 1;
}

/* }================================================================= */

/* {=================================================================
 * the related-items index
 *
 * Documents (cases) carry features ("phase:co-design"), each feature with a
 * weight (the largest it was given). The score of a pair of documents is the
 * sum of the weights of the features they share. related(key, k) walks the
 * posting lists of the key's features only (an inverted index), so its cost
 * is the number of documents sharing a feature with it, never all pairs.
 * ================================================================== */

typedef struct feature {
	char *name;
	double w;
	uint32_t *docs; /* posting list: documents with the feature */
	size_t n, cap;
} feature;

typedef struct idoc {
	char *key, *title;
	uint32_t *f; /* feature ids */
	size_t n, cap;
	int sorted;
	uint32_t rank; /* position by (title, key), for ties */
} idoc;

/* What ranking one document takes besides the index: scratch of one thread
 * (only the index is read, so threads rank side by side, each with its own).
 * score and qpos are zero between queries. */
typedef struct scratch {
	double *score;     /* per document (n_docs) */
	uint32_t *touched; /* documents a query reached (n_docs + 1: a loop writes one past) */
	uint32_t *qpos;    /* per feature (n_feats): its place among the query's, + 1 */
	uint64_t *ord;     /* the query's lists, (length << 32 | place) (n_feats) */
	size_t n_score, n_touched, n_qpos, n_ord; /* their sizes, where they are grown */
	unsigned idle, backoff; /* queries left before trying to leave lists out again */
} scratch;

typedef struct index {
	lua_Alloc alloc;
	void *ud;
	feature *feats;
	size_t n_feats, cap_feats;
	idoc *docs;
	size_t n_docs, cap_docs;
	cb_value *feat_ids, *doc_ids; /* name -> id (hashed maps) */
	scratch *sc;                  /* related()'s scratch (NULL until it is first needed) */
	int ranked;                   /* docs[].rank is up to date */
	struct hit *all;              /* idx:rank_all: all_k hits per document */
	uint32_t *all_n;              /* ... how many each has; NULL when none */
	size_t all_docs;              /* documents all has room for (n_docs when ranked, or 1) */
	lua_Integer all_k;
	double all_min;
} index_t;

/* Grow or free through the state's allocator; raises on failure. */
static void *ix_realloc(lua_State *L, index_t *ix, void *p, size_t old, size_t n)
{
	void *q = ix->alloc(ix->ud, p, old, n);

	if (!q && n)
		luaL_error(L, "not enough memory");
	return q;
}

static char *ix_strdup(lua_State *L, index_t *ix, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = ix_realloc(L, ix, NULL, 0, len);

	memcpy(p, s, len);
	return p;
}

static void ix_free_str(index_t *ix, char *s)
{
	if (s)
		ix->alloc(ix->ud, s, strlen(s) + 1, 0);
}

#define IX_GROW(L, ix, arr, n, cap, T)                                                             \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			size_t nc = (cap) ? (cap) * 2 : 8;                                         \
			(arr) = ix_realloc(L, ix, (arr), (cap) * sizeof(T), nc * sizeof(T));       \
			(cap) = nc;                                                                \
		}                                                                                  \
	} while (0)

typedef struct hit {
	uint32_t doc;
	double score;
} hit;

/* Forget what idx:rank_all ranked (the index changed, or goes). */
static void drop_all(index_t *ix)
{
	if (!ix->all_n)
		return;
	ix->alloc(ix->ud, ix->all, ix->all_docs * (size_t)ix->all_k * sizeof(hit), 0);
	ix->alloc(ix->ud, ix->all_n, ix->all_docs * sizeof(uint32_t), 0);
	ix->all = NULL;
	ix->all_n = NULL;
	ix->all_docs = 0;
}

static index_t *check_index(lua_State *L)
{
	index_t *ix = cb_lua__checkudata(L, 1, CB_LUA_INDEX);

	if (!ix->feat_ids)
		luaL_error(L, "the index was closed");
	return ix;
}

static int l_index_gc(lua_State *L)
{
	index_t *ix = cb_lua__checkudata(L, 1, CB_LUA_INDEX);
	size_t i;

	for (i = 0; i < ix->n_feats; i++) {
		ix_free_str(ix, ix->feats[i].name);
		ix->alloc(ix->ud, ix->feats[i].docs, ix->feats[i].cap * sizeof(uint32_t), 0);
	}
	ix->alloc(ix->ud, ix->feats, ix->cap_feats * sizeof(feature), 0);
	for (i = 0; i < ix->n_docs; i++) {
		ix_free_str(ix, ix->docs[i].key);
		ix_free_str(ix, ix->docs[i].title);
		ix->alloc(ix->ud, ix->docs[i].f, ix->docs[i].cap * sizeof(uint32_t), 0);
	}
	ix->alloc(ix->ud, ix->docs, ix->cap_docs * sizeof(idoc), 0);
	if (ix->sc) {
		ix->alloc(ix->ud, ix->sc->score, ix->sc->n_score * sizeof(double), 0);
		ix->alloc(ix->ud, ix->sc->touched, ix->sc->n_touched * sizeof(uint32_t), 0);
		ix->alloc(ix->ud, ix->sc->qpos, ix->sc->n_qpos * sizeof(uint32_t), 0);
		ix->alloc(ix->ud, ix->sc->ord, ix->sc->n_ord * sizeof(uint64_t), 0);
		ix->alloc(ix->ud, ix->sc, sizeof *ix->sc, 0);
	}
	drop_all(ix);
	cb_value_unref(ix->feat_ids);
	cb_value_unref(ix->doc_ids);
	memset(ix, 0, sizeof *ix);
	return 0;
}

/* casebook.index(): a new, empty index. */
static int l_index_new(lua_State *L)
{
	index_t *ix = lua_newuserdatauv(L, sizeof *ix, 0);

	memset(ix, 0, sizeof *ix);
	cb_lua__setmetatable(L, CB_LUA_INDEX);
	ix->alloc = lua_getallocf(L, &ix->ud);
	ix->feat_ids = cb_value_new_map();
	ix->doc_ids = cb_value_new_map();
	return 1;
}

static uint32_t doc_id(lua_State *L, index_t *ix, const char *key, const char *title)
{
	const cb_value *v = cb_value_getc(ix->doc_ids, key);
	idoc *d;

	if (v)
		return (uint32_t)cb_value_int(v);
	if (ix->n_docs >= UINT32_MAX - 1)
		luaL_error(L, "index: too many documents");
	IX_GROW(L, ix, ix->docs, ix->n_docs, ix->cap_docs, idoc);
	d = &ix->docs[ix->n_docs];
	memset(d, 0, sizeof *d);
	d->key = ix_strdup(L, ix, key);
	d->title = ix_strdup(L, ix, title);
	cb_value_setc(ix->doc_ids, key, cb_value_new_int((long long)ix->n_docs));
	ix->ranked = 0;
	drop_all(ix);
	return (uint32_t)ix->n_docs++;
}

static uint32_t feat_id(lua_State *L, index_t *ix, const char *name)
{
	const cb_value *v = cb_value_getc(ix->feat_ids, name);
	feature *f;

	if (v)
		return (uint32_t)cb_value_int(v);
	IX_GROW(L, ix, ix->feats, ix->n_feats, ix->cap_feats, feature);
	f = &ix->feats[ix->n_feats];
	memset(f, 0, sizeof *f);
	f->name = ix_strdup(L, ix, name);
	cb_value_setc(ix->feat_ids, name, cb_value_new_int((long long)ix->n_feats));
	return (uint32_t)ix->n_feats++;
}

static void add_feature(lua_State *L, index_t *ix, uint32_t d, const char *name, double w)
{
	uint32_t f = feat_id(L, ix, name);
	idoc *doc = &ix->docs[d];
	feature *ft = &ix->feats[f];
	size_t i;

	if (w > ft->w)
		ft->w = w; /* a feature weighs the most it was given */
	for (i = 0; i < doc->n; i++)
		if (doc->f[i] == f)
			return;
	/* Grow both lists first, then add to both: a memory error leaves no
	 * half-added feature. */
	IX_GROW(L, ix, doc->f, doc->n, doc->cap, uint32_t);
	IX_GROW(L, ix, ft->docs, ft->n, ft->cap, uint32_t);
	doc->f[doc->n++] = f;
	doc->sorted = 0;
	ft->docs[ft->n++] = d;
	drop_all(ix);
}

/* idx:add(key, title, features): features is a list of feature names
 * (weight 1) or a map feature -> weight (a positive number). Adding to a key
 * again adds features; a feature weighs the largest weight it was given. */
static int l_index_add(lua_State *L)
{
	index_t *ix = check_index(L);
	const char *key = luaL_checkstring(L, 2);
	const char *title = luaL_checkstring(L, 3);
	uint32_t d;

	luaL_checktype(L, 4, LUA_TTABLE);
	d = doc_id(L, ix, key, title);
	lua_pushnil(L);
	while (lua_next(L, 4)) { /* -- key, value */
		const char *name;
		double w;

		if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) {
			name = lua_tostring(L, -1);
			w = 1;
		} else if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER) {
			name = lua_tostring(L, -2);
			w = lua_tonumber(L, -1);
		} else {
			return luaL_error(L, "index:add: features must be a list of names or a map "
			                     "name -> weight");
		}
		if (!(w > 0) || w > 1e9)
			return luaL_error(L, "index:add: weight of '%s' must be a positive number", name);
		add_feature(L, ix, d, name, w);
		lua_pop(L, 1);
	}
	return 0;
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	return a < b ? -1 : a > b;
}

static void sort_doc(idoc *d)
{
	if (!d->sorted && d->n > 1)
		qsort(d->f, d->n, sizeof(uint32_t), cmp_u32);
	d->sorted = 1;
}

/* Is a ranked before b? Higher score, then title, then key. */
static int better(const index_t *ix, const hit *a, const hit *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	return ix->docs[a->doc].rank < ix->docs[b->doc].rank;
}

typedef struct titled {
	const char *title, *key;
	uint32_t doc;
} titled;

static int cmp_titled(const void *pa, const void *pb)
{
	const titled *a = pa, *b = pb;
	int c = strcmp(a->title, b->title);

	return c ? c : strcmp(a->key, b->key);
}

/* Number the documents by title (then key), so that ties cost no strcmp.
 * The scratch array is a userdata, freed by the collector even on error.
 * [-0, +0, m] */
static void rank_docs(lua_State *L, index_t *ix)
{
	titled *t;
	size_t i;

	if (ix->ranked)
		return;
	t = lua_newuserdatauv(L, ix->n_docs * sizeof *t + 1, 0);
	for (i = 0; i < ix->n_docs; i++) {
		t[i].title = ix->docs[i].title;
		t[i].key = ix->docs[i].key;
		t[i].doc = (uint32_t)i;
	}
	qsort(t, ix->n_docs, sizeof *t, cmp_titled);
	for (i = 0; i < ix->n_docs; i++)
		ix->docs[t[i].doc].rank = (uint32_t)i;
	lua_pop(L, 1);
	ix->ranked = 1;
}

static void push_number(lua_State *L, double x)
{
	if (x == (double)(lua_Integer)x)
		lua_pushinteger(L, (lua_Integer)x);
	else
		lua_pushnumber(L, x);
}

typedef struct shared {
	const char *name;
	double w;
} shared;

static int cmp_shared(const void *pa, const void *pb)
{
	const shared *a = pa, *b = pb;

	if (a->w != b->w)
		return a->w > b->w ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Push the list of features q and d share, heaviest first (then by name). */
static void push_shared(lua_State *L, index_t *ix, uint32_t q, uint32_t d)
{
	idoc *a = &ix->docs[q], *b = &ix->docs[d];
	size_t i = 0, j = 0, n = 0;
	shared *s;

	sort_doc(a);
	sort_doc(b);
	s = lua_newuserdatauv(L, (a->n < b->n ? a->n : b->n) * sizeof(shared) + 1, 0);
	while (i < a->n && j < b->n) {
		if (a->f[i] < b->f[j]) {
			i++;
		} else if (a->f[i] > b->f[j]) {
			j++;
		} else {
			s[n].name = ix->feats[a->f[i]].name;
			s[n].w = ix->feats[a->f[i]].w;
			n++;
			i++;
			j++;
		}
	}
	if (n > 1)
		qsort(s, n, sizeof(shared), cmp_shared);
	lua_createtable(L, (int)n, 0); /* -- box, list */
	for (i = 0; i < n; i++) {
		lua_pushstring(L, s[i].name);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_remove(L, -2);
}

/* Below this many postings in a query's lists, walking them all is cheaper
 * than choosing which to leave out. */
#define PRUNE_MIN 4096

/* Insert h into best (n of room k, best first); returns the new count. */
static size_t keep_best(const index_t *ix, hit *best, size_t n, size_t k, const hit *h)
{
	size_t j;

	if (n < k)
		n++;
	else if (!better(ix, h, &best[n - 1]))
		return n;
	for (j = n - 1; j > 0 && better(ix, h, &best[j - 1]); j--)
		best[j] = best[j - 1];
	best[j] = *h;
	return n;
}

/* The score of d against q, whose features' places are in qpos: the weights
 * of the features they share, added in q's order, as walking q's lists adds
 * them, so that both ways give the same number to the last bit. */
static double score_of(const index_t *ix, const idoc *qd, const uint32_t *qpos, uint32_t d)
{
	const idoc *dd = &ix->docs[d];
	double s = 0;
	size_t i, j;

	if (qd->n <= 64) {
		uint64_t m = 0;
		for (i = 0; i < dd->n; i++)
			if (qpos[dd->f[i]])
				m |= (uint64_t)1 << (qpos[dd->f[i]] - 1);
		for (; m; m &= m - 1)
			s += ix->feats[qd->f[__builtin_ctzll(m)]].w;
		return s;
	}
	for (i = 0; i < qd->n; i++)
		for (j = 0; j < dd->n; j++)
			if (dd->f[j] == qd->f[i]) {
				s += ix->feats[qd->f[i]].w;
				break;
			}
	return s;
}

static int cmp_u64_desc(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a > b ? -1 : a < b;
}

/* A score the k-th best document is sure to reach: the k-th best of a
 * sample (the documents on q's shortest lists), or 0 when the sample has
 * fewer than k that qualify. best (room for k) is scratch here. */
static double sure_score(const index_t *ix, uint32_t q, size_t k, double min_score, scratch *s,
                         hit *best)
{
	const idoc *qd = &ix->docs[q];
	size_t want = 4 * k + 16, seen = 0, nb = 0, i, t;

	for (i = qd->n; i-- > 0 && seen < want;) {
		const feature *f = &ix->feats[qd->f[(uint32_t)s->ord[i]]];
		for (t = 0; t < f->n && seen < want; t++) {
			hit h;
			h.doc = f->docs[t];
			if (h.doc == q || s->score[h.doc] != 0)
				continue; /* q itself, or sampled already */
			s->score[h.doc] = 1;
			s->touched[seen++] = h.doc;
			h.score = score_of(ix, qd, s->qpos, h.doc);
			if (h.score >= min_score)
				nb = keep_best(ix, best, nb, k, &h);
		}
	}
	for (i = 0; i < seen; i++)
		s->score[s->touched[i]] = 0;
	return nb == k ? best[k - 1].score : 0;
}

/* Rank the documents sharing features with q into best (room for k),
 * best first; returns how many.
 *
 * Walking every one of q's lists adds each feature's weight to every
 * document on it. But once some score T is sure to be reached by k documents
 * (or min_score is asked), a document on none but a set of lists whose
 * weights sum below T cannot be among them: the longest such lists are left
 * out, the documents on the others are the candidates, and each candidate is
 * scored whole from its own features. The result is the same as walking
 * them all, to the last tie. */
static size_t rank_one(const index_t *ix, uint32_t q, size_t k, double min_score, scratch *s,
                       hit *best)
{
	const idoc *qd = &ix->docs[q];
	size_t i, nt = 0, nb = 0, out = 0, total = 0, left = 0;
	double sure, rest = 0;
	int tried = 0, pruned;

	for (i = 0; i < qd->n; i++) {
		size_t n = ix->feats[qd->f[i]].n;
		s->qpos[qd->f[i]] = (uint32_t)i + 1;
		s->ord[i] = (uint64_t)n << 32 | i;
		total += n;
	}
	/* A query that could not leave enough out makes the next ones (1, 2,
	 * 4, ... up to 64) walk every list without trying: where the best
	 * scores are low, the sample would cost without saving. */
	if (s->idle > 0) {
		s->idle--;
	} else if (total >= PRUNE_MIN) {
		tried = 1;
		qsort(s->ord, qd->n, sizeof(uint64_t), cmp_u64_desc); /* longest first */
		sure = sure_score(ix, q, k, min_score, s, best);
		if (sure < min_score)
			sure = min_score;
		/* The margin covers adding the same weights in another order. */
		for (; out < qd->n; out++) {
			double w = ix->feats[qd->f[(uint32_t)s->ord[out]]].w;
			if (!((rest + w) * (1 + 1e-9) < sure))
				break;
			rest += w;
			left += s->ord[out] >> 32;
		}
	}
	/* Candidates are scored whole (a dozen features each) where the walk
	 * adds one weight per posting: worth it when most postings are left. */
	pruned = out > 0 && (total - left) * 8 < total;
	if (tried && pruned) {
		s->backoff = 0;
	} else if (tried) {
		s->backoff = s->backoff ? (s->backoff < 64 ? 2 * s->backoff : 64) : 1;
		s->idle = s->backoff;
	}
	/* Walk the lists kept (all of them, in q's order, unless pruned). */
	for (i = pruned ? out : 0; i < qd->n; i++) {
		const feature *f = &ix->feats[qd->f[pruned ? (uint32_t)s->ord[i] : i]];
		const uint32_t *p = f->docs, *end = p + f->n;
		double w = f->w;
		for (; p < end; p++) {
			/* Branch-free: whether d is new is a coin toss early on. */
			uint32_t d = *p;
			s->touched[nt] = d;
			nt += s->score[d] == 0;
			s->score[d] += w;
		}
	}
	/* Pruned, the sums above miss the lists left out: score whole. */
	if (pruned)
		for (i = 0; i < nt; i++)
			s->score[s->touched[i]] = score_of(ix, qd, s->qpos, s->touched[i]);
	for (i = 0; i < qd->n; i++)
		s->qpos[qd->f[i]] = 0;
	for (i = 0; i < nt; i++) {
		hit h;
		h.doc = s->touched[i];
		h.score = s->score[h.doc];
		s->score[h.doc] = 0;
		if (h.doc == q || h.score < min_score || h.score <= 0)
			continue;
		nb = keep_best(ix, best, nb, k, &h);
	}
	return nb;
}

/* What the threads of idx:rank_all share. */
typedef struct rank_job {
	const index_t *ix;
	size_t k;
	double min_score;
	hit *all;
	uint32_t *all_n;
	atomic_size_t next; /* the next document to rank */
} rank_job;

#define RANK_CHUNK 64

static void *rank_thread(void *arg)
{
	rank_job *job = arg;
	const index_t *ix = job->ix;
	size_t from, q, nf = ix->n_feats ? ix->n_feats : 1;
	scratch s;

	memset(&s, 0, sizeof s);
	s.score = cb_xcalloc(ix->n_docs ? ix->n_docs : 1, sizeof(double));
	s.touched = cb_xcalloc(ix->n_docs + 1, sizeof(uint32_t));
	s.qpos = cb_xcalloc(nf, sizeof(uint32_t));
	s.ord = cb_xcalloc(nf, sizeof(uint64_t));
	while ((from = atomic_fetch_add(&job->next, RANK_CHUNK)) < ix->n_docs)
		for (q = from; q < from + RANK_CHUNK && q < ix->n_docs; q++)
			job->all_n[q] = (uint32_t)rank_one(ix, (uint32_t)q, job->k, job->min_score, &s,
			                                   job->all + q * job->k);
	free(s.score);
	free(s.touched);
	free(s.qpos);
	free(s.ord);
	return NULL;
}

/* Threads idx:rank_all may use: those of the plugin stage (one outside it). */
static int rank_threads(lua_State *L)
{
	const cb_lua_host *h = cb_lua__from(L)->host;
	return h && h->threads > 0 ? cb_pool_threads(h->threads) : 1;
}

/*
 * idx:rank_all(k [, min_score]): rank every document at once, side by side
 * on the cores the build may use; related(key, k, min_score) with the same k
 * and min_score then reads the ranking instead of walking the lists again,
 * until a document or feature is added. Gives the same lists as asking
 * related for every key; worth it when a plugin asks for (nearly) all.
 */
static int l_index_rank_all(lua_State *L)
{
	index_t *ix = check_index(L);
	lua_Integer k = luaL_checkinteger(L, 2);
	double min_score = luaL_optnumber(L, 3, 0);
	size_t slots = ix->n_docs ? ix->n_docs : 1; /* documents the arrays have room for */
	size_t chunks;
	int threads;
	rank_job job;

	luaL_argcheck(L, k >= 1 && k <= 1000, 2, "between 1 and 1000");
	drop_all(ix);
	rank_docs(L, ix);
	/* Taken through the state's allocator (counted against its cap); raises
	 * before any thread starts. */
	job.all = ix_realloc(L, ix, NULL, 0, slots * (size_t)k * sizeof(hit));
	job.all_n = ix->alloc(ix->ud, NULL, 0, slots * sizeof(uint32_t));
	if (!job.all_n) {
		ix->alloc(ix->ud, job.all, slots * (size_t)k * sizeof(hit), 0);
		return luaL_error(L, "not enough memory");
	}
	job.ix = ix;
	job.k = (size_t)k;
	job.min_score = min_score;
	atomic_init(&job.next, 0);
	/* No more threads than chunks of documents. */
	chunks = ix->n_docs ? (ix->n_docs + RANK_CHUNK - 1) / RANK_CHUNK : 1;
	threads = rank_threads(L);
	if ((size_t)threads > chunks)
		threads = (int)chunks;
	cb_pool_run(threads, rank_thread, &job);
	ix->all = job.all;
	ix->all_n = job.all_n;
	ix->all_docs = slots;
	ix->all_k = k;
	ix->all_min = min_score;
	return 0;
}

/* Grow related()'s scratch to the index's size, zeroed where it must be.
 * Raises on failure; each array's size is kept as soon as it is grown. */
static void reserve_scratch(lua_State *L, index_t *ix)
{
	size_t nd = ix->n_docs ? ix->n_docs : 1, nf = ix->n_feats ? ix->n_feats : 1;
	scratch *s;

	if (!ix->sc) {
		ix->sc = ix_realloc(L, ix, NULL, 0, sizeof *ix->sc);
		memset(ix->sc, 0, sizeof *ix->sc);
	}
	s = ix->sc;
	if (s->n_score < nd) {
		s->score = ix_realloc(L, ix, s->score, s->n_score * sizeof(double), nd * sizeof(double));
		memset(s->score + s->n_score, 0, (nd - s->n_score) * sizeof(double));
		s->n_score = nd;
	}
	if (s->n_touched < nd + 1) {
		s->touched = ix_realloc(L, ix, s->touched, s->n_touched * sizeof(uint32_t),
		                        (nd + 1) * sizeof(uint32_t));
		s->n_touched = nd + 1;
	}
	if (s->n_qpos < nf) {
		s->qpos = ix_realloc(L, ix, s->qpos, s->n_qpos * sizeof(uint32_t), nf * sizeof(uint32_t));
		memset(s->qpos + s->n_qpos, 0, (nf - s->n_qpos) * sizeof(uint32_t));
		s->n_qpos = nf;
	}
	if (s->n_ord < nf) {
		s->ord = ix_realloc(L, ix, s->ord, s->n_ord * sizeof(uint64_t), nf * sizeof(uint64_t));
		s->n_ord = nf;
	}
}

/*
 * idx:related(key, k [, min_score]): up to k other documents sharing features
 * with key, as a list of {key, title, score, shared}, best first (ties by
 * title, then key). Unknown keys give an empty list.
 *
 * Walks the posting lists of the key's features, adding each feature's weight
 * to the score of every document on them, except the longest lists when the
 * best scores are sure to be out of their reach (rank_one): the cost is at
 * most the total length of those lists.
 */
static int l_index_related(lua_State *L)
{
	index_t *ix = check_index(L);
	const char *key = luaL_checkstring(L, 2);
	lua_Integer k = luaL_optinteger(L, 3, 5);
	double min_score = luaL_optnumber(L, 4, 0);
	const cb_value *v = cb_value_getc(ix->doc_ids, key);
	uint32_t q;
	size_t i, nb;
	hit *best;

	luaL_argcheck(L, k >= 1 && k <= 1000, 3, "between 1 and 1000");
	if (!v) {
		lua_newtable(L);
		return 1;
	}
	q = (uint32_t)cb_value_int(v);
	if (ix->all_n && ix->all_k == k && ix->all_min == min_score) {
		/* Ranked by idx:rank_all, which any change to the index drops. */
		best = ix->all + (size_t)q * (size_t)k;
		nb = ix->all_n[q];
	} else {
		reserve_scratch(L, ix);
		rank_docs(L, ix);
		/* Allocate before scoring: nothing may raise while scores are dirty. */
		best = lua_newuserdatauv(L, (size_t)k * sizeof(hit), 0); /* -- ..., box */
		nb = rank_one(ix, q, (size_t)k, min_score, ix->sc, best);
	}
	lua_createtable(L, (int)nb, 0); /* -- [box,] list */
	for (i = 0; i < nb; i++) {
		lua_createtable(L, 0, 4);
		lua_pushstring(L, ix->docs[best[i].doc].key);
		lua_setfield(L, -2, "key");
		lua_pushstring(L, ix->docs[best[i].doc].title);
		lua_setfield(L, -2, "title");
		push_number(L, best[i].score);
		lua_setfield(L, -2, "score");
		push_shared(L, ix, q, best[i].doc);
		lua_setfield(L, -2, "shared");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* idx:size(): number of documents and of distinct features. */
static int l_index_size(lua_State *L)
{
	index_t *ix = check_index(L);

	lua_pushinteger(L, (lua_Integer)ix->n_docs);
	lua_pushinteger(L, (lua_Integer)ix->n_feats);
	return 2;
}

/* }================================================================= */

void cb_lua__open_lib(lua_State *L)
{
	static const luaL_Reg funcs[] = {{"slug", l_slug},       {"fold", l_fold},
	                                 {"escape", l_escape},   {"hash", l_hash},
	                                 {"suggest", l_suggest}, {"index", l_index_new},
	                                 {NULL, NULL}};
	static const luaL_Reg index_methods[] = {{"add", l_index_add},
	                                         {"related", l_index_related},
	                                         {"rank_all", l_index_rank_all},
	                                         {"size", l_index_size},
	                                         {NULL, NULL}};
	int i;

	/* -- casebook */
	luaL_setfuncs(L, funcs, 0);
	lua_pushliteral(L, CB_VERSION);
	lua_setfield(L, -2, "version");
	lua_newtable(L);
	for (i = 0; cb_load_reserved_ids[i]; i++) {
		lua_pushstring(L, cb_load_reserved_ids[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "reserved_ids");

	cb_lua__newmetatable(L, CB_LUA_INDEX);
	lua_pushcfunction(L, l_index_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_index_gc);
	lua_setfield(L, -2, "__close");
	lua_newtable(L);
	luaL_setfuncs(L, index_methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "index");
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}
