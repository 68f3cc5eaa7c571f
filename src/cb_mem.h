/*
 * cb_mem: allocation with one out-of-memory policy.
 *
 * casebook is an application: running out of memory is not an input error it
 * can recover from, so these wrappers print a message and abort() instead of
 * returning NULL. Error paths elsewhere are then only for input and I/O errors.
 * Sizes derived from input must be checked with cb_mem_mul/cb_mem_add first.
 */
#ifndef CB_MEM_H
#define CB_MEM_H

#include <stddef.h>

#if defined(__GNUC__)
#define CB_MALLOC __attribute__((malloc))
#define CB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CB_MALLOC
#define CB_PRINTF(fmt, args)
#endif

/* Allocate n bytes. Never returns NULL; caller frees with free(). */
CB_MALLOC void *cb_xmalloc(size_t n);
/* Allocate and zero count*size bytes (overflow-checked). Caller frees. */
CB_MALLOC void *cb_xcalloc(size_t count, size_t size);
/* Resize p to n bytes. Never returns NULL. */
void *cb_xrealloc(void *p, size_t n);
/* Resize an array p to count elements of size bytes (overflow-checked). */
void *cb_xreallocarray(void *p, size_t count, size_t size);
/* Copy a NUL-terminated string. Caller frees. */
CB_MALLOC char *cb_xstrdup(const char *s);
/* Copy len bytes of s and add a NUL. Caller frees. */
CB_MALLOC char *cb_xstrndup(const char *s, size_t len);
/* printf into a new string. Caller frees. */
CB_MALLOC char *cb_xasprintf(const char *fmt, ...) CB_PRINTF(1, 2);

/* a + b, aborting on overflow. */
size_t cb_mem_add(size_t a, size_t b);
/* a * b, aborting on overflow. */
size_t cb_mem_mul(size_t a, size_t b);

#endif
