/*
 * cb_print: the print edition, site/print.html: the whole handbook on one
 * page (introduction, contents, every case with its facts, the lessons
 * catalogue, the vocabularies with definitions, the other free pages), for
 * reading offline and for "print to PDF".
 *
 * The page is written piece by piece (cb_render_add_writer): the theme's
 * `print` template renders the frame, with the marker CB_PRINT_CASES where
 * the cases go ({{{cases}}}), and `print-case` renders one case at a time,
 * so memory does not grow with the number of cases.
 *
 * Everything is rewritten to live on one page: links between cases become
 * in-page anchors (#case-<slug>, #case-<slug>--<heading id>), every id inside
 * a case or page gets that prefix, headings inside a case move one level
 * down, and relative links and images are rebased to the site root.
 */
#ifndef CB_PRINT_H
#define CB_PRINT_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_render.h"

/* What `print` renders where the cases go. */
#define CB_PRINT_CASES "<!-- casebook:print-cases -->"

/* Append html (len bytes) made to sit inside a bigger page: every id="x"
 * becomes id="<prefix>x", every href="#x" becomes href="#<prefix>x", and
 * headings <hN> become <h(N+shift)> (at most h6). */
void cb_print_embed_html(cb_buf *out, const char *html, size_t len, const char *prefix,
                         int shift);

/* The page generator: queues print.html. */
void cb_print_generate(cb_render *r);

#endif
