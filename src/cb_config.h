/*
 * cb_config: casebook.yml, the handbook's configuration.
 *
 * Known keys are type-checked; an unknown key is a warning at its line (with
 * a suggestion when it looks like a typo). A key named like one of the
 * configured plugins is that plugin's settings and is not unknown.
 */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include "cb_diag.h"
#include "cb_source.h"
#include "cb_value.h"

#define CB_CONFIG_FILE "casebook.yml"

typedef struct cb_config cb_config;

/*
 * Read casebook.yml from src. Returns 0 and a config the caller frees with
 * cb_config_free; -1 after reporting what is wrong (all of it) to diags, with
 * *out NULL when the file is missing or unreadable, else a config with
 * defaults where a value was bad. CB_ENOCONFIG when there is no casebook.yml
 * at all (also reported).
 */
#define CB_ENOCONFIG (-2)
int cb_config_load(cb_config **out, cb_source *src, cb_diag_list *diags);

/* A config of defaults (for tests and sources without casebook.yml). */
cb_config *cb_config_new_default(void);
void cb_config_free(cb_config *cfg);

/* Accessors; strings are borrowed and never NULL unless said otherwise. */
const char *cb_config_title(const cb_config *cfg);
const char *cb_config_subtitle(const cb_config *cfg);   /* "" if unset */
const char *cb_config_language(const cb_config *cfg);   /* default "en" */
const char *cb_config_base_url(const cb_config *cfg);   /* NULL if unset; no trailing '/' */
const char *cb_config_theme(const cb_config *cfg);      /* default "default" */
int cb_config_unsafe_html(const cb_config *cfg);
/* Plugin names in order. */
size_t cb_config_plugin_count(const cb_config *cfg);
const char *cb_config_plugin(const cb_config *cfg, size_t i);
/* Per-plugin limits (plugin_limits: {instructions: N, memory_mb: N}). */
long long cb_config_plugin_instructions(const cb_config *cfg);
long long cb_config_plugin_memory(const cb_config *cfg); /* bytes */
/* The `editions` map, or NULL (borrowed). */
const cb_value *cb_config_editions(const cb_config *cfg);
/* The whole file as a value tree (a map; borrowed). */
const cb_value *cb_config_value(const cb_config *cfg);

/* What cb_config_key reports about a key it does not know. */
typedef struct cb_config_keys {
	const char *code;        /* the warning's code ("config-unknown-key") */
	const char *path;        /* the file, for the warning */
	const char *noun;        /* "key" or "field" */
	const char *what;        /* " in WHAT" after the key, or NULL */
	const char *const *known; /* the keys known, NULL-terminated */
	int near_only;           /* warn only when a known key is close (the others
	                          * are the handbook's own) */
} cb_config_keys;

/* The place of entry i's key of map among k->known, or -1 when it is not
 * there: then a warning at the key, "unknown NOUN 'x'[ in WHAT] (it is
 * ignored)", with the closest known key as its hint (casebook.yml, the
 * editions, vocabularies and cases check their keys with it). */
long cb_config_key(cb_diag_list *diags, const cb_config_keys *k, const cb_value *map, size_t i);

#endif
