/*
 * libFuzzer target: loading one case file. The input is the file's bytes:
 * front matter (cb_yaml), Markdown (cb_md), the schema (cb_schema) and the
 * content checks (cb_lint), then the diagnostics in all three formats.
 * Anything but a clean return (a crash, a leak, a sanitizer report, a hang)
 * is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb_doc.h"
#include "cb_lint.h"
#include "cb_load.h"
#include "cb_md.h"
#include "cb_schema.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cb_md_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cb_diag_list *diags;
	cb_doc_opts opts;
	cb_doc *doc = NULL;
	cb_buf out = CB_BUF_INIT;
	FILE *devnull;
	size_t i;

	if (size > CB_DOC_MAX_SIZE) /* the loader refuses these unread */
		return 0;
	diags = cb_diag_list_new();
	memset(&opts, 0, sizeof opts);
	opts.reserved_ids = cb_load_reserved_ids;
	opts.find_word = CB_LINT_PLACEHOLDER;
	opts.unsafe_html = size > 0 && data[0] == 'U'; /* both modes */
	cb_doc_parse(&doc, CB_DOC_CASE, "content/cases/fuzz.md", (const char *)data, size, &opts,
	             diags);
	if (doc) {
		if (cb_doc_meta_ok(doc))
			cb_schema_check(doc, diags);
		cb_lint_case(doc, (const char *)data, size, diags);
		cb_doc_body_html(doc, &out);
		cb_value_json(cb_doc_meta(doc), &out, 2);
	}
	for (i = 0; i < cb_diag_count(diags); i++)
		cb_diag_format_text(cb_diag_at(diags, i), &out);
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		cb_diag_print(diags, devnull, CB_DIAG_GITHUB, 0);
		cb_diag_print(diags, devnull, CB_DIAG_JSON, 0);
		fclose(devnull);
	}
	cb_buf_dispose(&out);
	cb_doc_free(doc);
	cb_diag_list_free(diags);
	return 0;
}
