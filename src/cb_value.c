/*
 * cb_value: reference-counted value tree (see cb_value.h).
 *
 * Strings are stored in the same allocation as their node. Maps keep an
 * array of entries in insertion order; once a map grows past a few entries it
 * also keeps an open-addressing hash index over that array, so lookups in
 * large maps (10,000 slugs) stay O(1).
 */
#include "cb_value.h"

#include <math.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_text.h"

#define MAP_INDEX_MIN 9 /* build a hash index from this many entries on */

/* A map entry. Keys of up to KEY_INLINE bytes (nearly all of them: "title",
 * "url", "items") are stored in the entry itself; longer ones are
 * allocated. */
#define KEY_INLINE 15
typedef struct map_entry {
	union {
		char *ptr;
		char buf[KEY_INLINE + 1];
	} k;
	uint32_t klen;
	uint32_t line, col;
	cb_value *val;
} map_entry;

#define KEY(me) ((me)->klen <= KEY_INLINE ? (me)->k.buf : (me)->k.ptr)

struct cb_value {
	_Atomic uint32_t refs; /* atomic: values are shared across render threads */
	uint8_t type;
	uint32_t line, col;
	union {
		int b;
		long long i;
		double f;
		struct {
			size_t len;
		} s;
		struct {
			int y, m, d;
		} date;
		struct {
			cb_value **items;
			size_t len, cap;
		} list;
		struct {
			map_entry *e;
			size_t len, cap;
			uint32_t *index; /* slots hold entry index + 1; 0 = empty */
			size_t index_cap;
		} map;
	} u;
};

/* Nodes are allocated only as large as their type needs: the header plus
 * the union member in use (a scalar takes 24 bytes, not the 56 of the
 * whole union). A string's bytes follow its length in the same block. */
#define HEADER_SIZE offsetof(cb_value, u)
#define STR(v) ((char *)(v) + HEADER_SIZE + sizeof(size_t))

static size_t payload_size(cb_type t)
{
	cb_value *v = NULL;

	switch (t) {
	case CB_NULL: return 0;
	case CB_BOOL: return sizeof v->u.b;
	case CB_INT: return sizeof v->u.i;
	case CB_FLOAT: return sizeof v->u.f;
	case CB_STRING: return sizeof v->u.s;
	case CB_DATE: return sizeof v->u.date;
	case CB_LIST: return sizeof v->u.list;
	case CB_MAP: return sizeof v->u.map;
	}
	return sizeof v->u;
}

/* A value of type t with `extra` bytes after its payload (a string's
 * bytes), which the caller fills: only the header and payload are zeroed. */
static cb_value *alloc_value(cb_type t, size_t extra)
{
	size_t head = HEADER_SIZE + payload_size(t);
	cb_value *v = cb_xmalloc(cb_mem_add(head, extra));

	memset(v, 0, head);
	atomic_init(&v->refs, 1);
	v->type = (uint8_t)t;
	return v;
}

cb_value *cb_value_new_null(void)
{
	return alloc_value(CB_NULL, 0);
}

cb_value *cb_value_new_bool(int b)
{
	cb_value *v = alloc_value(CB_BOOL, 0);

	v->u.b = b != 0;
	return v;
}

cb_value *cb_value_new_int(long long i)
{
	cb_value *v = alloc_value(CB_INT, 0);

	v->u.i = i;
	return v;
}

cb_value *cb_value_new_float(double d)
{
	cb_value *v = alloc_value(CB_FLOAT, 0);

	v->u.f = d;
	return v;
}

cb_value *cb_value_new_string(const char *s, size_t len)
{
	cb_value *v = alloc_value(CB_STRING, cb_mem_add(len, 1));

	if (len)
		memcpy(STR(v), s, len);
	STR(v)[len] = '\0';
	v->u.s.len = len;
	return v;
}

cb_value *cb_value_new_cstr(const char *s)
{
	return cb_value_new_string(s, strlen(s));
}

cb_value *cb_value_new_printf(const char *fmt, ...)
{
	cb_buf b = CB_BUF_INIT;
	cb_value *v;
	va_list ap;

	va_start(ap, fmt);
	cb_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	v = cb_value_new_string(b.ptr, b.len);
	cb_buf_dispose(&b);
	return v;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : days[m - 1];
}

