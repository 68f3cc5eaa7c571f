/*
 * cb_utf8: the utf8proc adapter: validation, folding and slugs.
 *
 * This is the only module that includes <utf8proc.h>.
 */
#ifndef CB_UTF8_H
#define CB_UTF8_H

#include <stddef.h>

#include "cb_buf.h"

/* Check that s[0..len) is valid UTF-8 without NUL bytes. Returns 1 if so;
 * else 0, with the byte offset of the first bad byte in *bad (if not NULL)
 * and *nul set to 1 when that byte is a NUL. */
int cb_utf8_check(const char *s, size_t len, size_t *bad, int *nul);

/* Number of characters (code points) in the first `bytes` bytes of s, for
 * turning byte offsets into 1-based columns. Invalid bytes count as one. */
size_t cb_utf8_chars(const char *s, size_t bytes);

/* Append s folded for matching: lower case, accents and other marks removed,
 * and letters without a decomposition mapped to their plain Latin forms
 * (ł→l, ø→o, đ→d, ß→ss, æ→ae, œ→oe, þ→th, ı→i), so "Łódź" folds to "lodz".
 * The search index and the theme's search script fold the same way. */
void cb_utf8_fold(cb_buf *out, const char *s, size_t len);

/* Append an identifier made from s for URLs and anchors: folded as above,
 * runs of anything but letters and digits become one '-', no leading or
 * trailing '-'. Letters outside Latin (Greek, CJK, ...) are kept, lower-cased.
 * Appends nothing when s has no letters or digits. */
void cb_utf8_slug(cb_buf *out, const char *s, size_t len);

/* Find the next word in s[*pos, len): a run of letters and digits (Unicode
 * categories L and N, as for slugs). Returns 1 with the word at
 * s[*start, *start + *wlen) and *pos moved past it, or 0 when no word is
 * left. Invalid bytes separate words. Use on folded text to get the words
 * the search index holds (the theme's search script splits the same way). */
int cb_utf8_next_word(const char *s, size_t len, size_t *pos, size_t *start, size_t *wlen);

#endif
