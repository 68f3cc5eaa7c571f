/*
 * libFuzzer target: the Mustache engine (cb_template). The input is a
 * template, then optionally a NUL byte and the text of a partial named "p"
 * (and of a parent, "p" again, for {{<p}}). Both are compiled; when that
 * succeeds the template is rendered with a fixed context of every value
 * type. Syntax errors and renders stopped at their limits are expected and
 * fine; crashes, leaks, hangs and unbounded output are not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_template.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cb_value *ctx;

static cb_value *item(const char *name, int n)
{
	cb_value *m = cb_value_new_map();

	cb_value_set_str(m, "name", name);
	cb_value_set_int(m, "n", n);
	return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cb_value *list = cb_value_new_list(), *deep = cb_value_new_map(), *a = cb_value_new_map();

	(void)argc;
	(void)argv;
	ctx = cb_value_new_map();
	cb_value_set_str(ctx, "title", "Parents & <schools> \"quoted\"");
	cb_value_set_str(ctx, "empty", "");
	cb_value_set_int(ctx, "n", 3);
	cb_value_set_int(ctx, "zero", 0);
	cb_value_setc(ctx, "f", cb_value_new_float(1.5));
	cb_value_set_bool(ctx, "yes", 1);
	cb_value_set_bool(ctx, "no", 0);
	cb_value_setc(ctx, "nothing", cb_value_new_null());
	cb_value_setc(ctx, "date", cb_value_new_date(2016, 5, 1));
	cb_value_push(list, item("x", 1));
	cb_value_push(list, item("y", 2));
	cb_value_push(list, cb_value_new_cstr("plain"));
	cb_value_setc(ctx, "list", list);
	cb_value_setc(ctx, "none", cb_value_new_list());
	cb_value_set_str(a, "b", "deep");
	cb_value_setc(deep, "a", a);
	cb_value_setc(ctx, "map", deep);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t main_len = nul ? (size_t)(nul - text) : size;
	cb_tmpl_set *set = cb_tmpl_set_new(NULL, NULL);
	cb_diag_list *diags = cb_diag_list_new();
	const cb_tmpl *t;
	cb_buf out = CB_BUF_INIT;

	/* Lower limits than a build's, so that a render that multiplies stops
	 * well within the time allowed for one input. */
	cb_tmpl_set_limits(set, 1u << 22, 16u << 20);
	cb_tmpl_set_add(set, "main", text, main_len, "main.mustache");
	if (nul)
		cb_tmpl_set_add(set, "p", nul + 1, size - main_len - 1, "p.mustache");
	if (cb_tmpl_set_get(set, "main", &t, diags) == 0)
		cb_tmpl_render(t, set, ctx, &out, diags);
	cb_tmpl_set_compile_all(set, diags);
	cb_buf_dispose(&out);
	cb_diag_list_free(diags);
	cb_tmpl_set_free(set);
	return 0;
}