cb_value *cb_value_new_date(int y, int m, int d)
{
	cb_value *v;

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return NULL;
	v = alloc_value(CB_DATE, 0);
	v->u.date.y = y;
	v->u.date.m = m;
	v->u.date.d = d;
	return v;
}

cb_value *cb_value_new_list(void)
{
	return alloc_value(CB_LIST, 0);
}

cb_value *cb_value_new_map(void)
{
	return alloc_value(CB_MAP, 0);
}

cb_value *cb_value_ref(cb_value *v)
{
	if (v)
		atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
	return v;
}

void cb_value_unref(cb_value *v)
{
	size_t i;

	if (!v || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) > 1)
		return;
	if (v->type == CB_LIST) {
		for (i = 0; i < v->u.list.len; i++)
			cb_value_unref(v->u.list.items[i]);
		free(v->u.list.items);
	} else if (v->type == CB_MAP) {
		for (i = 0; i < v->u.map.len; i++) {
			if (v->u.map.e[i].klen > KEY_INLINE)
				free(v->u.map.e[i].k.ptr);
			cb_value_unref(v->u.map.e[i].val);
		}
		free(v->u.map.e);
		free(v->u.map.index);
	}
	free(v);
}

cb_type cb_value_type(const cb_value *v)
{
	return v ? (cb_type)v->type : CB_NULL;
}

const char *cb_type_name(cb_type t)
{
	switch (t) {
	case CB_NULL: return "null";
	case CB_BOOL: return "boolean";
	case CB_INT: return "integer";
	case CB_FLOAT: return "float";
	case CB_STRING: return "string";
	case CB_DATE: return "date";
	case CB_LIST: return "list";
	case CB_MAP: return "map";
	}
	return "value";
}

void cb_value_set_pos(cb_value *v, uint32_t line, uint32_t col)
{
	v->line = line;
	v->col = col;
}

uint32_t cb_value_line(const cb_value *v)
{
	return v ? v->line : 0;
}

uint32_t cb_value_col(const cb_value *v)
{
	return v ? v->col : 0;
}

int cb_value_bool(const cb_value *v)
{
	return v && v->type == CB_BOOL ? v->u.b : 0;
}

long long cb_value_int(const cb_value *v)
{
	return v && v->type == CB_INT ? v->u.i : 0;
}

double cb_value_float(const cb_value *v)
{
	if (!v)
		return 0.0;
	if (v->type == CB_FLOAT)
		return v->u.f;
	if (v->type == CB_INT)
		return (double)v->u.i;
	return 0.0;
}

const char *cb_value_str(const cb_value *v, size_t *len)
{
	if (!v || v->type != CB_STRING) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = v->u.s.len;
	return STR(v);
}

const char *cb_value_cstr(const cb_value *v)
{
	return cb_value_str(v, NULL);
}

int cb_value_date(const cb_value *v, int *y, int *m, int *d)
{
	if (!v || v->type != CB_DATE)
		return 0;
	*y = v->u.date.y;
	*m = v->u.date.m;
	*d = v->u.date.d;
	return 1;
}

size_t cb_value_len(const cb_value *v)
{
	if (!v)
		return 0;
	if (v->type == CB_LIST)
		return v->u.list.len;
	if (v->type == CB_MAP)
		return v->u.map.len;
	return 0;
}

void cb_value_reserve(cb_value *v, size_t n)
{
	if (!v)
		return;
	if (v->type == CB_LIST && n > v->u.list.cap) {
		v->u.list.items = cb_xreallocarray(v->u.list.items, n, sizeof(cb_value *));
		v->u.list.cap = n;
	} else if (v->type == CB_MAP && n > v->u.map.cap) {
		v->u.map.e = cb_xreallocarray(v->u.map.e, n, sizeof(map_entry));
		v->u.map.cap = n;
	}
}

void cb_value_push(cb_value *list, cb_value *item)
{
	if (list->u.list.len == list->u.list.cap) {
		list->u.list.cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
		list->u.list.items = cb_xreallocarray(list->u.list.items, list->u.list.cap,
		                                      sizeof(cb_value *));
	}
	list->u.list.items[list->u.list.len++] = item;
}

cb_value *cb_value_at(const cb_value *list, size_t i)
{
	if (!list || list->type != CB_LIST || i >= list->u.list.len)
		return NULL;
	return list->u.list.items[i];
}

