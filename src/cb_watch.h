/*
 * cb_watch: notices changes to a handbook's source folders (inotify).
 *
 * The only includer of <sys/inotify.h>. A watch holds roots: a folder on
 * disk and the names inside it that matter, e.g. the source folder with
 * casebook.yml, content, plugins and themes. The named folders are watched
 * with all their sub-folders, including sub-folders created, moved in or
 * renamed later; anything else in a root is ignored (site/, build/, .git).
 * Editors' scratch files are ignored too: hidden names (".x.swp",
 * ".#x"), backups ("x~"), autosaves ("#x#") and vim's write test "4913".
 * Symbolic links are never followed (the loader does not follow them either).
 *
 * Use: poll() cb_watch_fd for POLLIN, then cb_watch_read to collect what
 * changed. A watch belongs to one thread.
 *
 *     cb_watch *w;
 *     const char *names[] = {"casebook.yml", "content", NULL};
 *     cb_watch_new(&w);
 *     cb_watch_add(w, "/path/to/handbook", names);
 *     ... poll(cb_watch_fd(w)), cb_watch_read(w), until quiet ...
 *     for (i = 0; i < cb_watch_changes(w); i++)
 *         puts(cb_watch_change(w, i));           // "content/cases/a.md"
 *     cb_watch_clear(w);
 *     cb_watch_free(w);
 */
#ifndef CB_WATCH_H
#define CB_WATCH_H

#include <stddef.h>

typedef struct cb_watch cb_watch;

/* A watch with nothing in it yet. Returns 0 and *out (free with
 * cb_watch_free), or a negative errno (-EMFILE: the per-user limit of
 * inotify instances is reached). */
int cb_watch_new(cb_watch **out);

/* Free the watch and its descriptor; NULL is fine. */
void cb_watch_free(cb_watch *w);

/* Watch the entries of folder `root` whose names are in `names` (a
 * NULL-terminated list, copied). Names that do not exist yet are noticed
 * when they appear. Returns 0, or a negative errno: -ENOENT when root is not
 * a folder, -ENOSPC when the kernel's limit of watches is reached
 * (fs.inotify.max_user_watches). */
int cb_watch_add(cb_watch *w, const char *root, const char *const *names);

/* The descriptor to poll for POLLIN (non-blocking; owned by the watch). */
int cb_watch_fd(const cb_watch *w);

/* Number of folders being watched (for tests and messages). */
size_t cb_watch_count(const cb_watch *w);

/* Read every change waiting, without blocking, and add the paths that
 * changed to the watch's list of changes (see below). New folders are
 * watched before this returns. Returns the number of relevant events read
 * (0 when there were none or only ignored ones), or a negative errno. If the
 * kernel's queue overflowed, every folder is watched again and "*" is added
 * to the list (anything may have changed). */
int cb_watch_read(cb_watch *w);

/* The paths changed since the last cb_watch_clear, relative to their root
 * ("content/cases/a.md"), each once, in the order first seen. A file that
 * appeared and went away again (an editor's temporary file renamed over the
 * real one) is not a change. Borrowed; valid until the next read or clear. */
size_t cb_watch_changes(const cb_watch *w);
const char *cb_watch_change(const cb_watch *w, size_t i);

/* Forget the list of changes (after rebuilding). */
void cb_watch_clear(cb_watch *w);

#endif
