/*
 * cb_utf8: utf8proc adapter (see cb_utf8.h).
 */
#include "cb_utf8.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Where the run of ASCII without NUL that starts at s[i] ends: the first
 * byte that is not ASCII or is NUL, found 16 bytes at a time (at most len;
 * the bytes after the last whole block are left to the caller's loop). */
static size_t skip_ascii(const char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	const __m128i zero = _mm_setzero_si128();

	while (len - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* High bits (non-ASCII) and NUL bytes in the block. */
		unsigned bits = (unsigned)(_mm_movemask_epi8(v) |
		                           _mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)));
		if (bits)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#else
	(void)s;
	(void)len;
#endif
	return i;
}

int cb_utf8_check(const char *s, size_t len, size_t *bad, int *nul)
{
	size_t i = 0;

	if (nul)
		*nul = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;

		i = skip_ascii(s, i, len);
		if (i == len)
			break;
		if ((unsigned char)s[i] < 0x80) {
			if (s[i] == '\0') {
				if (bad)
					*bad = i;
				if (nul)
					*nul = 1;
				return 0;
			}
			i++;
			continue;
		}
		n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i),
		                     &cp);
		if (n < 0) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += (size_t)n;
	}
	return 1;
}

size_t cb_utf8_chars(const char *s, size_t bytes)
{
	size_t i, n = 0;

	for (i = 0; i < bytes; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Letters that NFKD does not take apart, mapped to what a reader types. */
static const char *latin_extra(utf8proc_int32_t cp)
{
	switch (cp) {
	case 0x0141: case 0x0142: return "l";  /* Ł ł */
	case 0x00D8: case 0x00F8: return "o";  /* Ø ø */
	case 0x0110: case 0x0111: return "d";  /* Đ đ */
	case 0x00D0: case 0x00F0: return "d";  /* Ð ð */
	case 0x00DF: case 0x1E9E: return "ss"; /* ß ẞ */
	case 0x00C6: case 0x00E6: return "ae"; /* Æ æ */
	case 0x0152: case 0x0153: return "oe"; /* Œ œ */
	case 0x00DE: case 0x00FE: return "th"; /* Þ þ */
	case 0x0131: return "i";               /* ı */
	case 0x0126: case 0x0127: return "h";  /* Ħ ħ */
	case 0x0166: case 0x0167: return "t";  /* Ŧ ŧ */
	default: return NULL;
	}
}

/* Fold one code point into out. */
static void fold_cp(cb_buf *out, utf8proc_int32_t cp)
{
	utf8proc_int32_t dec[16];
	utf8proc_ssize_t n, i;
	int last_boundclass = 0;
	const char *extra = latin_extra(cp);

	if (extra) {
		cb_buf_puts(out, extra);
		return;
	}
	n = utf8proc_decompose_char(cp, dec, 16,
	                            UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
	                                UTF8PROC_DECOMPOSE,
	                            &last_boundclass);
	if (n < 0 || n > 16) {
		dec[0] = cp;
		n = 1;
	}
	for (i = 0; i < n; i++) {
		utf8proc_uint8_t enc[4];
		utf8proc_ssize_t k;
		const char *e2 = latin_extra(dec[i]);

		if (e2) {
			cb_buf_puts(out, e2);
			continue;
		}
		k = utf8proc_encode_char(dec[i], enc);
		cb_buf_put(out, (const char *)enc, (size_t)k);
	}
}

/* Copy the run of ASCII bytes that starts at s[i] (below len) to out in
 * lower case. Returns where the run ends. */
static size_t fold_ascii(cb_buf *out, const char *s, size_t i, size_t len)
{
	char *d;

	cb_buf_grow(out, len - i);
	d = out->ptr + out->len;
#ifdef __SSE2__
	{
		const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1);
		const __m128i bit = _mm_set1_epi8(0x20);

		/* 16 bytes at a time while none has its high bit set; ASCII
		 * bytes compare the same as signed. */
		for (; i + 16 <= len; i += 16, d += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i)), upper;
			if (_mm_movemask_epi8(x))
				break;
			upper = _mm_and_si128(_mm_cmpgt_epi8(x, before_a), _mm_cmplt_epi8(x, after_z));
			_mm_storeu_si128((__m128i *)(void *)d, _mm_or_si128(x, _mm_and_si128(upper, bit)));
		}
	}
#endif
	for (; i < len && (unsigned char)s[i] < 0x80; i++) {
		unsigned char c = (unsigned char)s[i];
		*d++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out->len = (size_t)(d - out->ptr);
	out->ptr[out->len] = '\0';
	return i;
}

void cb_utf8_fold(cb_buf *out, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n;
		size_t end = fold_ascii(out, s, i, len); /* most text, in one go */

		if (end > i) {
			i = end;
			continue;
		}
		n = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n < 0) {
			i++; /* skip an invalid byte */
			continue;
		}
		fold_cp(out, cp);
		i += (size_t)n;
	}
}

static int is_alnum_cp(utf8proc_int32_t cp)
{
	utf8proc_category_t cat;

	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
	cat = utf8proc_category(cp);
	return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
	       cat == UTF8PROC_CATEGORY_LT || cat == UTF8PROC_CATEGORY_LM ||
	       cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_ND ||
	       cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

void cb_utf8_slug(cb_buf *out, const char *s, size_t len)
{
	cb_buf folded = CB_BUF_INIT;
	size_t i = 0, start = out->len;
	int dash = 0;

	cb_utf8_fold(&folded, s, len);
	while (i < folded.len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)folded.ptr + i,
		                                      (utf8proc_ssize_t)(folded.len - i), &cp);
		if (n < 0) {
			i++;
			continue;
		}
		if (is_alnum_cp(cp)) {
			if (dash && out->len > start)
				cb_buf_putc(out, '-');
			dash = 0;
			cb_buf_put(out, folded.ptr + i, (size_t)n);
		} else if (cp != '\'' && cp != 0x2019) {
			/* apostrophes vanish: "children's" -> "childrens" */
			dash = 1;
		}
		i += (size_t)n;
	}
	cb_buf_dispose(&folded);
}

/* What each byte is to words: 1 an ASCII letter or digit, 0 any other
 * ASCII byte, 2 a byte of a longer character (utf8proc tells). */
static const unsigned char word_bytes[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Is the character at s[i] (not ASCII) a letter or digit? Sets *n to its
 * length; a byte that is not UTF-8 is one byte that is neither. */
static int cp_alnum(const char *s, size_t i, size_t len, size_t *n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
	                                      (utf8proc_ssize_t)(len - i), &cp);

	*n = k > 0 ? (size_t)k : 1;
	return k > 0 && is_alnum_cp(cp);
}

int cb_utf8_next_word(const char *s, size_t len, size_t *pos, size_t *start, size_t *wlen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = *pos, n;

	/* To the word's first letter or digit; ASCII, most of any text, is
	 * told by the table. */
	for (;;) {
		while (i < len && word_bytes[u[i]] == 0)
			i++;
		if (i >= len) {
			*pos = i;
			return 0;
		}
		if (word_bytes[u[i]] == 1 || cp_alnum(s, i, len, &n))
			break;
		i += n;
	}
	*start = i;
	/* Then to its end. */
	for (;;) {
		while (i < len && word_bytes[u[i]] == 1)
			i++;
		if (i >= len || word_bytes[u[i]] == 0 || !cp_alnum(s, i, len, &n))
			break;
		i += n;
	}
	*pos = i;
	*wlen = i - *start;
	return 1;
}