/* ---- maps -------------------------------------------------------------- */

static void index_insert(cb_value *map, size_t entry)
{
	size_t mask = map->u.map.index_cap - 1;
	size_t slot = cb_text_hash32(KEY(&map->u.map.e[entry]), map->u.map.e[entry].klen) & mask;

	while (map->u.map.index[slot])
		slot = (slot + 1) & mask;
	map->u.map.index[slot] = (uint32_t)entry + 1;
}

static void index_rebuild(cb_value *map)
{
	size_t cap = 16, i;

	free(map->u.map.index);
	map->u.map.index = NULL;
	map->u.map.index_cap = 0;
	if (map->u.map.len < MAP_INDEX_MIN)
		return;
	while (cap < map->u.map.len * 2)
		cap *= 2;
	map->u.map.index = cb_xcalloc(cap, sizeof(uint32_t));
	map->u.map.index_cap = cap;
	for (i = 0; i < map->u.map.len; i++)
		index_insert(map, i);
}

static long map_find(const cb_value *map, const char *key, size_t klen)
{
	size_t i;

	if (map->u.map.index) {
		size_t mask = map->u.map.index_cap - 1;
		size_t slot = cb_text_hash32(key, klen) & mask;
		uint32_t e;

		while ((e = map->u.map.index[slot]) != 0) {
			const map_entry *me = &map->u.map.e[e - 1];
			if (me->klen == klen && memcmp(KEY(me), key, klen) == 0)
				return (long)e - 1;
			slot = (slot + 1) & mask;
		}
		return -1;
	}
	for (i = 0; i < map->u.map.len; i++) {
		const map_entry *me = &map->u.map.e[i];
		if (me->klen == klen && memcmp(KEY(me), key, klen) == 0)
			return (long)i;
	}
	return -1;
}

void cb_value_set_at(cb_value *map, const char *key, size_t klen, cb_value *val,
                     uint32_t line, uint32_t col)
{
	long found = map_find(map, key, klen);
	map_entry *me;

	if (found >= 0) {
		me = &map->u.map.e[found];
		cb_value_unref(me->val);
		me->val = val;
		me->line = line;
		me->col = col;
		return;
	}
	if (map->u.map.len == map->u.map.cap) {
		map->u.map.cap = map->u.map.cap ? map->u.map.cap * 2 : 4;
		map->u.map.e = cb_xreallocarray(map->u.map.e, map->u.map.cap, sizeof(map_entry));
	}
	me = &map->u.map.e[map->u.map.len++];
	if (klen > UINT32_MAX - 1)
		abort(); /* keys come from files of at most a few MB */
	me->klen = (uint32_t)klen;
	if (klen <= KEY_INLINE) {
		memcpy(me->k.buf, key, klen);
		me->k.buf[klen] = '\0';
	} else {
		me->k.ptr = cb_xstrndup(key, klen);
	}
	me->line = line;
	me->col = col;
	me->val = val;
	if (map->u.map.len == MAP_INDEX_MIN || map->u.map.len * 2 > map->u.map.index_cap) {
		if (map->u.map.len >= MAP_INDEX_MIN)
			index_rebuild(map);
	} else if (map->u.map.index) {
		index_insert(map, map->u.map.len - 1);
	}
}

void cb_value_set(cb_value *map, const char *key, size_t klen, cb_value *val)
{
	cb_value_set_at(map, key, klen, val, 0, 0);
}

void cb_value_setc(cb_value *map, const char *key, cb_value *val)
{
	cb_value_set_at(map, key, strlen(key), val, 0, 0);
}

cb_value *cb_value_get(const cb_value *map, const char *key, size_t klen)
{
	long i;

	if (!map || map->type != CB_MAP)
		return NULL;
	i = map_find(map, key, klen);
	return i < 0 ? NULL : map->u.map.e[i].val;
}

cb_value *cb_value_getc(const cb_value *map, const char *key)
{
	return cb_value_get(map, key, strlen(key));
}

int cb_value_del(cb_value *map, const char *key)
{
	long i;

	if (!map || map->type != CB_MAP)
		return 0;
	i = map_find(map, key, strlen(key));
	if (i < 0)
		return 0;
	if (map->u.map.e[i].klen > KEY_INLINE)
		free(map->u.map.e[i].k.ptr);
	cb_value_unref(map->u.map.e[i].val);
	memmove(&map->u.map.e[i], &map->u.map.e[i + 1],
	        (map->u.map.len - (size_t)i - 1) * sizeof(map_entry));
	map->u.map.len--;
	index_rebuild(map);
	return 1;
}

