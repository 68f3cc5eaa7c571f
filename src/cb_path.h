/*
 * cb_path: path arithmetic on '/'-separated relative paths, done on strings
 * (no filesystem access). Source and output paths inside casebook are always
 * relative to their root and normalised: no ".", no "..", no "//", no
 * leading or trailing '/'.
 */
#ifndef CB_PATH_H
#define CB_PATH_H

#include <stddef.h>

#include "cb_buf.h"

/* Join a and b with one '/' (either may be empty). Caller frees. */
char *cb_path_join(const char *a, const char *b);

/* Normalise a relative path lexically: drop "." and empty parts, resolve
 * "..". Returns a new string the caller frees, or NULL when the path is
 * absolute or climbs above its root ("../x", "a/../../x"). "" stays "". */
char *cb_path_normalize(const char *p, size_t len);

/* The folder part of p ("a/b/c.md" -> "a/b", "c.md" -> ""). Caller frees. */
char *cb_path_dirname(const char *p);

/* The last part of p ("a/b/c.md" -> "c.md"); borrowed, points into p. */
const char *cb_path_basename(const char *p);

/* The extension including the dot (".md"), or "" (borrowed, points into p). */
const char *cb_path_ext(const char *p);

/* Append to out the relative path that leads from folder `from_dir` to
 * `to` (both normalised, relative to the same root): from "cases" to
 * "index.html" gives "../index.html"; from "" to "cases/a.html" gives
 * "cases/a.html". */
void cb_path_relative(cb_buf *out, const char *from_dir, const char *to);

/* Append "../" once per folder level of the folder `dir` ("" for the root,
 * "../" for "cases", "../../" for "a/b"). */
void cb_path_root_prefix(cb_buf *out, const char *dir);

/* 1 if s is a valid slug: one or more of [a-z0-9-]. */
int cb_path_is_slug(const char *s, size_t len);

/* 1 if url has a scheme ("https:", "mailto:") or starts with "//". */
int cb_path_is_absolute_url(const char *url);

#endif
