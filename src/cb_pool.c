/* cb_pool: one function run on several threads at once. */
#include "cb_pool.h"

#include <pthread.h>
#include <unistd.h>

int cb_pool_threads(int n)
{
	if (n <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > CB_POOL_MAX ? CB_POOL_MAX : (int)cores;
	}
	return n < 1 ? 1 : n > CB_POOL_MAX ? CB_POOL_MAX : n;
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
