#!/usr/bin/env bash
# capture.sh: how the real fixtures under testdata/ were captured. Each
# program prints its pid when its memory is in place; the script stops it
# (SIGSTOP, so maps and smaps agree), copies the procfs files the reader
# uses into testdata/<name>/proc/<pid>/, then kills it.
#
#   go  - testdata/src/gobin: a Go program with goroutines and two vmem
#         reservations ("heap A", "heap B"; unnamed: this kernel lacks
#         CONFIG_ANON_VMA_NAME)
#   arenas - testdata/src/arenas.c: glibc malloc from 4 threads (arenas)
#   spaces - testdata/src/spaces.c: a mapped file whose path has spaces,
#         a deleted mapped file, a memfd, shared anonymous memory
#   jemalloc, mimalloc - testdata/src/allocators.c linked with -ljemalloc
#         or -lmimalloc (Debian's libjemalloc-dev 5.3, libmimalloc-dev 2.0)
#
# Run from the repository root: vmmap/testdata/capture.sh [NAME...]
# (no names: every fixture).
set -euo pipefail
want=("$@")
td=vmmap/testdata
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gobin" ./$td/src/gobin
gcc -O1 -pthread -o "$tmp/arenas" $td/src/arenas.c
gcc -O1 -o "$tmp/spaces" $td/src/spaces.c
gcc -O1 -pthread -o "$tmp/jemalloc" $td/src/allocators.c -ljemalloc
gcc -O1 -pthread -o "$tmp/mimalloc" $td/src/allocators.c -lmimalloc

capture() { # name command...
	local name=$1; shift
	if [ "${#want[@]}" -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then return; fi
	coproc P { exec "$@"; }
	local pid
	read -r pid <&"${P[0]}"
	kill -STOP "$pid"
	rm -rf "$td/$name"
	mkdir -p "$td/$name/proc/$pid" "$td/$name/proc/sys/vm"
	for f in maps smaps stat comm; do cat "/proc/$pid/$f" > "$td/$name/proc/$pid/$f"; done
	cat /proc/sys/vm/max_map_count > "$td/$name/proc/sys/vm/max_map_count"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$name: pid $pid"
}
capture go "$tmp/gobin"
capture arenas "$tmp/arenas"
capture spaces "$tmp/spaces" "$tmp/zebra fixture dir"
capture jemalloc "$tmp/jemalloc"
capture mimalloc "$tmp/mimalloc"
