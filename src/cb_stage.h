/*
 * cb_stage: what the plugins' hooks change, kept apart per plugin while the
 * hooks of several plugins run at once.
 *
 * The plugin stage pipelines the case hooks: plugin p runs its hook on case i
 * as soon as every plugin before it is done with case i, on a thread of its
 * own, so the plugins share the cores instead of taking turns. What plugins
 * see must stay what the documented order gives (each plugin's case hooks
 * over every case, plugin by plugin): plugin p must see on any case what the
 * plugins before it did there, its own changes, and nothing of the plugins
 * after it, which may already be working on the same case.
 *
 * So a case hook's changes (template values, facets, omitted sections) are
 * recorded here, in plugin p's layer of that case, not in the case itself.
 * Plugin p reads a case through the layers 0..p over what the case held
 * before the stage; cb_stage_wait makes it wait until the plugins before it
 * are done with that case. When every case hook is done, cb_stage_commit
 * applies the layers to the cases, plugin by plugin, in the order the
 * changes were made: the cases end as they would after running one plugin
 * after another.
 *
 * A case hook changes only its own case (docs/plugins.md): that is what makes
 * "the plugins before p are done with case j" mean "case j holds everything
 * they will do to it".
 *
 * The site hooks run side by side through a stage of their own: a site hook
 * may change any case, so a plugin is done with a case only when its site
 * hook has returned (cb_stage_finish), and plugin p's reads of cases wait
 * for every site hook before it, while its changes wait in its layers.
 * A plugin's site hook starts as soon as its own case hooks are done, while
 * later plugins' case hooks may still run: the site hooks' stage is held
 * (cb_stage_hold) until the case hooks' stage is committed, so every read
 * of what a hook may change waits for that too.
 *
 * Thread safety: cb_stage_done and cb_stage_wait may be called from any
 * thread. Layer p of any case is written only by plugin p's thread; it is
 * read by plugins after p only once p is done with that case.
 */
#ifndef CB_STAGE_H
#define CB_STAGE_H

#include <stddef.h>

#include "cb_doc.h"
#include "cb_value.h"

typedef struct cb_stage cb_stage;

/* A stage for `plugins` plugins over `cases` cases. Caller frees with
 * cb_stage_free (which drops whatever was not committed). */
cb_stage *cb_stage_new(size_t plugins, size_t cases);
void cb_stage_free(cb_stage *st);

/* Plugin p is done with cases 0..n-1 (n is capped at the number of cases). */
void cb_stage_done(cb_stage *st, size_t p, size_t n);
/* Plugin p is done with every case and with the whole stage: it will change
 * nothing more (a plugin stopped early, or without a hook for this stage,
 * says so at once). Every plugin must finish, or later ones wait forever. */
void cb_stage_finish(cb_stage *st, size_t p);
/* Hold the stage: until cb_stage_open, cb_stage_wait and cb_stage_wait_all
 * block for every plugin, the first one included. */
void cb_stage_hold(cb_stage *st);
/* Let held waits go on (call once what the stage's hooks read is ready). */
void cb_stage_open(cb_stage *st);
/* Block until every plugin before p is done with case i. */
void cb_stage_wait(cb_stage *st, size_t p, size_t i);
/* Block until every plugin before p has finished (cb_stage_finish). */
void cb_stage_wait_all(cb_stage *st, size_t p);

/* Plugin p sets template value key of case i (val is stolen). */
void cb_stage_set_var(cb_stage *st, size_t p, size_t i, const char *key, cb_value *val);
/* Plugin p records a facet entry (cb_doc_facet_entry; stolen) of case i. A
 * term the case already has in that vocabulary, as plugin p sees it, is
 * dropped. */
void cb_stage_add_facet(cb_stage *st, size_t p, size_t i, const cb_doc *doc, const char *taxonomy,
                        cb_value *entry);
/* Plugin p leaves section `section` of case i out of the body. */
void cb_stage_omit(cb_stage *st, size_t p, size_t i, size_t section);

/* What plugin p sees of case i (whose document is doc): */
/* the value of key, or NULL (borrowed; valid until the stage is committed); */
const cb_value *cb_stage_var(const cb_stage *st, size_t p, size_t i, const cb_doc *doc,
                             const char *key);
/* its facets: borrowed from doc when no layer up to p recorded any; else a
 * new map (taxonomy -> entries, in the order they were recorded) that
 * *made holds too: the caller unrefs *made (set to NULL otherwise); */
const cb_value *cb_stage_facets(const cb_stage *st, size_t p, size_t i, const cb_doc *doc,
                                cb_value **made);
/* whether the section (or one of its parents) is left out. */
int cb_stage_omitted(const cb_stage *st, size_t p, size_t i, const cb_doc *doc, size_t section);

/* Apply every layer to the cases (cases[i] is case i), plugin by plugin,
 * and empty the layers. Call once every plugin is done. */
void cb_stage_commit(cb_stage *st, cb_doc *const *cases);

#endif
