/* cb_pool: one function run on several threads at once. */
#include "cb_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

int cb_pool_threads(int n)
{
	long m = n > 0 ? n : sysconf(_SC_NPROCESSORS_ONLN);

	return m < 1 ? 1 : m > CB_POOL_MAX ? CB_POOL_MAX : (int)m;
}

typedef struct each_run {
	size_t count;
	atomic_size_t next;
	void (*fn)(void *arg, size_t i);
	void *arg;
} each_run;

static void *each_worker(void *p)
{
	each_run *run = p;
	size_t i;

	while ((i = atomic_fetch_add(&run->next, 1)) < run->count)
		run->fn(run->arg, i);
	return NULL;
}

void cb_pool_each(int threads, size_t count, void (*fn)(void *arg, size_t i), void *arg)
{
	int n = cb_pool_threads(threads);
	each_run run;

	if (count == 0)
		return;
	if ((size_t)n > count)
		n = (int)count;
	run.count = count;
	atomic_init(&run.next, 0);
	run.fn = fn;
	run.arg = arg;
	cb_pool_run(n, each_worker, &run);
}

void cb_pool_run(int n, void *(*fn)(void *), void *arg)
{
	pthread_t tids[CB_POOL_MAX];
	int i, started = 0;

	if (n > CB_POOL_MAX)
		n = CB_POOL_MAX;
	for (i = 1; i < n; i++)
		if (pthread_create(&tids[started], NULL, fn, arg) == 0)
			started++;
	fn(arg);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}
