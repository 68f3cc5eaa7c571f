/*
 * cb_yaml: the libyaml adapter. YAML text in, a cb_value tree out.
 *
 * Plain scalars are resolved with the YAML 1.2 core schema (so `NO` and `yes`
 * stay strings), plus dates written YYYY-MM-DD. Quoted scalars are strings.
 * Aliases share the anchored value; their total expansion is capped, and a
 * recursive alias is an error. Duplicate keys are errors.
 *
 * This is the only module that includes <yaml.h>.
 */
#ifndef CB_YAML_H
#define CB_YAML_H

#include <stddef.h>

#include "cb_diag.h"
#include "cb_value.h"

/* Nesting deeper than this is an error. */
#define CB_YAML_MAX_DEPTH 64
/* An alias may expand the document to at most this many nodes in all. */
#define CB_YAML_MAX_NODES 100000

/*
 * Parse one YAML document from buf[0..len).
 *
 * `path` names the file in diagnostics; `line_offset` is added to every line
 * number (the number of lines before buf in the file, e.g. 1 for front
 * matter that starts after a `---` line).
 *
 * On success *out is the document's root (a null value for an empty
 * document), owned by the caller (cb_value_unref), and 0 is returned. On
 * error *out is NULL, one diagnostic per problem is appended to diags and -1
 * is returned.
 */
int cb_yaml_parse(cb_value **out, const char *buf, size_t len, const char *path,
                  unsigned line_offset, cb_diag_list *diags);

#endif
