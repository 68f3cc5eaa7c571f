/*
 * cb_pool: one function run on several threads at once.
 *
 * The stages that spread their work over the cores (loading, the search
 * index, rendering, editions, ranking related documents) hand the work out
 * through a counter of their own; cb_pool resolves how many threads the
 * build may use and runs a worker function on that many, the calling thread
 * being one of them.
 */
#ifndef CB_POOL_H
#define CB_POOL_H

#include <stddef.h>

/* The most threads a pool runs. */
#define CB_POOL_MAX 16

/* Threads for a thread count asked for (the -j option): n itself if above
 * 0, else one per online core; always between 1 and CB_POOL_MAX. */
int cb_pool_threads(int n);

/* Run fn(arg) on n threads at once (clamped to 1..CB_POOL_MAX), the calling
 * thread included, and return when every call has returned. A thread the
 * system refuses to start is not retried, so fn must take its work from a
 * counter the calls share: the others then do that thread's share. */
void cb_pool_run(int n, void *(*fn)(void *), void *arg);

/* fn(arg, i) for every i in [0, count), each once, on cb_pool_threads(threads)
 * threads but no more than count, the calling thread included: the calls
 * take their i from a counter they share. For work with nothing kept per
 * thread; the rest uses cb_pool_run and a counter of its own. */
void cb_pool_each(int threads, size_t count, void (*fn)(void *arg, size_t i), void *arg);

#endif
