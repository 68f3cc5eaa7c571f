/* cb_pool: one function run on several threads at once. */
#include "cb_pool.h"

#include <pthread.h>
#include <unistd.h>

int cb_pool_threads(int n)
{
	long m = n > 0 ? n : sysconf(_SC_NPROCESSORS_ONLN);

	return m < 1 ? 1 : m > CB_POOL_MAX ? CB_POOL_MAX : (int)m;
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
