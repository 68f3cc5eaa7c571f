/*
 * cb_text: small text helpers: edit distance and "did you mean".
 */
#ifndef CB_TEXT_H
#define CB_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Levenshtein distance between a and b (bytes), capped at max+1: returns
 * max+1 as soon as the distance is known to exceed max. */
size_t cb_text_distance(const char *a, const char *b, size_t max);

/* The candidate closest to word, or NULL when none is close enough (a
 * distance of at most a third of the word's length, at least 2) and none
 * starts with word or contains it. Borrowed from candidates. */
const char *cb_text_suggest(const char *word, const char *const *candidates, size_t n);

/* Offset of the first whole-word occurrence of word (wl bytes) in
 * s[from..len), or len when there is none (or wl is 0). A whole word has no
 * letter, digit, '_' or non-ASCII byte right before or after it. */
size_t cb_text_find_word(const char *s, size_t len, size_t from, const char *word, size_t wl);

/* A hash of len bytes, for hash tables in memory (not for security, and not
 * to be kept: it may differ between machines and versions). Reads eight
 * bytes at a time. */
uint32_t cb_text_hash32(const char *s, size_t len);
uint64_t cb_text_hash64(const char *s, size_t len);

/* The value of a hexadecimal digit, or -1. */
int cb_text_hexval(char c);

#endif
