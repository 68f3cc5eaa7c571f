/*
 * cb_new: `casebook new`: a new case file made from an archetype.
 *
 * The archetype is a Mustache template of a case (archetypes/case.md),
 * looked up in the handbook (SOURCE/archetypes/case.md), then in its theme
 * (themes/<theme>/archetypes/case.md, in the handbook, then installed),
 * then among the installed defaults (SHARE/archetypes/case.md). It gets:
 *
 *   title    the title as a double-quoted YAML string
 *   slug     the file name without .md
 *   country  a YAML value (a quoted string, or a flow list of them), if given
 *   sector   a YAML value (a term, or a flow list of terms), if given
 *   year     the year, if given
 *   vocab    each vocabulary by name: {ids: "a, b, c", terms: [{id, label}]}
 *
 * and marks whatever the contributor must still write with the placeholder
 * word (cb_lint.h), which `casebook check` reports until it is replaced.
 *
 * The given values are checked first: the year against the schema's range,
 * the sector against content/taxonomies/sector.yml when there is one (a
 * label or a near miss is suggested), the country against those of the
 * other cases (a near miss is a warning: a new country is allowed).
 */
#ifndef CB_NEW_H
#define CB_NEW_H

#include "cb_diag.h"

typedef struct cb_new_opts {
	const char *source_dir; /* the handbook (holds casebook.yml) */
	const char *share_dir;  /* installed defaults, or NULL */
	const char *title;      /* required */
	const char *slug;       /* NULL: made from the title */
	const char *country;    /* comma-separated; NULL: left to write */
	const char *sector;     /* comma-separated terms; NULL: left to write */
	const char *year;       /* as typed; NULL: left to write */
} cb_new_opts;

#define CB_NEW_OPTS_INIT { ".", NULL, NULL, NULL, NULL, NULL, NULL }

/* Slugs made from titles are cut (at a hyphen) to at most this many bytes. */
#define CB_NEW_MAX_SLUG 60

/* Returned when the case file (or a case with the same title) exists. */
#define CB_NEW_EXISTS (-3)

/*
 * Write SOURCE/content/cases/<slug>.md from the archetype. Returns 0 and the
 * written path, relative to the source ("content/cases/<slug>.md"), in *path
 * (caller frees). Returns CB_NEW_EXISTS, or -1 for bad values, a missing
 * archetype or an I/O error, with *path NULL; the reasons are in diags
 * (warnings may be there on success too). Never overwrites a file.
 */
int cb_new_case(const cb_new_opts *opts, char **path, cb_diag_list *diags);

#endif
