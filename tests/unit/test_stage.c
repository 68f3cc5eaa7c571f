/* Unit tests for cb_stage: per-plugin layers of what case hooks change, the
 * view each plugin has of a case, the commit in plugin order, and waiting
 * for the plugins before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cb_doc.h"
#include "cb_stage.h"

static cb_doc *doc(const char *path)
{
	static const char text[] = "---\ntitle: T\n---\n\n## Context\n\nx\n\n### Detail\n\ny\n\n"
	                           "## Lessons for practice\n\n- z\n";
	cb_diag_list *d = cb_diag_list_new();
	cb_doc *out = NULL;
	cb_doc_opts o;

	memset(&o, 0, sizeof o);
	cb_doc_parse(&out, CB_DOC_CASE, path, text, sizeof text - 1, &o, d);
	cb_diag_list_free(d);
	assert_non_null(out);
	return out;
}

static const char *str(const cb_value *v)
{
	return v ? cb_value_cstr(v) : "(none)";
}

/* Each plugin sees its own layer and those before it, never those after. */
static void test_layers(void **state)
{
	cb_doc *a = doc("content/cases/a.md");
	cb_stage *st = cb_stage_new(3, 1);

	(void)state;
	cb_doc_set_var(a, "base", cb_value_new_cstr("before"));
	cb_stage_set_var(st, 0, 0, "k", cb_value_new_cstr("zero"));
	cb_stage_set_var(st, 2, 0, "k", cb_value_new_cstr("two"));
	cb_stage_set_var(st, 2, 0, "only2", cb_value_new_cstr("x"));
	assert_string_equal(str(cb_stage_var(st, 0, 0, a, "k")), "zero");
	assert_string_equal(str(cb_stage_var(st, 1, 0, a, "k")), "zero");
	assert_string_equal(str(cb_stage_var(st, 2, 0, a, "k")), "two");
	assert_null(cb_stage_var(st, 1, 0, a, "only2"));
	assert_string_equal(str(cb_stage_var(st, 1, 0, a, "base")), "before");
	/* Nothing reached the case yet. */
	assert_null(cb_value_getc(cb_doc_vars(a), "k"));
	cb_stage_free(st);
	cb_doc_free(a);
}

static size_t count_terms(const cb_value *facets, const char *tax)
{
	return cb_value_len(cb_value_getc(facets, tax));
}

static const char *term_at(const cb_value *facets, const char *tax, size_t i)
{
	return cb_value_cstr(cb_value_getc(cb_value_at(cb_value_getc(facets, tax), i), "term"));
}

static void test_facets(void **state)
{
	cb_doc *a = doc("content/cases/a.md");
	cb_stage *st = cb_stage_new(3, 1);
	cb_value *made;
	const cb_value *f;

	(void)state;
	cb_doc_add_facet(a, "phase", "co-design", 0);
	/* No layer recorded any: the case's own facets, borrowed. */
	f = cb_stage_facets(st, 2, 0, a, &made);
	assert_ptr_equal(f, cb_doc_facets(a));
	assert_null(made);
	cb_stage_add_facet(st, 0, 0, a, "phase", cb_doc_facet_entry("co-delivery", 1));
	cb_stage_add_facet(st, 1, 0, a, "phase", cb_doc_facet_entry("co-design", 0));  /* known */
	cb_stage_add_facet(st, 1, 0, a, "phase", cb_doc_facet_entry("co-delivery", 0)); /* known */
	cb_stage_add_facet(st, 2, 0, a, "sector", cb_doc_facet_entry("health", 0));
	f = cb_stage_facets(st, 1, 0, a, &made);
	assert_non_null(made);
	assert_int_equal(count_terms(f, "phase"), 2);
	assert_string_equal(term_at(f, "phase", 0), "co-design");
	assert_string_equal(term_at(f, "phase", 1), "co-delivery");
	assert_int_equal(count_terms(f, "sector"), 0);
	cb_value_unref(made);
	/* Plugin 0 does not see what plugin 2 recorded. */
	f = cb_stage_facets(st, 0, 0, a, &made);
	assert_int_equal(count_terms(f, "sector"), 0);
	cb_value_unref(made);
	f = cb_stage_facets(st, 2, 0, a, &made);
	assert_int_equal(count_terms(f, "sector"), 1);
	cb_value_unref(made);
	cb_stage_free(st);
	cb_doc_free(a);
}

static void test_omitted(void **state)
{
	cb_doc *a = doc("content/cases/a.md");
	cb_stage *st = cb_stage_new(2, 1);

	(void)state;
	/* Sections: 0 Context, 1 Detail (in Context), 2 Lessons. */
	assert_int_equal(cb_md_section_count(cb_doc_md(a)), 3);
	cb_stage_omit(st, 1, 0, 0);
	assert_false(cb_stage_omitted(st, 0, 0, a, 1));
	assert_true(cb_stage_omitted(st, 1, 0, a, 0));
	assert_true(cb_stage_omitted(st, 1, 0, a, 1)); /* through its parent */
	assert_false(cb_stage_omitted(st, 1, 0, a, 2));
	assert_false(cb_doc_section_omitted(a, 0));
	cb_stage_free(st);
	cb_doc_free(a);
}