const char *cb_value_key(const cb_value *map, size_t i, size_t *klen)
{
	if (!map || map->type != CB_MAP || i >= map->u.map.len)
		return NULL;
	if (klen)
		*klen = map->u.map.e[i].klen;
	return KEY(&map->u.map.e[i]);
}

cb_value *cb_value_entry(const cb_value *map, size_t i)
{
	if (!map || map->type != CB_MAP || i >= map->u.map.len)
		return NULL;
	return map->u.map.e[i].val;
}

uint32_t cb_value_key_line(const cb_value *map, size_t i)
{
	if (!map || map->type != CB_MAP || i >= map->u.map.len)
		return 0;
	return map->u.map.e[i].line;
}

uint32_t cb_value_key_col(const cb_value *map, size_t i)
{
	if (!map || map->type != CB_MAP || i >= map->u.map.len)
		return 0;
	return map->u.map.e[i].col;
}

void cb_value_set_str(cb_value *map, const char *key, const char *s)
{
	cb_value_setc(map, key, cb_value_new_cstr(s));
}

void cb_value_set_int(cb_value *map, const char *key, long long i)
{
	cb_value_setc(map, key, cb_value_new_int(i));
}

void cb_value_set_bool(cb_value *map, const char *key, int b)
{
	cb_value_setc(map, key, cb_value_new_bool(b));
}

/* ---- text and JSON ------------------------------------------------------ */

