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
 * Returns 0 when there are no errors, else -1. */
int cb_schema_check(const cb_doc *doc, cb_diag_list *diags);

/* The known case fields, NULL-terminated (for docs and `casebook new`). */
extern const char *const cb_schema_fields[];

#endif
