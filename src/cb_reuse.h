/*
 * cb_reuse: the persistent build cache, SOURCE/.casebook-cache/.
 *
 * A build whose inputs are all the same as those of the last successful
 * build into the same output folder, which nobody touched since, would
 * write the same bytes again: casebook then leaves the site as it is and
 * reports what that build reported. The build's key is a hash of every
 * input by content (git blob ids): the casebook binary, the source folder's
 * files (but the output folder and hidden entries), the installed themes
 * and plugins, the git repository's HEAD and references (history and
 * editions), and the build options (see cb_build.c). A stat cache (size,
 * modification time and inode of each file with its blob id, as git's index
 * keeps them) spares reading files that did not change.
 *
 * The cache file is written atomically after a successful build. A missing,
 * unreadable, truncated or foreign cache (another format) is ignored, as if
 * empty, and replaced by the next successful build; `--no-cache` neither
 * reads nor writes it.
 */
#ifndef CB_REUSE_H
#define CB_REUSE_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_diag.h"

/* The cache's folder inside the source folder. */
#define CB_REUSE_DIR ".casebook-cache"

typedef struct cb_reuse cb_reuse;

/* What the last successful build reported (for the summary line). */
typedef struct cb_reuse_result {
	size_t cases, pages, editions;
} cb_reuse_result;

/* Open the cache in folder dir (created when saving). Keying reads and
 * hashes the files the stat cache does not know on `threads` threads (the
 * -j option: 0 is one per core). Never fails: a missing or bad cache file
 * is an empty cache. Free with cb_reuse_free. */
cb_reuse *cb_reuse_open(const char *dir, int threads);
void cb_reuse_free(cb_reuse *c);

/*
 * Append "<path> <blob id>\n" for file `path` to key, the id from the stat
 * cache when the file's size, modification time and inode are those
 * recorded, else read and hashed (and recorded for saving). A symbolic link
 * is keyed by its target's text; an unreadable file by its error. Cannot
 * fail.
 */
void cb_reuse_key_file(cb_reuse *c, const char *path, cb_buf *key);

/* The same for every file under folder root, in name order, leaving out
 * hidden entries (names starting with '.') and the folder `skip` (a real
 * path, or NULL). A missing folder adds "<root> missing". */
void cb_reuse_key_tree(cb_reuse *c, const char *root, const char *skip, cb_buf *key);

/* Whether the cache holds a last build (one cb_reuse_fresh could find
 * fresh). */
int cb_reuse_has_record(const cb_reuse *c);

/*
 * Key the files under root as cb_reuse_key_tree does, but for a build that
 * has no last build to compare with (cb_reuse_has_record), whose key is
 * needed only to be saved at its end: a file the stat cache does not know
 * is not read now. Its id is left as a placeholder in key, filled by the
 * id the loader learns when it reads the file (cb_reuse_learn_id) or, for
 * the other files, by cb_reuse_key_finish. The stat recorded for it is the
 * listing's, taken before anything read it: a file changed after that is
 * read and hashed again by the next build.
 */
void cb_reuse_key_tree_later(cb_reuse *c, const char *root, const char *skip, cb_buf *key);

/* The blob id (CB_OID_HEXSZ hex digits) of file `path` (as given to the
 * keying) hashed from the bytes the loader read. Files not keyed later are
 * left alone. Safe to call from several threads once keying is done. */
void cb_reuse_learn_id(cb_reuse *c, const char *path, const char *id);

/*
 * Fill the placeholders cb_reuse_key_tree_later left in key (the same
 * buffer, after any appends): the ids learned, and for the other files the
 * ids of their bytes, read and hashed now on the keying threads. A file
 * that changed since it was listed (the build may have read it before),
 * or cannot be read, spoils its id: the key then matches no later build's,
 * and the file is not put in the stat cache. Call after every read of the
 * build, before hashing key.
 */
void cb_reuse_key_finish(cb_reuse *c, cb_buf *key);