static void put_float(cb_buf *out, double d)
{
	char tmp[40];
	int prec;

	if (isnan(d)) {
		cb_buf_puts(out, "NaN");
		return;
	}
	if (isinf(d)) {
		cb_buf_puts(out, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	/* Whole numbers print as such ("300", not "3e+02"). */
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(tmp, sizeof tmp, "%.0f", d);
		cb_buf_puts(out, tmp);
		return;
	}
	/* Else the shortest precision that reads back to the same double. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	cb_buf_puts(out, tmp);
}

void cb_value_text(const cb_value *v, cb_buf *out)
{
	switch (cb_value_type(v)) {
	case CB_NULL:
	case CB_LIST:
	case CB_MAP:
		break;
	case CB_BOOL:
		cb_buf_puts(out, v->u.b ? "true" : "false");
		break;
	case CB_INT:
		cb_buf_printf(out, "%lld", v->u.i);
		break;
	case CB_FLOAT:
		put_float(out, v->u.f);
		break;
	case CB_STRING:
		cb_buf_put(out, STR(v), v->u.s.len);
		break;
	case CB_DATE:
		cb_buf_printf(out, "%04d-%02d-%02d", v->u.date.y, v->u.date.m, v->u.date.d);
		break;
	}
}

static void json_indent(cb_buf *out, int indent, int depth)
{
	if (indent <= 0)
		return;
	cb_buf_putc(out, '\n');
	for (int i = 0; i < indent * depth; i++)
		cb_buf_putc(out, ' ');
}

/* Where JSON goes: out, handed to flush whenever it holds chunk bytes or
 * more between two values (no flush: all of it stays in out). */
typedef struct json_out {
	cb_buf *out;
	int indent;
	size_t chunk;
	cb_value_flush flush;
	void *ctx;
} json_out;

static void json_maybe_flush(const json_out *o)
{
	if (o->flush && o->out->len >= o->chunk) {
		o->flush(o->ctx, o->out->ptr, o->out->len);
		cb_buf_clear(o->out);
	}
}

static void json_value(const cb_value *v, const json_out *o, int depth)
{
	cb_buf *out = o->out;
	size_t i;

	switch (cb_value_type(v)) {
	case CB_NULL:
		cb_buf_puts(out, "null");
		break;
	case CB_BOOL:
	case CB_INT:
		cb_value_text(v, out);
		break;
	case CB_FLOAT:
		if (isnan(v->u.f) || isinf(v->u.f))
			cb_buf_puts(out, "null");
		else
			put_float(out, v->u.f);
		break;
	case CB_STRING:
		cb_buf_putc(out, '"');
		cb_buf_put_json(out, STR(v), v->u.s.len);
		cb_buf_putc(out, '"');
		break;
	case CB_DATE:
		cb_buf_putc(out, '"');
		cb_value_text(v, out);
		cb_buf_putc(out, '"');
		break;
	case CB_LIST:
		cb_buf_putc(out, '[');
		for (i = 0; i < v->u.list.len; i++) {
			if (i)
				cb_buf_putc(out, ',');
			json_indent(out, o->indent, depth + 1);
			json_value(v->u.list.items[i], o, depth + 1);
			json_maybe_flush(o);
		}
		if (v->u.list.len)
			json_indent(out, o->indent, depth);
		cb_buf_putc(out, ']');
		break;
	case CB_MAP:
		cb_buf_putc(out, '{');
		for (i = 0; i < v->u.map.len; i++) {
			if (i)
				cb_buf_putc(out, ',');
			json_indent(out, o->indent, depth + 1);
			cb_buf_putc(out, '"');
			cb_buf_put_json(out, KEY(&v->u.map.e[i]), v->u.map.e[i].klen);
			cb_buf_puts(out, o->indent > 0 ? "\": " : "\":");
			json_value(v->u.map.e[i].val, o, depth + 1);
			json_maybe_flush(o);
		}
		if (v->u.map.len)
			json_indent(out, o->indent, depth);
		cb_buf_putc(out, '}');
		break;
	}
}

void cb_value_json(const cb_value *v, cb_buf *out, int indent)
{
	cb_value_json_flushing(v, out, indent, 0, NULL, NULL);
}

void cb_value_json_flushing(const cb_value *v, cb_buf *out, int indent, size_t chunk,
                            cb_value_flush flush, void *ctx)
{
	json_out o = {out, indent, chunk, flush, ctx};

	json_value(v, &o, 0);
}

int cb_value_equal(const cb_value *a, const cb_value *b)
{
	size_t i;

	if (a == b)
		return 1;
	if (cb_value_type(a) != cb_value_type(b))
		return 0;
	switch (cb_value_type(a)) {
	case CB_NULL:
		return 1;
	case CB_BOOL:
		return a->u.b == b->u.b;
	case CB_INT:
		return a->u.i == b->u.i;
	case CB_FLOAT:
		return a->u.f == b->u.f;
	case CB_STRING:
		return a->u.s.len == b->u.s.len && memcmp(STR(a), STR(b), a->u.s.len) == 0;
	case CB_DATE:
		return a->u.date.y == b->u.date.y && a->u.date.m == b->u.date.m &&
		       a->u.date.d == b->u.date.d;
	case CB_LIST:
		if (a->u.list.len != b->u.list.len)
			return 0;
		for (i = 0; i < a->u.list.len; i++)
			if (!cb_value_equal(a->u.list.items[i], b->u.list.items[i]))
				return 0;
		return 1;
	case CB_MAP:
		if (a->u.map.len != b->u.map.len)
			return 0;
		for (i = 0; i < a->u.map.len; i++) {
			const cb_value *other =
			    cb_value_get(b, KEY(&a->u.map.e[i]), a->u.map.e[i].klen);
			if (!other || !cb_value_equal(a->u.map.e[i].val, other))
				return 0;
		}
		return 1;
	}
	return 0;
}

cb_value *cb_value_copy(const cb_value *v)
{
	cb_value *c;
	size_t i;

	switch (cb_value_type(v)) {
	case CB_LIST:
		c = cb_value_new_list();
		for (i = 0; i < v->u.list.len; i++)
			cb_value_push(c, cb_value_copy(v->u.list.items[i]));
		break;
	case CB_MAP:
		c = cb_value_new_map();
		for (i = 0; i < v->u.map.len; i++)
			cb_value_set_at(c, KEY(&v->u.map.e[i]), v->u.map.e[i].klen,
			                cb_value_copy(v->u.map.e[i].val), v->u.map.e[i].line,
			                v->u.map.e[i].col);
		break;
	case CB_STRING:
		c = cb_value_new_string(STR(v), v->u.s.len);
		break;
	default:
		if (!v)
			return cb_value_new_null();
		c = alloc_value((cb_type)v->type, 0);
		memcpy(&c->u, &v->u, payload_size((cb_type)v->type));
		break;
	}
	if (v)
		cb_value_set_pos(c, v->line, v->col);
	return c;
}
