/*
 * cb_git: the libgit2 adapter.
 *
 * This is the only module that includes <git2.h>.
 */
#ifndef CB_GIT_H
#define CB_GIT_H

#include <stddef.h>

/* Start and stop libgit2 (reference-counted; call once each from main). */
void cb_git_init(void);
void cb_git_shutdown(void);

/* The git blob id of data[0..len) as 40 hex digits plus NUL into out.
 * Returns 0, or -1 if hashing failed. */
int cb_git_hash_blob(const char *data, size_t len, char *out);

#endif
