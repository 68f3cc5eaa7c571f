/*
 * libFuzzer target: `casebook check` on a small handbook whose case file
 * content/cases/fuzz.md is the input: configuration, the load stage (every
 * case, links between them, vocabularies, files) and the plugin stage with
 * the default plugins (classify, crosslink, lessons, from FUZZ_SHARE, the
 * source tree), through an in-memory source. If the input holds a NUL byte,
 * what follows it is a vocabulary, content/taxonomies/fuzz.yml, instead.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_config.h"
#include "cb_load.h"
#include "cb_md.h"
#include "cb_mem.h"
#include "cb_plugin.h"
#include "cb_site.h"
#include "cb_source.h"

#ifndef FUZZ_SHARE
#define FUZZ_SHARE "."
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct file {
	const char *path;
	const char *data;
	size_t len;
} file;

/* The handbook; the last two entries are filled with the input. */
static file files[] = {
    {"casebook.yml", "title: \"Fuzz\"\nplugins: [classify, crosslink, lessons]\n", 0},
    {"content/cases/alpha.md",
     "---\ntitle: \"Alpha\"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n\n"
     "## Context\n\nSee [fuzz](fuzz.md#context) and ![map](img/map.png).\n\n"
     "## Lessons for practice\n\n- One.\n",
     0},
    {"content/cases/img/map.png", "\x89PNG\r\n", 0},
    {"content/pages/index.md", "---\ntitle: Home\n---\n\n[Fuzz](../cases/fuzz.md)\n", 0},
    {"content/taxonomies/lesson-theme.yml",
     "name: lesson-theme\nterms:\n  - {id: trust, label: Trust, keywords: [trust]}\n", 0},
    {"content/taxonomies/level.yml",
     "name: level\nfield: level\nterms:\n  - {id: group, label: Group}\n", 0},
    {"content/taxonomies/phase.yml",
     "name: phase\nfield: phases\nterms:\n  - {id: co-design, label: Co-design}\n"
     "  - {id: co-delivery, label: Co-delivery}\n",
     0},
    {"content/taxonomies/sector.yml",
     "name: sector\nfield: sector\nterms:\n  - {id: health, label: Health}\n"
     "  - {id: education, label: Education}\n",
     0},
    {"content/cases/fuzz.md", NULL, 0},
    {"content/taxonomies/fuzz.yml", NULL, 0},
};
#define N_FILES (sizeof files / sizeof files[0])

/* ---- an in-memory source ------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const cb_fs_entry *)a)->name, ((const cb_fs_entry *)b)->name);
}

static int mem_list(void *impl, const char *dir, cb_fs_entry **out, size_t *n)
{
	size_t dl = strlen(dir), i, k, cnt = 0;
	cb_fs_entry *e = cb_xcalloc(N_FILES + 1, sizeof *e);
	int found = dl == 0;

	(void)impl;
	for (i = 0; i < N_FILES; i++) {
		const char *p = files[i].path, *rest, *slash;
		size_t nl;
		int dup = 0;

		if (!files[i].data)
			continue;
		if (dl && (strncmp(p, dir, dl) != 0 || p[dl] != '/'))
			continue;
		found = 1;
		rest = dl ? p + dl + 1 : p;
		slash = strchr(rest, '/');
		nl = slash ? (size_t)(slash - rest) : strlen(rest);
		for (k = 0; k < cnt; k++)
			if (strlen(e[k].name) == nl && memcmp(e[k].name, rest, nl) == 0)
				dup = 1;
		if (dup)
			continue;
		e[cnt].name = cb_xstrndup(rest, nl);
		e[cnt].kind = slash ? CB_FS_DIR : CB_FS_FILE;
		e[cnt].size = slash ? 0 : files[i].len;
		cnt++;
	}
	if (!found) {
		free(e);
		return -ENOENT;
	}
	qsort(e, cnt, sizeof *e, cmp_entry);
	*out = e;
	*n = cnt;
	return 0;
}

static int mem_read(void *impl, const char *path, size_t max, char **data, size_t *len)
{
	size_t i;

	(void)impl;
	for (i = 0; i < N_FILES; i++) {
		if (!files[i].data || strcmp(files[i].path, path) != 0)
			continue;
		if (max && files[i].len > max)
			return CB_FS_TOOBIG;
		*data = cb_xmalloc(files[i].len + 1);
		memcpy(*data, files[i].data, files[i].len);
		(*data)[files[i].len] = '\0';
		*len = files[i].len;
		return 0;
	}
	return -ENOENT;
}

static int mem_blob_id(void *impl, const char *path, const char *data, size_t len, char *out)
{
	(void)impl;
	(void)path;
	(void)data;
	snprintf(out, CB_OID_HEXSZ + 1, "%040zx", len);
	return 0;
}

static void mem_free(void *impl)
{
	(void)impl;
}

static const cb_source_ops mem_ops = {mem_list, mem_read, mem_blob_id, NULL, mem_free};

static cb_source *share;

/* ---- the target ---------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	cb_md_init();
	if (cb_source_open_dir(&share, FUZZ_SHARE) < 0)
		share = NULL;
	for (i = 0; i < N_FILES; i++)
		if (files[i].data)
			files[i].len = strlen(files[i].data);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	cb_source *src;
	cb_diag_list *diags = cb_diag_list_new();
	cb_config *cfg = NULL;
	cb_site *site;
	cb_load_opts lo = CB_LOAD_OPTS_INIT;
	FILE *devnull;

	files[N_FILES - 2].data = text;
	files[N_FILES - 2].len = nul ? (size_t)(nul - text) : size;
	files[N_FILES - 1].data = nul ? nul + 1 : NULL;
	files[N_FILES - 1].len = nul ? size - (size_t)(nul - text) - 1 : 0;

	src = cb_source_new(&mem_ops, NULL, "fuzz");
	cb_config_load(&cfg, src, diags);
	if (cfg) {
		site = cb_site_new(cfg, src, share, diags);
		lo.threads = 1;
		cb_load(site, &lo);
		cb_plugin_run(site, 1);
		cb_site_free(site);
	}
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		cb_diag_print(diags, devnull, CB_DIAG_TEXT, 0);
		cb_diag_print(diags, devnull, CB_DIAG_GITHUB, 0);
		cb_diag_print(diags, devnull, CB_DIAG_JSON, 0);
		fclose(devnull);
	}
	cb_diag_list_free(diags);
	cb_source_free(src);
	return 0;
}
