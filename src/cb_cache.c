/*
 * cb_cache: what the editions of one build share (see cb_cache.h).
 */
#include "cb_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cb_git.h"
#include "cb_mem.h"
#include "cb_value.h"

typedef struct doc_entry {
	cb_doc *doc;
	int failed;
} doc_entry;

/* Where a page or a piece was written: a file and a byte range in it (for
 * a page, where its edition switcher is). */
typedef struct page_entry {
	char *path;
	size_t hole, hole_len;
} page_entry;

struct cb_cache {
	pthread_mutex_t lock;
	cb_value *docs;  /* key -> index into doc_v */
	doc_entry *doc_v;
	size_t n_docs, cap_docs;
	cb_value *pages; /* key -> index into page_v */
	page_entry *page_v;
	size_t n_pages, cap_pages;
	cb_value *pieces; /* key -> index into page_v as well */
	cb_value *blobs;  /* key -> the bytes (a string value) */
	char marker[96];
	cb_cache_stats stats;
};

cb_cache *cb_cache_new(void)
{
	cb_cache *c = cb_xcalloc(1, sizeof *c);
	struct timespec ts;
	char seed[128], id[CB_OID_HEXSZ + 1];

	pthread_mutex_init(&c->lock, NULL);
	c->docs = cb_value_new_map();
	c->pages = cb_value_new_map();
	c->pieces = cb_value_new_map();
	c->blobs = cb_value_new_map();
	/* Unguessable enough that no page holds it by chance: the time, the
	 * process and an address, hashed. NUL-free, since templates and
	 * markers are C strings. */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(seed, sizeof seed, "%lld.%ld.%ld.%p", (long long)ts.tv_sec, ts.tv_nsec,
	         (long)getpid(), (void *)c);
	if (cb_git_hash_blob(seed, strlen(seed), id) < 0)
		snprintf(id, sizeof id, "%lx.%lx", (unsigned long)ts.tv_nsec, (unsigned long)getpid());
	snprintf(c->marker, sizeof c->marker, "\x01" "casebook-edition-switcher-%s\x01", id);
	return c;
}

void cb_cache_free(cb_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_docs; i++)
		cb_doc_free(c->doc_v[i].doc);
	free(c->doc_v);
	for (i = 0; i < c->n_pages; i++)
		free(c->page_v[i].path);
	free(c->page_v);
	cb_value_unref(c->docs);
	cb_value_unref(c->pages);
	cb_value_unref(c->pieces);
	cb_value_unref(c->blobs);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *cb_cache_marker(const cb_cache *c)
{
	return c->marker;
}

cb_doc *cb_cache_doc_get(cb_cache *c, const char *key, int *failed)
{
	const cb_value *v;
	cb_doc *d = NULL;

	pthread_mutex_lock(&c->lock);
	v = cb_value_getc(c->docs, key);
	if (v) {
		doc_entry *e = &c->doc_v[cb_value_int(v)];
		d = cb_doc_share(e->doc);
		*failed = e->failed;
		c->stats.docs_shared++;
	} else {
		c->stats.docs_parsed++;
	}
	pthread_mutex_unlock(&c->lock);
	return d;
}

void cb_cache_doc_put(cb_cache *c, const char *key, const cb_doc *doc, int failed)
{
	pthread_mutex_lock(&c->lock);
	if (!cb_value_getc(c->docs, key)) {
		if (c->n_docs == c->cap_docs) {
			c->cap_docs = c->cap_docs ? c->cap_docs * 2 : 256;
			c->doc_v = cb_xreallocarray(c->doc_v, c->cap_docs, sizeof *c->doc_v);
		}
		c->doc_v[c->n_docs].doc = cb_doc_share(doc);
		c->doc_v[c->n_docs].failed = failed;
		cb_value_setc(c->docs, key, cb_value_new_int((long long)c->n_docs));
		c->n_docs++;
	}
	pthread_mutex_unlock(&c->lock);
}

/* Look key up in index (pages or pieces), counting a hit or a miss. */
static int range_get(cb_cache *c, const cb_value *index, const char *key, const char **path,
                     size_t *at, size_t *len, size_t *hits, size_t *misses)
{
	const cb_value *v;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	v = cb_value_getc(index, key);
	if (v) {
		page_entry *e = &c->page_v[cb_value_int(v)];
		*path = e->path;
		*at = e->hole;
		*len = e->hole_len;
		(*hits)++;
		found = 1;
	} else {
		(*misses)++;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static void range_put(cb_cache *c, cb_value *index, const char *key, const char *path, size_t at,
                      size_t len)
{
	pthread_mutex_lock(&c->lock);
	if (!cb_value_getc(index, key)) {
		if (c->n_pages == c->cap_pages) {
			c->cap_pages = c->cap_pages ? c->cap_pages * 2 : 256;
			c->page_v = cb_xreallocarray(c->page_v, c->cap_pages, sizeof *c->page_v);
		}
		c->page_v[c->n_pages].path = cb_xstrdup(path);
		c->page_v[c->n_pages].hole = at;
		c->page_v[c->n_pages].hole_len = len;
		cb_value_setc(index, key, cb_value_new_int((long long)c->n_pages));
		c->n_pages++;
	}
	pthread_mutex_unlock(&c->lock);
}

int cb_cache_page_get(cb_cache *c, const char *key, const char **path, size_t *hole,
                      size_t *hole_len)
{
	return range_get(c, c->pages, key, path, hole, hole_len, &c->stats.pages_shared,
	                 &c->stats.pages_rendered);
}

void cb_cache_page_put(cb_cache *c, const char *key, const char *path, size_t hole,
                       size_t hole_len)
{
	range_put(c, c->pages, key, path, hole, hole_len);
}

int cb_cache_piece_get(cb_cache *c, const char *key, const char **path, size_t *offset,
                       size_t *len)
{
	return range_get(c, c->pieces, key, path, offset, len, &c->stats.pieces_shared,
	                 &c->stats.pieces_rendered);
}

void cb_cache_piece_put(cb_cache *c, const char *key, const char *path, size_t offset,
                        size_t len)
{
	range_put(c, c->pieces, key, path, offset, len);
}

int cb_cache_blob_get(cb_cache *c, const char *key, cb_buf *out)
{
	const cb_value *v;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	v = cb_value_getc(c->blobs, key);
	if (v) {
		size_t len;
		const char *data = cb_value_str(v, &len);
		cb_buf_put(out, data, len);
		c->stats.blobs_shared++;
		found = 1;
	} else {
		c->stats.blobs_made++;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

void cb_cache_blob_put(cb_cache *c, const char *key, const char *data, size_t len)
{
	pthread_mutex_lock(&c->lock);
	if (!cb_value_getc(c->blobs, key))
		cb_value_setc(c->blobs, key, cb_value_new_string(data, len));
	pthread_mutex_unlock(&c->lock);
}

void cb_cache_stats_get(cb_cache *c, cb_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
