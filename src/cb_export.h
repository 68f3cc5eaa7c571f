/*
 * cb_export: the handbook as data, for researchers who analyse it:
 *   site/data/cases.json   every case: front matter, classification, lesson
 *                          ids, url (one case per line inside "cases")
 *   site/data/cases.csv    one row per case (RFC 4180: comma-separated,
 *                          CRLF line ends, quoted where needed), lists
 *                          joined with "; "
 * docs/data.md documents both schemas.
 */
#ifndef CB_EXPORT_H
#define CB_EXPORT_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_render.h"
#include "cb_value.h"

/* Append one CSV field: as it is, or in double quotes (with quotes doubled)
 * when it holds a comma, a quote, a carriage return or a line feed. */
void cb_export_csv_field(cb_buf *out, const char *s, size_t len);

/* Append the text of a value for a CSV cell: scalars as text, lists joined
 * with "; ", maps as JSON. */
void cb_export_cell_text(cb_buf *out, const cb_value *v);

/* The classification of case i: a map, for every vocabulary in name order,
 * of the term ids the case has (written in its front matter or added by a
 * plugin, in that order, no duplicates). *derived (may be NULL) gets a map
 * of the terms plugins derived, by vocabulary, or NULL when there are none.
 * Caller unrefs both. */
cb_value *cb_export_classification(const cb_site *site, size_t i, cb_value **derived);

/* The page generator: queues data/cases.json and data/cases.csv. */
void cb_export_generate(cb_render *r);

#endif