/* The commit applies the layers plugin by plugin: the later plugin's value
 * wins, keys keep the order of first setting, facets and omits arrive. */
static void test_commit(void **state)
{
	cb_doc *cases[2] = {doc("content/cases/a.md"), doc("content/cases/b.md")};
	cb_stage *st = cb_stage_new(2, 2);
	const cb_value *vars;

	(void)state;
	cb_stage_set_var(st, 1, 0, "x", cb_value_new_cstr("one"));
	cb_stage_set_var(st, 0, 0, "y", cb_value_new_cstr("zero-y"));
	cb_stage_set_var(st, 0, 0, "x", cb_value_new_cstr("zero"));
	cb_stage_add_facet(st, 1, 1, cases[1], "phase", cb_doc_facet_entry("co-design", 0));
	cb_stage_omit(st, 0, 1, 2);
	cb_stage_commit(st, cases);
	vars = cb_doc_vars(cases[0]);
	assert_int_equal(cb_value_len(vars), 2);
	assert_string_equal(cb_value_key(vars, 0, NULL), "y");
	assert_string_equal(cb_value_key(vars, 1, NULL), "x");
	assert_string_equal(str(cb_value_getc(vars, "x")), "one");
	assert_int_equal(cb_value_len(cb_doc_vars(cases[1])), 0);
	assert_string_equal(term_at(cb_doc_facets(cases[1]), "phase", 0), "co-design");
	assert_true(cb_doc_section_omitted(cases[1], 2));
	assert_false(cb_doc_section_omitted(cases[0], 2));
	cb_stage_free(st);
	cb_doc_free(cases[0]);
	cb_doc_free(cases[1]);
}

typedef struct waiter {
	cb_stage *st;
	size_t p, i;
	int all;
	volatile int passed;
} waiter;

static void *wait_thread(void *arg)
{
	waiter *w = arg;

	if (w->all)
		cb_stage_wait_all(w->st, w->p);
	else
		cb_stage_wait(w->st, w->p, w->i);
	__atomic_store_n(&w->passed, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int passed(waiter *w)
{
	return __atomic_load_n(&w->passed, __ATOMIC_SEQ_CST);
}

/* w (on thread t) is still waiting; plugin p finishing lets it through. */
static void finish_releases(cb_stage *st, size_t p, waiter *w, pthread_t t)
{
	usleep(20000);
	assert_false(passed(w));
	cb_stage_finish(st, p);
	pthread_join(t, NULL);
	assert_true(passed(w));
}

/* Plugin 2 waiting for case 3 is let through only once plugins 0 and 1 are
 * both done with it; waiting for all, once they have both finished (being
 * done with every case is not enough: a site hook changes any case). */
static void test_wait(void **state)
{
	cb_stage *st = cb_stage_new(3, 5);
	waiter w = {st, 2, 3, 0, 0}, all = {st, 2, 0, 1, 0};
	pthread_t t, ta;

	(void)state;
	cb_stage_wait(st, 0, 4); /* the first plugin never waits */
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	assert_int_equal(pthread_create(&ta, NULL, wait_thread, &all), 0);
	cb_stage_done(st, 0, 4);
	cb_stage_done(st, 1, 3);
	usleep(20000);
	assert_false(passed(&w));
	cb_stage_done(st, 1, 4);
	pthread_join(t, NULL);
	assert_true(passed(&w));
	assert_false(passed(&all));
	cb_stage_done(st, 1, 99); /* every case */
	cb_stage_done(st, 0, 5);
	usleep(20000);
	assert_false(passed(&all));
	cb_stage_finish(st, 1);
	finish_releases(st, 0, &all, ta);
	cb_stage_free(st);
}

/* With no cases at all, waiting for all still waits for the plugins before
 * to finish: a site hook adds pages and values however many cases there are. */
static void test_wait_no_cases(void **state)
{
	cb_stage *st = cb_stage_new(2, 0);
	waiter all = {st, 1, 0, 1, 0};
	pthread_t ta;

	(void)state;
	assert_int_equal(pthread_create(&ta, NULL, wait_thread, &all), 0);
	cb_stage_done(st, 0, 99);
	finish_releases(st, 0, &all, ta);
	cb_stage_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layers),  cmocka_unit_test(test_facets),
	    cmocka_unit_test(test_omitted), cmocka_unit_test(test_commit),
	    cmocka_unit_test(test_wait),    cmocka_unit_test(test_wait_no_cases),
	};
	return cmocka_run_group_tests_name("cb_stage", tests, NULL, NULL);
}
