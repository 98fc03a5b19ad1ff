/* allocators.c: malloc from 4 threads through whichever allocator the
   program is linked with (-ljemalloc, -lmimalloc), 40,000 blocks of 300
   bytes and one 8 MiB block each; then it prints its pid and waits until
   stdin is closed. The vmmap tests build it to map a live jemalloc or
   mimalloc process; capture.sh builds it for the jemalloc/ and mimalloc/
   fixtures. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *work(void *arg) {
	(void)arg;
	for (int i = 0; i < 40000; i++) {
		char *p = malloc(300);
		if (p == NULL)
			return NULL;
		memset(p, 1, 300);
	}
	char *big = malloc(8 << 20);
	if (big != NULL)
		memset(big, 2, 1 << 20);
	return big;
}

int main(void) {
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, work, NULL) != 0)
			return 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("%d\n", (int)getpid());
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0) {
	}
	return 0;
}
