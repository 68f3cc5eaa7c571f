/*
 * cb_lint: the content checks on a loaded case that go beyond its schema:
 *
 *   placeholder      (error)   text left from the archetype: the word TODO in
 *                              a front-matter value or in the body's text
 *   lessons-missing  (error)   no "Lessons for practice" section
 *   lessons-empty    (error)   that section has no list item
 *   section-empty    (warning) a heading with nothing under it
 *
 * Placeholders and missing lessons are errors because a build must not
 * publish them: a placeholder would appear on the site as if it were the
 * case's content, and the lessons are what the handbook is for (they are
 * collected on the lessons page). An empty section is only untidy, so it is
 * a warning (an error with `casebook check --strict`). docs/checks.md lists
 * every check casebook makes.
 *
 * cb_load runs these checks on every case, for `build` and `check` alike.
 * Comments (YAML `# ...`, HTML `<!-- ... -->`) are never published, so a TODO
 * inside one is not reported.
 */
#ifndef CB_LINT_H
#define CB_LINT_H

#include <stddef.h>

#include "cb_diag.h"
#include "cb_doc.h"

/* The word that marks text still to be written. Archetypes use it for every
 * value and paragraph the contributor must replace; cb_doc_parse is asked to
 * find it in the body (cb_doc_opts.find_word). */
#define CB_LINT_PLACEHOLDER "TODO"

/* The title of the lessons section (compared by slug, so case and
 * punctuation do not matter). */
#define CB_LINT_LESSONS "Lessons for practice"

/* 1 if s[0..len) holds the placeholder word as a whole word ("TODO",
 * "TODO: x"; not "TODOS"), else 0. */
int cb_lint_has_placeholder(const char *s, size_t len);

/*
 * Check a loaded case. data/len are the bytes the case was parsed from (they
 * give the exact column of each placeholder). Every problem goes to diags at
 * its file:line:col with a hint. Returns 0 when no error was reported (there
 * may be warnings), else -1. Cannot fail otherwise; thread-safe.
 */
int cb_lint_case(const cb_doc *doc, const char *data, size_t len, cb_diag_list *diags);

#endif
