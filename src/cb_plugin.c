/*
 * cb_plugin: placeholder until the Lua runtime lands: refuses to build a
 * handbook that configures plugins rather than silently skipping them.
 */
#include "cb_plugin.h"

int cb_plugin_run(cb_site *site)
{
	const cb_config *cfg = cb_site_config(site);

	if (cb_config_plugin_count(cfg) == 0)
		return 0;
	return cb_diag_error(cb_site_diags(site), "plugin", CB_CONFIG_FILE, 0, 0,
	                     "plugins are not supported by this build");
}
