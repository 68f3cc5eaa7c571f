/*
 * cb_text: edit distance and suggestions (see cb_text.h).
 */
#include "cb_text.h"

#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"

size_t cb_text_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t *prev, *cur, *tmp;

	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	prev = cb_xcalloc(lb + 1, sizeof(size_t));
	cur = cb_xcalloc(lb + 1, sizeof(size_t));
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
			if (cur[j] < best)
				best = cur[j];
		}
		tmp = prev;
		prev = cur;
		cur = tmp;
		if (best > max) {
			free(prev);
			free(cur);
			return max + 1;
		}
	}
	best = prev[lb];
	free(prev);
	free(cur);
	return best > max ? max + 1 : best;
}

const char *cb_text_suggest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word), max = len / 3 < 2 ? 2 : len / 3, i, best = max + 1;
	const char *pick = NULL;

	for (i = 0; i < n; i++) {
		size_t d = cb_text_distance(word, candidates[i], max);
		if (d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	if (pick || len < 3)
		return pick;
	/* "co-designing" -> "co-design": a candidate the word starts with. */
	for (i = 0; i < n; i++) {
		size_t cl = strlen(candidates[i]);
		if (cl >= 3 && (strncmp(word, candidates[i], cl) == 0 ||
		                strncmp(candidates[i], word, len) == 0))
			return candidates[i];
	}
	return NULL;
}

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

size_t cb_text_find_word(const char *s, size_t len, size_t from, const char *word, size_t wl)
{
	size_t i;

	if (wl == 0)
		return len;
	for (i = from; i + wl <= len; i++) {
		/* memchr finds the candidates: most bytes are not word[0]. */
		const char *p = memchr(s + i, word[0], len - wl + 1 - i);
		if (!p)
			break;
		i = (size_t)(p - s);
		if (memcmp(s + i + 1, word + 1, wl - 1) != 0)
			continue;
		if (i > 0 && word_byte((unsigned char)s[i - 1]))
			continue;
		if (i + wl < len && word_byte((unsigned char)s[i + wl]))
			continue;
		return i;
	}
	return len;
}

/* Each eight bytes are mixed in with a multiply and a shift (as in
 * splitmix64's finaliser); the last few are read as one short word. */
uint32_t cb_text_hash32(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

uint64_t cb_text_hash64(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int cb_text_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
