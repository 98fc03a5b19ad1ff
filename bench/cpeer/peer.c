// peer.c is the C side of zebra's benchmark suite: the same workloads as the
// Go worker (worker.go), run natively so that no allocation crosses cgo. It
// is compiled once per library with exactly one of LIB_MIMALLOC,
// LIB_JEMALLOC, LIB_GLIBC or LIB_NOOP defined; the runner passes the
// variant ("heap", "arena", "shared", ...) and the workload's parameters on
// the command line and reads "RESULT\t{json}" lines from stdout.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(LIB_MIMALLOC)
#include <mimalloc.h>
#elif defined(LIB_JEMALLOC)
#include <jemalloc/jemalloc.h>
#endif

static void die(const char *what) {
	fprintf(stderr, "peer: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char *variant = "";

// arena_min is the least an exclusive mimalloc arena reserves: such an
// arena never grows, so it must hold the heap's whole fill.
static size_t arena_min = (size_t)256 << 20;

// A heap is one private heap of the library; a handle is one thread's
// access to it (jemalloc's explicit tcache lives there).
typedef struct {
#if defined(LIB_MIMALLOC)
	mi_heap_t *mh; // NULL: the thread's default heap (mi_malloc)
#elif defined(LIB_JEMALLOC)
	unsigned arena;
#endif
	int unused;
} heap_t;

typedef struct {
	heap_t *h;
#if defined(LIB_JEMALLOC)
	int flags;
	unsigned tc;
#endif
} handle_t;

#if defined(LIB_NOOP)
// The no-op allocator hands out one scratch block: what is left is the
// harness's own cost (trace reading, slot bookkeeping, the writes).
static _Alignas(64) unsigned char scratch[(4 << 20) + 64];
#endif

// heap_new makes a private heap; reserve is the address space to reserve up
// front where the library can (mimalloc's exclusive arena).
static heap_t *heap_new(size_t reserve) {
	heap_t *h = calloc(1, sizeof *h);
	if (!h) die("calloc");
#if defined(LIB_MIMALLOC)
	if (strcmp(variant, "shared") == 0) {
		h->mh = NULL;
	} else if (strcmp(variant, "arena") == 0) {
		mi_arena_id_t id;
		if (reserve < arena_min) reserve = arena_min;
		int large = getenv("MIMALLOC_LARGE_OS_PAGES") != NULL;
		if (mi_reserve_os_memory_ex(reserve, false, large, true, &id) != 0) die("mi_reserve_os_memory_ex");
		h->mh = mi_heap_new_in_arena(id);
		if (!h->mh) die("mi_heap_new_in_arena");
	} else {
		h->mh = mi_heap_new();
		if (!h->mh) die("mi_heap_new");
	}
#elif defined(LIB_JEMALLOC)
	size_t sz = sizeof h->arena;
	if (mallctl("arenas.create", &h->arena, &sz, NULL, 0) != 0) die("mallctl arenas.create");
	(void)reserve;
#else
	(void)reserve;
#endif
	return h;
}

static handle_t open_handle(heap_t *h) {
	handle_t t = {.h = h};
#if defined(LIB_JEMALLOC)
	size_t sz = sizeof t.tc;
	if (mallctl("tcache.create", &t.tc, &sz, NULL, 0) != 0) die("mallctl tcache.create");
	t.flags = MALLOCX_ARENA(h->arena) | MALLOCX_TCACHE(t.tc);
#endif
	return t;
}

static void close_handle(handle_t *t) {
#if defined(LIB_JEMALLOC)
	if (mallctl("tcache.destroy", NULL, NULL, &t->tc, sizeof t->tc) != 0) die("mallctl tcache.destroy");
#else
	(void)t;
#endif
}

static inline void *A(handle_t *t, size_t n) {
#if defined(LIB_MIMALLOC)
	return t->h->mh ? mi_heap_malloc(t->h->mh, n) : mi_malloc(n);
#elif defined(LIB_JEMALLOC)
	return mallocx(n, t->flags);
#elif defined(LIB_NOOP)
	(void)t;
	(void)n;
	return scratch;
#else
	(void)t;
	return malloc(n);
#endif
}

static inline void F(handle_t *t, void *p) {
#if defined(LIB_MIMALLOC)
	(void)t;
	mi_free(p);
#elif defined(LIB_JEMALLOC)
	dallocx(p, MALLOCX_TCACHE(t->tc));
#elif defined(LIB_NOOP)
	(void)t;
	(void)p;
#else
	(void)t;
	free(p);
#endif
}

// can_destroy says whether heap_destroy releases a heap at once; without it
// the workload frees every block itself (glibc, no-op).
static int can_destroy(void) {
#if defined(LIB_MIMALLOC)
	return strcmp(variant, "shared") != 0;
#elif defined(LIB_JEMALLOC)
	return 1;
#else
	return 0;
#endif
}

static void heap_destroy(heap_t *h) {
#if defined(LIB_MIMALLOC)
	if (h->mh) mi_heap_destroy(h->mh);
#elif defined(LIB_JEMALLOC)
	char name[64];
	snprintf(name, sizeof name, "arena.%u.destroy", h->arena);
	if (mallctl(name, NULL, NULL, NULL, 0) != 0) die("mallctl arena.destroy");
#endif
	free(h);
}

// ---- churn: replay the trace file --------------------------------------

typedef struct {
	uint32_t slot, size;
} op_t;

static op_t *ops;
static uint32_t nslots, nops;
static uint32_t nrun; // ops each thread replays: the trace's first nops/threads

static void load_trace(const char *path) {
	FILE *f = fopen(path, "rb");
	if (!f) die(path);
	char magic[8];
	uint32_t hdr[2];
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "ZBTRACE1", 8) != 0 || fread(hdr, 4, 2, f) != 2) {
		fprintf(stderr, "peer: %s: not a trace file\n", path);
		exit(2);
	}
	nslots = hdr[0];
	nops = hdr[1];
	ops = malloc((size_t)nops * sizeof *ops);
	if (!ops) die("malloc trace");
	if (fread(ops, sizeof *ops, nops, f) != nops) {
		fprintf(stderr, "peer: %s: short trace\n", path);
		exit(2);
	}
	fclose(f);
}

