/*
 * cb_config: casebook.yml (see cb_config.h).
 */
#include "cb_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cb_mem.h"
#include "cb_text.h"
#include "cb_yaml.h"

#define DEFAULT_INSTRUCTIONS 200000000LL /* per plugin hook call */
#define DEFAULT_MEMORY_MB 256LL

struct cb_config {
	cb_value *root;
	const char *title, *subtitle, *language, *base_url, *theme;
	char *base_url_trimmed;
	int unsafe_html;
	const char **plugins;
	size_t n_plugins;
	long long instructions, memory;
	const cb_value *editions;
};

static const char *const known_keys[] = {
    "title",    "subtitle", "language",      "base_url",    "theme",  "plugins",
    "editions", "unsafe_html", "plugin_limits", "description", "author", "copyright",
    "nav",      "search",   NULL};

cb_config *cb_config_new_default(void)
{
	cb_config *c = cb_xcalloc(1, sizeof *c);

	c->root = cb_value_new_map();
	c->title = "Case book";
	c->subtitle = "";
	c->language = "en";
	c->theme = "default";
	c->instructions = DEFAULT_INSTRUCTIONS;
	c->memory = DEFAULT_MEMORY_MB * 1024 * 1024;
	return c;
}

void cb_config_free(cb_config *cfg)
{
	if (!cfg)
		return;
	cb_value_unref(cfg->root);
	free(cfg->plugins);
	free(cfg->base_url_trimmed);
	free(cfg);
}

static int is_plugin(const cb_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->n_plugins; i++)
		if (strcmp(c->plugins[i], key) == 0)
			return 1;
	return 0;
}

/* Fetch key as a string; report a wrong type. */
static const char *get_string(cb_config *c, const char *key, const char *def,
                              cb_diag_list *diags, int *bad)
{
	const cb_value *v = cb_value_getc(c->root, key);

	if (!v || cb_value_type(v) == CB_NULL)
		return def;
	if (cb_value_type(v) != CB_STRING) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v), cb_value_col(v),
		              "%s must be a string, not a %s", key, cb_type_name(cb_value_type(v)));
		*bad = 1;
		return def;
	}
	return cb_value_cstr(v);
}

