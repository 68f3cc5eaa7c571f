/*
 * cb_value: the value tree shared by YAML front matter, Lua plugins and
 * Mustache templates.
 *
 * A value is null, a boolean, an integer, a float, a string, a date, a list or
 * a map (with ordered keys). Values are reference-counted so one subtree can
 * sit in several trees (a case's front matter inside many template contexts)
 * without copying: cb_value_ref() adds a reference, cb_value_unref() drops
 * one and frees the value with its children when the last one goes.
 *
 * Ownership: every cb_value_new_* returns a value with one reference owned by
 * the caller. Functions that put a value into a container *steal* that
 * reference (the container now owns it). Getters return borrowed pointers,
 * valid as long as the container holds them.
 *
 * Each value carries the 1-based line and column it came from (0 when it was
 * made in code), so later stages can report file:line:col.
 *
 * Reference counts are atomic, so values may be shared (ref, unref, read)
 * across threads; mutating a value is not thread-safe.
 */
#ifndef CB_VALUE_H
#define CB_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "cb_buf.h"

typedef enum cb_type {
	CB_NULL,
	CB_BOOL,
	CB_INT,
	CB_FLOAT,
	CB_STRING,
	CB_DATE,
	CB_LIST,
	CB_MAP
} cb_type;

typedef struct cb_value cb_value;

/* Constructors: each returns a new value with one reference (never NULL). */
cb_value *cb_value_new_null(void);
cb_value *cb_value_new_bool(int b);
cb_value *cb_value_new_int(long long i);
cb_value *cb_value_new_float(double d);
/* A string of len bytes (copied; may contain NUL bytes). */
cb_value *cb_value_new_string(const char *s, size_t len);
/* A string from a NUL-terminated C string (copied). */
cb_value *cb_value_new_cstr(const char *s);
/* A string made with printf. */
cb_value *cb_value_new_printf(const char *fmt, ...) CB_PRINTF(1, 2);
/* A calendar date; returns NULL when y-m-d is not a valid date. */
cb_value *cb_value_new_date(int y, int m, int d);
cb_value *cb_value_new_list(void);
cb_value *cb_value_new_map(void);

/* Add a reference; returns v. NULL is allowed and returned. */
cb_value *cb_value_ref(cb_value *v);
/* Drop a reference; frees v and its children on the last one. NULL is fine. */
void cb_value_unref(cb_value *v);

/* The type of v; CB_NULL for a NULL pointer. */
cb_type cb_value_type(const cb_value *v);
/* "null", "boolean", "integer", "float", "string", "date", "list", "map". */
const char *cb_type_name(cb_type t);

/* Source position (1-based; 0 when unknown). */
void cb_value_set_pos(cb_value *v, uint32_t line, uint32_t col);
uint32_t cb_value_line(const cb_value *v);
uint32_t cb_value_col(const cb_value *v);

/* Scalars. Each returns a neutral value (0, 0.0, NULL) for another type. */
int cb_value_bool(const cb_value *v);
long long cb_value_int(const cb_value *v);
/* A float, or an integer converted to double. */
double cb_value_float(const cb_value *v);
/* String bytes (NUL-terminated) and length; NULL if v is not a string. */
const char *cb_value_str(const cb_value *v, size_t *len);
/* The string, or NULL if v is not a string. */
const char *cb_value_cstr(const cb_value *v);
/* Date parts; returns 0 and leaves the outputs alone if v is not a date. */
int cb_value_date(const cb_value *v, int *y, int *m, int *d);

/* Number of items of a list or entries of a map; 0 for anything else. */
size_t cb_value_len(const cb_value *v);

/* Make room in a list or map for n items or entries in all, exactly (no
 * more is allocated until more are added): for containers whose size is
 * known before they are filled. Does nothing for other types or when there
 * is room already. */
void cb_value_reserve(cb_value *v, size_t n);

/* Lists. push steals item; at returns a borrowed item or NULL. */
void cb_value_push(cb_value *list, cb_value *item);
cb_value *cb_value_at(const cb_value *list, size_t i);

/* Maps keep keys in insertion order; setting an existing key replaces its
 * value in place. set steals val and copies the key. */
void cb_value_set(cb_value *map, const char *key, size_t klen, cb_value *val);
void cb_value_setc(cb_value *map, const char *key, cb_value *val);
/* Like cb_value_set, also recording where the key was written. */
void cb_value_set_at(cb_value *map, const char *key, size_t klen, cb_value *val,
                     uint32_t line, uint32_t col);
/* Borrowed value for key, or NULL. */
cb_value *cb_value_get(const cb_value *map, const char *key, size_t klen);
cb_value *cb_value_getc(const cb_value *map, const char *key);
/* Remove key; returns 1 if it was there. */
int cb_value_del(cb_value *map, const char *key);
/* The i-th entry of a map: key (NUL-terminated, borrowed: valid until the
 * map changes) and its length. */
const char *cb_value_key(const cb_value *map, size_t i, size_t *klen);
/* The i-th entry's value (borrowed). */
cb_value *cb_value_entry(const cb_value *map, size_t i);
/* Where the i-th key was written (0 when unknown). */
uint32_t cb_value_key_line(const cb_value *map, size_t i);
uint32_t cb_value_key_col(const cb_value *map, size_t i);

/* Convenience for map building: set key to a new string / int / bool. */
void cb_value_set_str(cb_value *map, const char *key, const char *s);
void cb_value_set_int(cb_value *map, const char *key, long long i);
void cb_value_set_bool(cb_value *map, const char *key, int b);

/* Append the text form of a scalar (strings as is, integers in decimal,
 * floats in shortest round-trip form, dates as YYYY-MM-DD, booleans as
 * true/false, null as nothing). Lists and maps append nothing. */
void cb_value_text(const cb_value *v, cb_buf *out);
/* Append v as JSON. indent > 0 pretty-prints with that many spaces. */
void cb_value_json(const cb_value *v, cb_buf *out, int indent);
/* Receives a piece of JSON from cb_value_json_flushing. */
typedef void (*cb_value_flush)(void *ctx, const char *data, size_t len);
/* cb_value_json for JSON too big to hold whole: whenever out holds chunk
 * bytes or more after a list item or map entry, flush(ctx, out's bytes) is
 * called and out is emptied. What follows the last flush stays in out. */
void cb_value_json_flushing(const cb_value *v, cb_buf *out, int indent, size_t chunk,
                            cb_value_flush flush, void *ctx);
/* Deep equality (positions ignored; map key order ignored). */
int cb_value_equal(const cb_value *a, const cb_value *b);
/* A deep copy with one reference, positions kept. */
cb_value *cb_value_copy(const cb_value *v);

#endif