typedef struct {
	heap_t *h;
	uint64_t sum;
	double t0, t1; // this thread's replay, for the wall time of all of them
	pthread_barrier_t *start;
} churn_arg;

static void *churn_thread(void *v) {
	churn_arg *a = v;
	// A private heap is made by the thread that uses it: mimalloc heaps
	// belong to the thread that created them.
	if (!a->h) a->h = heap_new(0);
	handle_t t = open_handle(a->h);
	volatile unsigned char **slots = calloc(nslots, sizeof *slots);
	if (!slots) die("calloc slots");
	uint64_t sum = 0;
	pthread_barrier_wait(a->start);
	a->t0 = now_ns();
	for (uint32_t k = 0; k < nrun; k++) {
		op_t o = ops[k];
		volatile unsigned char *p = slots[o.slot];
		if (p) {
			sum += p[0];
			F(&t, (void *)p);
		}
		p = A(&t, o.size);
		if (!p) die("alloc");
		p[0] = (unsigned char)(k * 31 + o.size);
		slots[o.slot] = p;
	}
	a->t1 = now_ns();
	for (uint32_t i = 0; i < nslots; i++)
		if (slots[i]) {
			sum += slots[i][0];
			F(&t, (void *)slots[i]);
		}
	close_handle(&t);
	free(slots);
	a->sum = sum;
	return NULL;
}

