/*
 * cb_git: the libgit2 adapter.
 *
 * This is the only module that includes <git2.h>. It answers what casebook
 * asks of a git repository, in casebook's own types: where the handbook sits
 * in a repository, what a revision or a tag names, the files of the handbook
 * at a commit (a cb_source), and the commits that changed the cases (a
 * cb_git_log, read in one walk for all the commits asked about). It only
 * reads: the working tree, the index and the refs are never touched.
 *
 * Errors go to the diagnostics list given, with libgit2's own message.
 *
 * Threads. libgit2 objects may be used from one thread at a time, so a
 * cb_git_repo serialises every call into libgit2 with its own lock; the
 * sources it opens may then be read from several loader threads at once.
 */
#ifndef CB_GIT_H
#define CB_GIT_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_diag.h"
#include "cb_source.h"

/* Start and stop libgit2 (reference-counted; call once each from main). */
void cb_git_init(void);
void cb_git_shutdown(void);

/* The git blob id of data[0..len) as 40 hex digits plus NUL into out.
 * Returns 0, or -1 if hashing failed. */
int cb_git_hash_blob(const char *data, size_t len, char *out);

/* ---- repositories -------------------------------------------------------- */

typedef struct cb_git_repo cb_git_repo;

/* No repository holds the folder (returned by cb_git_repo_open). */
#define CB_GIT_ENOREPO (-2)
/* The repository belongs to another user and git's safe.directory does not
 * name it (returned by cb_git_repo_open). */
#define CB_GIT_EOWNER (-4)
/* A revision that names no commit (returned by cb_git_resolve). */
#define CB_GIT_ENOTFOUND (-3)

/*
 * Open the repository whose working tree holds folder `dir` (searching the
 * folder and its parents, as git does). Returns 0 and a repository the caller
 * frees with cb_git_repo_free; CB_GIT_ENOREPO when there is none (or only a
 * bare one) and CB_GIT_EOWNER when it belongs to another user (git's
 * safe.directory rule), reporting nothing; -1 after reporting a broken
 * repository to diags.
 */
int cb_git_repo_open(cb_git_repo **out, const char *dir, cb_diag_list *diags);
void cb_git_repo_free(cb_git_repo *repo);

/*
 * Append to out what a build reads from the repository besides the files of
 * the working tree: HEAD, every reference (name and target) and whether the
 * clone is shallow, plus the working tree's top folder (where .mailmap
 * lies). Enough to tell that history and editions are unchanged since a
 * previous build. Cannot fail (a reference that cannot be read is written
 * as unreadable).
 */
void cb_git_repo_state(cb_git_repo *repo, cb_buf *out);

/* Where `dir` sits in the repository: "" at its top, else "a/b/" (borrowed). */
const char *cb_git_repo_prefix(const cb_git_repo *repo);
/* 1 if the repository is a shallow clone (its history is cut off). */
int cb_git_repo_is_shallow(cb_git_repo *repo);

/* A commit's author date: seconds since the epoch and the author's offset
 * from UTC in minutes. */
typedef struct cb_git_time {
	long long time;
	int offset;
} cb_git_time;

/* Format t as YYYY-MM-DD in its own offset into out[11]. */
void cb_git_time_date(cb_git_time t, char *out);

/*
 * Resolve revision `rev` (a commit id or a prefix of one, a tag, a branch,
 * "HEAD", anything git rev-parse accepts) to a commit. Returns 0 with the
 * commit id in id[CB_OID_HEXSZ + 1] and, if `when` is not NULL, its author
 * date; CB_GIT_ENOTFOUND when rev names nothing or no commit (nothing is
 * reported: the caller knows where rev came from).
 */
int cb_git_resolve(cb_git_repo *repo, const char *rev, char *id, cb_git_time *when);

/* A tag and the commit it names. */
typedef struct cb_git_tag {
	char *name;                   /* "edition-2025" */
	char commit[CB_OID_HEXSZ + 1];
	cb_git_time when;             /* tagger date of an annotated tag, else the commit's date */
	char *message;                /* an annotated tag's message, trimmed; NULL otherwise */
} cb_git_tag;

/*
 * The tags whose names match glob (fnmatch(3) rules: "edition-*") and name a
 * commit, sorted by name. Tags naming something else (a tree, a blob) are
 * left out. Returns 0 with an array the caller frees with cb_git_tags_free
 * (NULL and 0 when none match), or -1 after reporting.
 */
int cb_git_tags(cb_git_repo *repo, const char *glob, cb_git_tag **out, size_t *n,
                cb_diag_list *diags);
void cb_git_tags_free(cb_git_tag *tags, size_t n);

/*
 * A source over the handbook's folder (the repository prefix) in the tree of
 * commit `id` (40 hex digits). Files are read straight from the object
 * database; a file's blob id is its tree entry's, so asking for it reads
 * nothing. Symbolic links list as CB_FS_LINK and submodules as CB_FS_OTHER.
 * Returns 0 and a source the caller frees with cb_source_free (before the
 * repository, which it borrows), or -1 after reporting.
 */
int cb_git_source_open(cb_source **out, cb_git_repo *repo, const char *id, const char *label,
                       cb_diag_list *diags);

/* ---- history --------------------------------------------------------------- */

/* What a commit did to one file, against its first parent. Paths are
 * relative to the handbook folder. */
typedef struct cb_git_change {
	char status;    /* 'A' added, 'M' modified, 'D' deleted, 'R' renamed */
	char *path;     /* the path after the commit (before it, for 'D') */
	char *old_path; /* for 'R': the path before; else NULL */
} cb_git_change;

typedef struct cb_git_commit {
	char id[CB_OID_HEXSZ + 1];
	cb_git_time when;  /* author date */
	char *author;      /* author name and email after .mailmap */
	char *email;
	char *subject;     /* the first paragraph of the message, on one line */
	size_t *parents;   /* indices into the log's commits (those it holds) */
	size_t n_parents;
	int boundary;      /* a parent is missing (a shallow clone's edge): what
	                    * the commit changed is unknown, so changes is empty */
	cb_git_change *changes;
	size_t n_changes;
} cb_git_commit;

/* The commits reachable from some tips, children before parents. */
typedef struct cb_git_log {
	cb_git_commit *commits;
	size_t n;
	int shallow; /* some commit's parent is missing */
} cb_git_log;

/*
 * Read the history of the files under folder `under` (relative to the
 * handbook folder, e.g. "content/cases") in one walk over every commit
 * reachable from the tips (commit ids). Commits come out in topological
 * order, children before parents, newer first among the rest (git log
 * --topo-order). Each commit's changes are taken against its first parent
 * with renames detected (50% similarity, as git does); a merge keeps only
 * the changes that differ from every parent (what the merge itself did).
 * Authors go through the repository's .mailmap.
 *
 * Returns 0 and a log the caller frees with cb_git_log_free, or -1 after
 * reporting. A missing parent (a shallow clone) is not an error: the commit
 * is marked as a boundary and the walk goes on.
 */
int cb_git_log_read(cb_git_log **out, cb_git_repo *repo, const char *const *tips,
                    size_t n_tips, const char *under, cb_diag_list *diags);
void cb_git_log_free(cb_git_log *log);
/* Index of commit id in log, or -1. */
long cb_git_log_find(const cb_git_log *log, const char *id);

#endif
