/*
 * cb_template: Mustache templates, written for casebook.
 *
 * Implements the Mustache spec's required modules (comments, delimiters,
 * interpolation, inverted, partials, sections) and ~inheritance (parents and
 * blocks, used for layouts). Lambdas are not supported: data comes from
 * YAML, Lua plugins and the renderer, all as cb_value trees.
 *
 * A cb_tmpl_set is a theme's templates by name ("case" for case.mustache).
 * Templates are read through a loader callback, so they can come from the
 * working tree, a git commit or a test's strings, and are compiled once on
 * first use. Rendering a compiled template never modifies it, so one set can
 * render pages on several threads once every template it needs is compiled
 * (cb_tmpl_set_compile_all).
 *
 * Escaping is on by default ({{x}} escapes &, <, >, ", '); {{{x}}} and {{& x}}
 * do not escape. Errors name the template file, line and column.
 *
 * Values. {{x}} writes a scalar with cb_value_text: strings as they are,
 * integers in decimal, floats in shortest form (1.210 renders "1.21"), dates
 * as YYYY-MM-DD, booleans as true/false; null, a missing name, a list and a
 * map write nothing.
 *
 * Truthiness. null, false, an empty list and an empty string are falsey;
 * everything else is truthy, including 0, 0.0 and an empty map. {{#x}} over
 * a non-empty list renders once per item with the item pushed on the context
 * stack; over any other truthy value it renders once with the value pushed.
 * {{^x}} renders once when x is falsey (or missing).
 *
 * Standalone lines and indentation follow the spec. A line holding only
 * whitespace and one section, inverted, closing, comment, partial or Set
 * Delimiter tag is removed from the output; so is the whitespace around a
 * parent (or a block outside a parent) whose opening tag starts a line and
 * whose closing tag ends one, even the same line. A standalone partial or
 * parent indents every line it renders by the whitespace before its tag.
 * Block content loses its own indentation (that of its first line when the
 * opening tag stands alone, else the whitespace before the tag) and takes
 * that of the block it fills. Interpolated values are never re-indented.
 *
 * Layouts. Put a block's tags on lines of their own in the parent
 *
 *     <main>
 *       {{$content}}
 *       {{/content}}
 *     </main>
 *
 * and the page's {{$content}}...{{/content}} lines land indented by two
 * spaces. Written on one line, "  {{$content}}{{/content}}
", the newline
 * after the closing tag stays, as the spec says, after content that usually
 * ends with its own newline.
 *
 * Unknown partials and parents render as empty text; unknown names as
 * nothing. Block arguments are looked up from the outermost (most derived)
 * template inwards, so a page overrides a layout's layout.
 */
#ifndef CB_TEMPLATE_H
#define CB_TEMPLATE_H

#include "cb_buf.h"
#include "cb_diag.h"
#include "cb_value.h"

/* Partials, parents and block substitutions may nest this deep; deeper is a
 * render error (it catches a template that includes itself forever). */
#define CB_TMPL_MAX_DEPTH 64

/* By default one render may visit at most this many template nodes and
 * write at most this many bytes; beyond either it stops with an error.
 * Sections over lists multiply: twenty nested sections over a list of three
 * items are 3^20 passes, which would otherwise run for hours and fill the
 * memory, while the print edition of the 61 cases takes about 4,300 steps
 * and the largest page of a 10,000-case handbook about 430,000. See
 * cb_tmpl_set_limits. */
#define CB_TMPL_MAX_STEPS (1ULL << 26)
#define CB_TMPL_MAX_OUTPUT ((size_t)1 << 30)

typedef struct cb_tmpl_set cb_tmpl_set;
typedef struct cb_tmpl cb_tmpl;

/*
 * Loader: find template `name` and return its text. On success set *data to a
 * malloc'd buffer of *len bytes and *path to a malloc'd display path for
 * diagnostics (e.g. "themes/default/templates/case.mustache"); the set takes
 * ownership of both. Return 0 on success, CB_TMPL_NOTFOUND when there is no
 * such template (an unknown partial renders as empty text, as the spec
 * requires), or -1 after appending a diagnostic to diags for an I/O error.
 */
#define CB_TMPL_NOTFOUND (-2)
typedef int (*cb_tmpl_loader)(void *ctx, const char *name, char **data, size_t *len,
                              char **path, cb_diag_list *diags);

/* A new set reading templates through load(ctx, ...); load may be NULL when
 * every template is added with cb_tmpl_set_add. Never NULL; free with
 * cb_tmpl_set_free, which frees every template of the set. */
cb_tmpl_set *cb_tmpl_set_new(cb_tmpl_loader load, void *ctx);
void cb_tmpl_set_free(cb_tmpl_set *set);

/* Set the limits of each render with this set: steps (template nodes
 * visited, plus the context frames a name was looked up in and not found)
 * and output bytes. Cannot fail. */
void cb_tmpl_set_limits(cb_tmpl_set *set, unsigned long long steps, size_t output);

/* Add a template from a string under `name` (used by tests and for built-in
 * templates). The text is copied; path (NULL: the name) is the display path
 * for diagnostics. Replaces any template of that name: templates fetched
 * before stay valid, but the new text is compiled only by the next
 * cb_tmpl_set_get or cb_tmpl_set_compile_all. Cannot fail. */
void cb_tmpl_set_add(cb_tmpl_set *set, const char *name, const char *text, size_t len,
                     const char *path);

/*
 * Find and compile template `name` and, recursively, every partial and
 * parent it names. Returns 0 and a borrowed template in *out (valid until the
 * set is freed), CB_TMPL_NOTFOUND if the template does not exist, or -1 after
 * reporting syntax errors (all of them, with file:line:col, for every
 * template reached) or loader errors to diags. A template that failed is
 * compiled, and its errors reported, again on the next call.
 *
 * Not thread-safe: calls on one set must not overlap. Once `name` and all it
 * names are compiled, a call writes nothing to the set, so it may run while
 * other threads render.
 */
int cb_tmpl_set_get(cb_tmpl_set *set, const char *name, const cb_tmpl **out,
                    cb_diag_list *diags);

/*
 * Compile every template added or loaded so far and, recursively, every
 * partial and parent they name, so that the set can then be shared read-only
 * by rendering threads. Returns 0, or -1 after reporting every syntax or
 * loader error to diags (the templates without errors are still compiled).
 */
int cb_tmpl_set_compile_all(cb_tmpl_set *set, cb_diag_list *diags);

/*
 * Render t with ctx as the root context, appending to out. Names are looked up
 * through the context stack as the spec says (dotted names, implicit
 * iterator "."). Returns 0, or -1 after reporting an error to diags (a
 * partial nested deeper than CB_TMPL_MAX_DEPTH, a render over its limits
 * (cb_tmpl_set_limits), or a partial that was replaced
 * with cb_tmpl_set_add and not compiled again); on error out is left as it
 * was. Every partial and parent must already be compiled (cb_tmpl_set_get
 * does that); rendering then only reads the set and the values, allocates
 * nothing but two scratch buffers, and is safe from several threads at once.
 */
int cb_tmpl_render(const cb_tmpl *t, const cb_tmpl_set *set, const cb_value *ctx,
                   cb_buf *out, cb_diag_list *diags);

/* Display path of a compiled template (borrowed). */
const char *cb_tmpl_path(const cb_tmpl *t);

#endif
