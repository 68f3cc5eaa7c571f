/*
 * cb_git: libgit2 adapter (see cb_git.h).
 */
#include "cb_git.h"

#include <git2.h>

void cb_git_init(void)
{
	git_libgit2_init();
}

void cb_git_shutdown(void)
{
	git_libgit2_shutdown();
}

int cb_git_hash_blob(const char *data, size_t len, char *out)
{
	git_oid oid;

	if (git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB) < 0)
		return -1;
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, &oid);
	return 0;
}
