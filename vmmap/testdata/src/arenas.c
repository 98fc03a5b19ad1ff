// arenas: several threads allocate with malloc, so glibc gives each its
// own arena (64 MiB-aligned heaps), then the process waits to be captured.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t ready;

static void *worker(void *arg) {
	size_t n = (size_t)arg;
	for (size_t i = 0; i < 200; i++) {
		char *p = malloc(n);
		memset(p, 1, n);
		if (i % 3 == 0) free(p);
	}
	pthread_barrier_wait(&ready);
	pause();
	return NULL;
}

int main(void) {
	enum { threads = 4 };
	pthread_t t[threads];
	pthread_barrier_init(&ready, NULL, threads + 1);
	for (size_t i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(1000 + 700 * i));
	char *big = malloc(1 << 20); /* above the mmap threshold: its own mapping */
	memset(big, 2, 1 << 20);
	pthread_barrier_wait(&ready);
	printf("%d\n", getpid());
	fflush(stdout);
	pause();
	return 0;
}
