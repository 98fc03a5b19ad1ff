// spaces: maps a file whose path contains spaces, a file it then deletes,
// a memfd and shared anonymous memory, then waits to be captured.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void *mapfile(const char *path, int unlink_it) {
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 3 * 4096) != 0) { perror(path); return NULL; }
	char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) { perror("mmap"); return NULL; }
	memset(p, 'x', 4096);
	close(fd);
	if (unlink_it) unlink(path);
	return p;
}

int main(int argc, char **argv) {
	const char *dir = argc > 1 ? argv[1] : "/tmp/zebra fixture dir";
	char a[512], b[512];
	mkdir(dir, 0700);
	snprintf(a, sizeof a, "%s/data file (1).bin", dir);
	snprintf(b, sizeof b, "%s/scratch.tmp", dir);
	mapfile(a, 0);
	mapfile(b, 1);
	int mfd = memfd_create("zebra-memfd", 0);
	ftruncate(mfd, 8 * 4096);
	char *m = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	memset(m, 'm', 2 * 4096);
	char *s = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s[0] = 1;
	printf("%d\n", getpid());
	fflush(stdout);
	pause();
	return 0;
}