static void churn(const char *path, int threads, int shared) {
	load_trace(path);
	if (threads < 1 || threads > 64) {
		fprintf(stderr, "peer: %d threads\n", threads);
		exit(2);
	}
	nrun = nops / (uint32_t)threads;
	pthread_barrier_t b;
	pthread_barrier_init(&b, NULL, threads + 1);
	pthread_t tid[64];
	churn_arg args[64];
	heap_t *one = shared ? heap_new(0) : NULL;
	for (int i = 0; i < threads; i++) {
		args[i] = (churn_arg){.h = one, .start = &b};
		if (pthread_create(&tid[i], NULL, churn_thread, &args[i]) != 0) die("pthread_create");
	}
	pthread_barrier_wait(&b);
	uint64_t sum = 0;
	double t0 = 0, t1 = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		sum += args[i].sum;
		if (i == 0 || args[i].t0 < t0) t0 = args[i].t0;
		if (args[i].t1 > t1) t1 = args[i].t1;
	}
	double el = t1 - t0;
	printf("RESULT\t{\"case\":\"churn\",\"values\":{\"ns/op\":%.3f},\"checksum\":%" PRIu64 "}\n", el / nrun, sum);
}

// ---- sizes: Alloc+Free pairs --------------------------------------------

static void sizes(int argc, char **argv) {
	heap_t *h = heap_new(0);
	handle_t t = open_handle(h);
	for (int i = 0; i < argc; i++) {
		size_t n;
		long iters;
		if (sscanf(argv[i], "%zu:%ld", &n, &iters) != 2 || n == 0 || iters <= 0) {
			fprintf(stderr, "peer: bad size %s\n", argv[i]);
			exit(2);
		}
		uint64_t sum = 0;
		double t0 = now_ns();
		for (long k = 0; k < iters; k++) {
			volatile unsigned char *p = A(&t, n);
			if (!p) die("alloc");
			p[0] = (unsigned char)k;
			p[n - 1] = (unsigned char)(k >> 3);
			sum += p[0] + p[n - 1];
			F(&t, (void *)p);
		}
		double el = now_ns() - t0;
		printf("RESULT\t{\"case\":\"sizes/%zu\",\"values\":{\"ns/op\":%.3f},\"checksum\":%" PRIu64 "}\n", n, el / iters, sum);
	}
	close_handle(&t);
}

// ---- fill: heaps filled alternately, then the first destroyed -----------

// proc_kib reads "key: N kB" from a /proc file.
static long proc_kib(const char *file, const char *key) {
	FILE *f = fopen(file, "r");
	if (!f) die(file);
	char line[256];
	long v = -1;
	size_t kl = strlen(key);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void copy_maps(const char *dst) {
	int in = open("/proc/self/maps", O_RDONLY);
	if (in < 0) die("/proc/self/maps");
	FILE *out = fopen(dst, "wb");
	if (!out) die(dst);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, out);
	close(in);
	if (fclose(out) != 0) die(dst);
}

typedef struct {
	void **p;
	size_t n, cap;
} list_t;

static void push(list_t *l, void *p) {
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->p = realloc(l->p, l->cap * sizeof *l->p);
		if (!l->p) die("realloc list");
	}
	l->p[l->n++] = p;
}

