/*
 * cb_diag: the build's diagnostics, collected from every stage.
 *
 * Errors are values: a stage that finds a problem appends a diagnostic
 * (severity, code, path, line, col, message, hint) and carries on, so one run
 * reports every problem. Nothing below the command line prints; the CLI
 * prints the list at the end as text, GitHub workflow commands or JSON.
 *
 * Lines and columns are 1-based; 0 means "the whole file" (or unknown).
 * A cb_diag_list is safe to append to from several threads.
 */
#ifndef CB_DIAG_H
#define CB_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "cb_buf.h"

typedef enum cb_severity { CB_NOTE, CB_WARNING, CB_ERROR } cb_severity;

typedef enum cb_diag_format { CB_DIAG_TEXT, CB_DIAG_GITHUB, CB_DIAG_JSON } cb_diag_format;

/* One diagnostic. All strings are owned by the list. */
typedef struct cb_diag {
	cb_severity severity;
	const char *code;  /* short stable id, e.g. "yaml-syntax", "unknown-term" */
	const char *path;  /* relative to the source root, e.g. content/cases/x.md */
	unsigned line, col;
	const char *msg;
	const char *hint;  /* NULL when there is none */
} cb_diag;

typedef struct cb_diag_list cb_diag_list;

/* A new, empty list. Caller frees with cb_diag_list_free. */
cb_diag_list *cb_diag_list_new(void);
void cb_diag_list_free(cb_diag_list *l);

/* Append a diagnostic; path, code and hint may be NULL. The message is a
 * printf format. Returns -1 for errors and 0 otherwise, so callers can
 * `return cb_diag_add(...)`. */
int cb_diag_add(cb_diag_list *l, cb_severity sev, const char *code, const char *path,
                unsigned line, unsigned col, const char *hint, const char *fmt, ...)
    CB_PRINTF(8, 9);

/* Shorthands for errors and warnings without a hint. */
int cb_diag_error(cb_diag_list *l, const char *code, const char *path, unsigned line,
                  unsigned col, const char *fmt, ...) CB_PRINTF(6, 7);
int cb_diag_warn(cb_diag_list *l, const char *code, const char *path, unsigned line,
                 unsigned col, const char *fmt, ...) CB_PRINTF(6, 7);

/* Append every diagnostic of src to l (src is left as it is). */
void cb_diag_list_merge(cb_diag_list *l, const cb_diag_list *src);

size_t cb_diag_count(const cb_diag_list *l);
size_t cb_diag_errors(const cb_diag_list *l);
size_t cb_diag_warnings(const cb_diag_list *l);
/* The i-th diagnostic in sorted order (path, line, col, then arrival);
 * borrowed, valid until the list changes. */
const cb_diag *cb_diag_at(cb_diag_list *l, size_t i);

/* Write the list in the given format. Text: `path:line:col: error: message`
 * (`path:line:` when the column is unknown, `path:` for a whole file)
 * plus an indented hint line. GitHub: `::error file=..,line=..,col=..::msg`.
 * JSON: an array of {file, line, col, severity, code, message, hint}.
 * `color` adds ANSI colours to text output. */
void cb_diag_print(cb_diag_list *l, FILE *out, cb_diag_format fmt, int color);

/* Format one diagnostic as a text line (no newline) into out. */
void cb_diag_format_text(const cb_diag *d, cb_buf *out);

#endif
