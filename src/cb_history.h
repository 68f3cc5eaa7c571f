/*
 * cb_history: the history of each case, as seen from several commits at once.
 *
 * From one cb_git_log (one walk over the repository) it works out, for each
 * tip commit (an edition, HEAD), which commits reachable from that tip
 * changed each file: the date it was added, the date of its last change, its
 * authors and the list of changes. Renames are followed: a file's history
 * goes on under its old name before the commit that renamed it. A file
 * deleted and added again starts a new history at the new addition.
 *
 * Following renames uses one name map per tip along the walk, as
 * `git log --follow` does; on histories where branches rename the same file
 * differently, the names of the branch walked first win.
 *
 * No libgit2 here: the log is plain data, so this is tested on its own.
 */
#ifndef CB_HISTORY_H
#define CB_HISTORY_H

#include <stddef.h>

#include "cb_git.h"
#include "cb_value.h"

typedef struct cb_history cb_history;

/*
 * Work out the histories of every file in log for each of the tips (commit
 * ids; a tip missing from the log has empty histories). Never fails; the
 * caller frees the result with cb_history_free. The log may be freed first.
 */
cb_history *cb_history_new(const cb_git_log *log, const char *const *tips, size_t n_tips);
void cb_history_free(cb_history *h);

/*
 * The history of the file at `path` (relative to the handbook folder, e.g.
 * "content/cases/a.md") as seen from tip number `tip`, or NULL when no
 * commit reachable from the tip changed it. A map for templates (borrowed,
 * valid as long as h; shared, so callers take a reference rather than
 * changing it):
 *   updated       date of the last change (YYYY-MM-DD)
 *   added         date the file was added (absent when the history is cut
 *                 off before, in a shallow clone)
 *   authors       [{name, email}] in order of their first change
 *   authors_text  "A, B and C"
 *   entries       [{date, subject, author, email, id, short_id, kind}] newest
 *                 first;
 *                 kind is "added", "renamed" or "changed"; a "renamed"
 *                 entry also has `from`, the file's path before it
 */
const cb_value *cb_history_get(const cb_history *h, size_t tip, const char *path);

/* Number of files with a history from tip `tip`. */
size_t cb_history_count(const cb_history *h, size_t tip);

/* The history of file number i (0 <= i < cb_history_count) from tip `tip`,
 * as cb_history_get gives it, with its path in *path (both borrowed, valid
 * as long as h); NULL past the end. */
const cb_value *cb_history_at(const cb_history *h, size_t tip, size_t i, const char **path);

#endif
