/* cb_pool: the thread count for -j, and a worker run on that many threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cb_pool.h"

static void test_threads(void **state)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cores < 1 ? 1 : cores > CB_POOL_MAX ? CB_POOL_MAX : (int)cores;

	(void)state;
	assert_int_equal(cb_pool_threads(1), 1);
	assert_int_equal(cb_pool_threads(3), 3);
	assert_int_equal(cb_pool_threads(CB_POOL_MAX + 5), CB_POOL_MAX);
	/* 0 (and below): one per core. */
	assert_int_equal(cb_pool_threads(0), want);
	assert_int_equal(cb_pool_threads(-2), want);
}

/* Work shared through a counter: every item is done once, and the calls
 * overlap (each waits until all n have started, which fails by timing out
 * if fewer threads run). */
typedef struct work {
	atomic_int next, calls, started;
	int n, items;
	unsigned char done[1000];
	pthread_t caller;
	atomic_int saw_caller;
} work;

static void *worker(void *arg)
{
	work *w = arg;
	int i, spins = 0;

	atomic_fetch_add(&w->calls, 1);
	if (pthread_equal(pthread_self(), w->caller))
		atomic_store(&w->saw_caller, 1);
	atomic_fetch_add(&w->started, 1);
	while (atomic_load(&w->started) < w->n && spins++ < 200000)
		usleep(10);
	while ((i = atomic_fetch_add(&w->next, 1)) < w->items)
		w->done[i]++;
	return NULL;
}

/* Work for n calls over items items, made on the calling thread. */
static void work_init(work *w, int n, int items)
{
	int i;

	w->n = n;
	w->items = items;
	w->caller = pthread_self();
	atomic_init(&w->next, 0);
	atomic_init(&w->calls, 0);
	atomic_init(&w->started, 0);
	atomic_init(&w->saw_caller, 0);
	for (i = 0; i < items; i++)
		w->done[i] = 0;
}

static void test_run(void **state)
{
	int n, i;

	(void)state;
	for (n = 1; n <= 4; n++) {
		work w;

		work_init(&w, n, 1000);
		cb_pool_run(n, worker, &w);
		assert_int_equal(atomic_load(&w.calls), n);
		assert_int_equal(atomic_load(&w.started), n);
		assert_true(atomic_load(&w.saw_caller)); /* the caller is one of them */
		for (i = 0; i < w.items; i++)
			assert_int_equal(w.done[i], 1);
	}
}

/* More threads than the pool has: CB_POOL_MAX calls. */
static void test_run_capped(void **state)
{
	work w;

	(void)state;
	work_init(&w, CB_POOL_MAX, 0);
	cb_pool_run(CB_POOL_MAX * 2, worker, &w);
	assert_int_equal(atomic_load(&w.calls), CB_POOL_MAX);
}

/* cb_pool_each: every index once, on as many threads as asked but no more
 * than there are items. */
typedef struct each_work {
	atomic_int done[1000];
	pthread_t seen[CB_POOL_MAX];
	atomic_int n_seen;
	pthread_mutex_t lock;
} each_work;

static void count_one(void *arg, size_t i)
{
	each_work *w = arg;
	pthread_t self = pthread_self();
	int k, known = 0;

	atomic_fetch_add(&w->done[i], 1);
	pthread_mutex_lock(&w->lock);
	for (k = 0; k < atomic_load(&w->n_seen); k++)
		known |= pthread_equal(w->seen[k], self);
	if (!known)
		w->seen[atomic_fetch_add(&w->n_seen, 1)] = self;
	pthread_mutex_unlock(&w->lock);
	usleep(100); /* long enough for the other threads to take some */
}

static void test_each(void **state)
{
	const size_t counts[] = {0, 1, 3, 1000};
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
		each_work w;
		for (i = 0; i < 1000; i++)
			atomic_init(&w.done[i], 0);
		atomic_init(&w.n_seen, 0);
		pthread_mutex_init(&w.lock, NULL);
		cb_pool_each(4, counts[c], count_one, &w);
		for (i = 0; i < 1000; i++)
			assert_int_equal(atomic_load(&w.done[i]), i < counts[c] ? 1 : 0);
		/* Threads: at most 4 and at most one per item. */
		assert_true((size_t)atomic_load(&w.n_seen) <= (counts[c] < 4 ? counts[c] : 4));
		pthread_mutex_destroy(&w.lock);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_run),
	    cmocka_unit_test(test_run_capped),
	    cmocka_unit_test(test_each),
	};
	return cmocka_run_group_tests_name("cb_pool", tests, NULL, NULL);
}
