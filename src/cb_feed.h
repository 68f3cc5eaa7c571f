/*
 * cb_feed: site/feed.xml (an Atom feed of the newest cases) and
 * site/sitemap.xml (every page), written only when casebook.yml sets
 * base_url, since both need absolute addresses.
 *
 * A case's date is, for now, the date its `history` value gives
 * (history.updated, "YYYY-MM-DD", when a plugin sets it), else 1 January
 * of its `year`. The feed holds the CB_FEED_ENTRIES newest cases by that
 * date (then by slug), newest first; its own date is the newest entry's.
 * Both are the same for the same source, so builds stay reproducible.
 */
#ifndef CB_FEED_H
#define CB_FEED_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_doc.h"
#include "cb_render.h"

#define CB_FEED_ENTRIES 100

/* Append s (len bytes) escaped for XML text and attributes; characters XML
 * 1.0 forbids (control characters other than tab, newline and carriage
 * return) are dropped. */
void cb_feed_put_xml(cb_buf *out, const char *s, size_t len);

/* The date of a case as "YYYY-MM-DD" in out (11 bytes); returns 0, or -1
 * when the case has neither a history date nor a year. */
int cb_feed_case_date(const cb_doc *doc, char out[11]);

/* The page generator: queues feed.xml and sitemap.xml when base_url is set.
 * Run it after every other generator (the sitemap lists their pages). */
void cb_feed_generate(cb_render *r);

#endif