// fill: nheaps heaps, blocks of size bytes allocated round-robin until each
// heap holds per bytes; touch "all" writes every byte, "first" one byte a
// block. The last heap gets the reserve. With destroy set, heap 0 is then
// destroyed. The memory maps before and after, and each heap's block
// addresses, go to prefix.* for the runner to analyse.
static void fill(int nheaps, size_t per, size_t size, size_t reserve, const char *touch, int destroy, const char *prefix) {
	if (per + per / 2 + ((size_t)64 << 20) > arena_min) arena_min = per + per / 2 + ((size_t)64 << 20);
	heap_t **hs = calloc((size_t)nheaps, sizeof *hs);
	handle_t *ts = calloc((size_t)nheaps, sizeof *ts);
	list_t *ls = calloc((size_t)nheaps, sizeof *ls);
	if (!hs || !ts || !ls) die("calloc");
	for (int i = 0; i < nheaps; i++) {
		hs[i] = heap_new(i == nheaps - 1 ? reserve : 0);
		ts[i] = open_handle(hs[i]);
	}
	int all = strcmp(touch, "all") == 0;
	size_t blocks = per / size;
	uint64_t sum = 0;
	double t0 = now_ns();
	for (size_t k = 0; k < blocks; k++)
		for (int i = 0; i < nheaps; i++) {
			unsigned char *p = A(&ts[i], size);
			if (!p) die("alloc");
			unsigned char v = (unsigned char)(k + (size_t)i);
			if (all)
				memset(p, v, size);
			else
				p[0] = v;
			push(&ls[i], p);
		}
	double alloc_ns = now_ns() - t0;
	for (int i = 0; i < nheaps; i++)
		for (size_t k = 0; k < ls[i].n; k++) sum += ((volatile unsigned char *)ls[i].p[k])[0];
	long peak_before = proc_kib("/proc/self/status", "VmHWM"), rss_before = proc_kib("/proc/self/status", "VmRSS");
	long huge = proc_kib("/proc/self/smaps_rollup", "AnonHugePages");
	char path[4096];
	for (int i = 0; i < nheaps; i++) {
		snprintf(path, sizeof path, "%s.addrs.%d", prefix, i);
		FILE *f = fopen(path, "wb");
		if (!f) die(path);
		for (size_t k = 0; k < ls[i].n; k++) {
			uint64_t a = (uint64_t)(uintptr_t)ls[i].p[k];
			fwrite(&a, 8, 1, f);
		}
		if (fclose(f) != 0) die(path);
	}
	snprintf(path, sizeof path, "%s.before", prefix);
	copy_maps(path);
	double destroy_ns = 0;
	if (destroy) {
		t0 = now_ns();
		if (can_destroy()) {
			close_handle(&ts[0]);
			heap_destroy(hs[0]);
		} else {
			for (size_t k = 0; k < ls[0].n; k++) F(&ts[0], ls[0].p[k]);
			close_handle(&ts[0]);
			free(hs[0]);
		}
		destroy_ns = now_ns() - t0;
		snprintf(path, sizeof path, "%s.after", prefix);
		copy_maps(path);
		// The survivors must still hold what was written.
		for (int i = 1; i < nheaps; i++)
			for (size_t k = 0; k < ls[i].n; k++) sum += ((volatile unsigned char *)ls[i].p[k])[size - 1];
	}
	long rss_after = proc_kib("/proc/self/status", "VmRSS");
	// The floor of a destroy: unmapping as much touched memory in one piece.
	size_t total = blocks * size;
	unsigned char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) die("mmap floor");
	for (size_t off = 0; off < total; off += 4096) m[off] = 1;
	t0 = now_ns();
	if (munmap(m, total) != 0) die("munmap floor");
	double munmap_ns = now_ns() - t0;
	printf("RESULT\t{\"case\":\"fill\",\"values\":{\"alloc ms\":%.3f,\"destroy ms\":%.3f,\"munmap ms\":%.3f,"
	       "\"peak RSS MiB\":%.1f,\"RSS before MiB\":%.1f,\"RSS after MiB\":%.1f,\"AnonHugePages MiB\":%.1f},"
	       "\"checksum\":%" PRIu64 "}\n",
	       alloc_ns / 1e6, destroy_ns / 1e6, munmap_ns / 1e6, peak_before / 1024.0, rss_before / 1024.0,
	       rss_after / 1024.0, huge / 1024.0, sum);
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: peer churn|sizes|fill VARIANT ARGS...\n");
		return 2;
	}
	variant = argv[2];
	if (strcmp(argv[1], "churn") == 0 && argc == 6) {
		churn(argv[3], atoi(argv[4]), atoi(argv[5]));
	} else if (strcmp(argv[1], "sizes") == 0) {
		sizes(argc - 3, argv + 3);
	} else if (strcmp(argv[1], "fill") == 0 && argc == 10) {
		fill(atoi(argv[3]), strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10), strtoull(argv[6], NULL, 10),
		     argv[7], atoi(argv[8]), argv[9]);
	} else {
		fprintf(stderr, "peer: bad arguments for %s\n", argv[1]);
		return 2;
	}
	return 0;
}
