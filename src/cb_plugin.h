/*
 * cb_plugin: the plugin stage. Runs the Lua 5.4 plugins named in
 * casebook.yml (`plugins:`), in order, over the loaded site.
 *
 * Each plugin is plugins/<name>.lua, looked up in the handbook's source,
 * then in the installed defaults. A plugin returns a table
 *   { name = "...", case = function(c, site) end, site = function(site) end }
 * Every plugin sees what running each plugin's `case` hook for every case
 * (in site order) before the next plugin's would give; then the `site` hooks
 * run in plugin order.
 * Plugins add to the site through the API (docs/plugins.md): template values
 * (cb_doc_set_var, cb_site_set_var), facets, omitted sections, pages,
 * navigation entries, data files and diagnostics. They never touch files.
 *
 * Plugins run sandboxed (no io, os beyond time/date/clock, package, debug,
 * require, dofile/loadfile, binary chunks), each in its own environment,
 * with an instruction budget and a memory cap from casebook.yml.
 *
 * This is the only module (with its own helpers cb_lua*.c) that includes
 * the Lua headers.
 */
#ifndef CB_PLUGIN_H
#define CB_PLUGIN_H

#include "cb_site.h"

/*
 * Run every configured plugin over site: the case hooks of the plugins side
 * by side, then their site hooks side by side, each plugin's once its own
 * case hooks are done (a thread per plugin; one after another when threads
 * is 1; threads 0 or less: one per core), with the results of running them
 * one after another (cb_stage.h). Threads also
 * bounds what helpers such as idx:rank_all use. Errors (a plugin that fails,
 * runs out of budget, or reports with site:error) go to the site's diagnostics
 * as `plugins/x.lua:LINE: message (while processing content/cases/y.md)`
 * with a short traceback as the hint. Returns 0, or -1 when any error was
 * reported.
 */
int cb_plugin_run(cb_site *site, int threads);

#endif