int cb_config_load(cb_config **out, cb_source *src, cb_diag_list *diags)
{
	cb_config *c = NULL;
	char *data = NULL;
	size_t len, i;
	cb_value *root = NULL;
	const cb_value *v;
	int rc, bad = 0;

	*out = NULL;
	rc = cb_source_read(src, CB_CONFIG_FILE, 1 << 20, &data, &len);
	if (rc == -ENOENT) {
		cb_diag_error(diags, "no-config", NULL, 0, 0,
		              "no %s in the source folder (run casebook in a handbook folder, or "
		              "give it with -s SOURCE)",
		              CB_CONFIG_FILE);
		return CB_ENOCONFIG;
	}
	if (rc < 0)
		return cb_diag_error(diags, "io", CB_CONFIG_FILE, 0, 0, "cannot read: %s",
		                     cb_fs_strerror(rc));
	if (cb_yaml_parse(&root, data, len, CB_CONFIG_FILE, 0, diags) < 0) {
		free(data);
		return -1;
	}
	free(data);
	c = cb_config_new_default();
	if (cb_value_type(root) == CB_NULL) {
		cb_value_unref(root);
		root = cb_value_new_map();
	} else if (cb_value_type(root) != CB_MAP) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(root), 1,
		              "%s must be a mapping of settings (key: value)", CB_CONFIG_FILE);
		cb_value_unref(root);
		cb_config_free(c);
		return -1;
	}
	cb_value_unref(c->root);
	c->root = root;

	/* plugins first: their names are valid keys. */
	v = cb_value_getc(root, "plugins");
	if (v && cb_value_type(v) == CB_LIST) {
		c->plugins = cb_xcalloc(cb_value_len(v) + 1, sizeof(char *));
		for (i = 0; i < cb_value_len(v); i++) {
			const cb_value *p = cb_value_at(v, i);
			if (cb_value_type(p) != CB_STRING || !cb_value_cstr(p)[0]) {
				cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(p),
				              cb_value_col(p), "each plugin must be given by its name");
				bad = 1;
				continue;
			}
			c->plugins[c->n_plugins++] = cb_value_cstr(p);
		}
	} else if (v && cb_value_type(v) != CB_NULL) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v), cb_value_col(v),
		              "plugins must be a list of plugin names");
		bad = 1;
	}

	c->title = get_string(c, "title", "Case book", diags, &bad);
	c->subtitle = get_string(c, "subtitle", "", diags, &bad);
	c->language = get_string(c, "language", "en", diags, &bad);
	c->theme = get_string(c, "theme", "default", diags, &bad);
	c->base_url = get_string(c, "base_url", NULL, diags, &bad);
	if (c->base_url) {
		size_t bl = strlen(c->base_url);
		while (bl && c->base_url[bl - 1] == '/')
			bl--;
		if (strncmp(c->base_url, "http://", 7) != 0 && strncmp(c->base_url, "https://", 8) != 0) {
			v = cb_value_getc(root, "base_url");
			cb_diag_error(diags, "config-value", CB_CONFIG_FILE, cb_value_line(v),
			              cb_value_col(v),
			              "base_url must be an absolute http(s) URL, like https://example.org/handbook");
			bad = 1;
			c->base_url = NULL;
		} else {
			c->base_url_trimmed = cb_xstrndup(c->base_url, bl);
			c->base_url = c->base_url_trimmed;
		}
	}
	v = cb_value_getc(root, "unsafe_html");
	if (v && cb_value_type(v) != CB_BOOL && cb_value_type(v) != CB_NULL) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v), cb_value_col(v),
		              "unsafe_html must be true or false");
		bad = 1;
	} else {
		c->unsafe_html = cb_value_bool(v);
	}
	v = cb_value_getc(root, "plugin_limits");
	if (v && cb_value_type(v) == CB_MAP) {
		const cb_value *ins = cb_value_getc(v, "instructions");
		const cb_value *mem = cb_value_getc(v, "memory_mb");
		if (ins && (cb_value_type(ins) != CB_INT || cb_value_int(ins) < 1000)) {
			cb_diag_error(diags, "config-value", CB_CONFIG_FILE, cb_value_line(ins),
			              cb_value_col(ins),
			              "plugin_limits.instructions must be an integer of at least 1000");
			bad = 1;
		} else if (ins) {
			c->instructions = cb_value_int(ins);
		}
		if (mem && (cb_value_type(mem) != CB_INT || cb_value_int(mem) < 1 ||
		            cb_value_int(mem) > 65536)) {
			cb_diag_error(diags, "config-value", CB_CONFIG_FILE, cb_value_line(mem),
			              cb_value_col(mem),
			              "plugin_limits.memory_mb must be an integer from 1 to 65536");
			bad = 1;
		} else if (mem) {
			c->memory = cb_value_int(mem) * 1024 * 1024;
		}
	} else if (v && cb_value_type(v) != CB_NULL) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v), cb_value_col(v),
		              "plugin_limits must be a mapping (instructions, memory_mb)");
		bad = 1;
	}
	v = cb_value_getc(root, "editions");
	if (v && cb_value_type(v) != CB_MAP && cb_value_type(v) != CB_NULL) {
		cb_diag_error(diags, "config-type", CB_CONFIG_FILE, cb_value_line(v), cb_value_col(v),
		              "editions must be a mapping (tags, list, latest)");
		bad = 1;
	} else if (v && cb_value_type(v) == CB_MAP) {
		c->editions = v;
	}

	for (i = 0; i < cb_value_len(root); i++) {
		static const cb_config_keys top = {"config-unknown-key", CB_CONFIG_FILE, "key", NULL,
		                                   known_keys, 0};
		if (!is_plugin(c, cb_value_key(root, i, NULL)))
			cb_config_key(diags, &top, root, i);
	}
	*out = c;
	return bad ? -1 : 0;
}

const char *cb_config_title(const cb_config *cfg) { return cfg->title; }
const char *cb_config_subtitle(const cb_config *cfg) { return cfg->subtitle; }
const char *cb_config_language(const cb_config *cfg) { return cfg->language; }
const char *cb_config_base_url(const cb_config *cfg) { return cfg->base_url; }
const char *cb_config_theme(const cb_config *cfg) { return cfg->theme; }
int cb_config_unsafe_html(const cb_config *cfg) { return cfg->unsafe_html; }
size_t cb_config_plugin_count(const cb_config *cfg) { return cfg->n_plugins; }
const char *cb_config_plugin(const cb_config *cfg, size_t i)
{
	return i < cfg->n_plugins ? cfg->plugins[i] : NULL;
}
long long cb_config_plugin_instructions(const cb_config *cfg) { return cfg->instructions; }
long long cb_config_plugin_memory(const cb_config *cfg) { return cfg->memory; }
const cb_value *cb_config_editions(const cb_config *cfg) { return cfg->editions; }
const cb_value *cb_config_value(const cb_config *cfg) { return cfg->root; }

long cb_config_key(cb_diag_list *diags, const cb_config_keys *k, const cb_value *map, size_t i)
{
	const char *key = cb_value_key(map, i, NULL), *sugg;
	char *hint;
	size_t n;

	for (n = 0; k->known[n]; n++)
		if (strcmp(k->known[n], key) == 0)
			return (long)n;
	sugg = cb_text_suggest(key, k->known, n);
	if (!sugg && k->near_only)
		return -1;
	hint = sugg ? cb_xasprintf("did you mean '%s'?", sugg) : NULL;
	cb_diag_add(diags, CB_WARNING, k->code, k->path, cb_value_key_line(map, i),
	            cb_value_key_col(map, i), hint, "unknown %s '%s'%s%s (it is ignored)", k->noun,
	            key, k->what ? " in " : "", k->what ? k->what : "");
	free(hint);
	return -1;
}