/*
 * The blob id keyed for file `path` (as given to cb_reuse_key_*) by this
 * build, into out[CB_OID_HEXSZ + 1], if the file is still as it was then:
 * the same size, modification time and inode, so that the loader need not
 * hash it again. Returns 0, or -1 when the file was not keyed, changed
 * while it was, or changed since. Safe to call from several threads once
 * keying is done.
 */
int cb_reuse_known_id(cb_reuse *c, const char *path, char *out);

/*
 * Whether the last successful build had this key and wrote output folder
 * out (a real path), and that folder still holds exactly the files it
 * wrote, untouched (same names, sizes, modification times and inodes).
 * Returns 1 and fills *res and diags with what that build reported
 * (warnings and errors; notes are not kept), else 0.
 */
int cb_reuse_fresh(cb_reuse *c, const char *key, const char *out, cb_reuse_result *res,
                   cb_diag_list *diags);

/* ---- sites reused whole -----------------------------------------------------
 *
 * An edition is built from a commit, so when casebook, its installed
 * themes and plugins and the editions are the same as in the last build,
 * and the latest has the same pages among those the edition has (its
 * edition switcher links to them), the edition's folder would come out the
 * same: the folder is then moved whole from the last build's site into the
 * new one (or its files hard-linked, where it cannot be) instead of being
 * built again. The caller keys a site (cb_build.c); this module
 * remembers, per site (by its folder, e.g. "editions/2025/"), the key, the
 * pages and what its build reported.
 */

/* The pages site `prefix` had in the last build (borrowed, valid as long as
 * c; NULL-free), or NULL (*n 0) if the last build had no such site. */
const char *const *cb_reuse_site_pages(const cb_reuse *c, const char *prefix, size_t *n);

/* 1 if the last build had site `prefix` with this key and folder
 * out/prefix holds exactly the files it wrote there, as it left them (the
 * same names, sizes, modification times and inodes); else 0. */
int cb_reuse_site_fresh(cb_reuse *c, const char *prefix, const char *key, const char *out);

/* The same with `pre`, the part of the key known before the latest's pages
 * are: 1 when the site will be fresh if the rest of its key is as before. */
int cb_reuse_site_intact(cb_reuse *c, const char *prefix, const char *pre, const char *out);

/* For a fresh site (above): give its files to the new site, and add what
 * its build reported to diags. First the whole folder: move(ctx, dir,
 * files), with dir the folder's site path ("editions/2025"), returns 0
 * when the new site takes it as it is (cb_output_adopt); cb_reuse_save
 * then takes its files' records from the last build instead of listing
 * them. Otherwise (or with move NULL) each file is given through
 * link(ctx, path, from), from being the file in folder out
 * (cb_output_link). Returns 0, or -1 after link reported an error (or
 * when the site was not found fresh, which gives nothing). */
int cb_reuse_site_reuse(cb_reuse *c, const char *prefix, const char *out,
                        int (*move)(void *ctx, const char *dir, size_t files),
                        int (*link)(void *ctx, const char *path, const char *from), void *ctx,
                        cb_diag_list *diags);

/* Remember, for the next build, site `prefix`: its key and the part `pre`
 * of it known before the latest's pages (cb_reuse_site_intact), its pages
 * (copied) and what its build reported (diags, copied; NULL for nothing).
 * Call once per site, before cb_reuse_save. */
void cb_reuse_site_record(cb_reuse *c, const char *prefix, const char *pre, const char *key,
                          const char *const *pages, size_t n, const cb_diag_list *diags);

/*
 * Record a successful build: its key, output folder (a real path, read
 * now: call after the site was swapped in), result and diagnostics, with
 * the stat cache; written atomically to dir/build.cache. Returns 0, or -1
 * if it could not be written (the cache is then simply missing: not an
 * error for the build).
 */
int cb_reuse_save(cb_reuse *c, const char *key, const char *out, const cb_reuse_result *res,
                  const cb_diag_list *diags);

#endif
