/*
 * cb_schema: the case schema (docs/case-format.md): required fields and the
 * type of every known field. Vocabulary terms are checked by the classify
 * plugin, which knows the vocabularies.
 */
#ifndef CB_SCHEMA_H
#define CB_SCHEMA_H

#include "cb_diag.h"
#include "cb_doc.h"

/* Years outside this range are errors. */
#define CB_SCHEMA_MIN_YEAR 1800
#define CB_SCHEMA_MAX_YEAR 2100

/* Check a case's front matter; report every problem to diags at its line.
 * A string holding the placeholder word (cb_lint.h) is left to cb_lint, so
 * `year: TODO` is reported once, as a placeholder, not also as a wrong type.
 * Returns 0 when there are no errors, else -1. */
int cb_schema_check(const cb_doc *doc, cb_diag_list *diags);

/* The known case fields, NULL-terminated (for docs and `casebook new`). */
extern const char *const cb_schema_fields[];

/* An example line for a known field ("country: Netherlands"; the one for
 * sources spans two lines), or NULL for an unknown field. Static string. */
const char *cb_schema_example(const char *field);
/* 1 if the field is required, 0 if it is optional or unknown. */
int cb_schema_required(const char *field);

#endif
