package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// peer is one column of the suite: a Go-side peer run by the worker, or a C
// library run by cpeer/peer.c built against it.
type peer struct {
	Name   string
	Config string   // what the row is: huge pages, locking, zeroing
	Lib    string   // C: "mimalloc", "jemalloc", "glibc" or "noop"; "" for Go
	Var    string   // C: the heap variant peer.c takes
	Env    []string // extra environment (the C peers' huge-page settings)
	Floor  bool     // a floor (no-op allocator, bare mapping): not ranked
	Only   []string // the cases it runs, when not all
	zebra  bool     // a row of zebraPeers
	arenas bool     // needs the worker built with GOEXPERIMENT=arenas
	bin    string   // the program to run, once built
	skip   string   // why this peer cannot run here, if it cannot
}

func (p *peer) isC() bool { return p.Lib != "" }

// peers lists every column in the order they run within a round.
func peers() []*peer {
	var ps []*peer
	for _, z := range zebraPeers {
		ps = append(ps, &peer{Name: z.Name, Config: z.Config, zebra: true})
	}
	return append(append(ps,
		&peer{Name: "go", Config: "Go runtime make([]byte): GC reclaims; Free drops the reference; destroy = runtime.GC + debug.FreeOSMemory"},
		&peer{Name: "go-arena", arenas: true, Only: []string{"seed", "destroy", "mappings", "arena"}, Config: "Go arena package (GOEXPERIMENT=arenas), one arena per heap; destroy = Arena.Free; no individual frees, so only the fill workloads and the arena case (one arena per request: NewArena, MakeSlice, Free)"},
		&peer{Name: "mimalloc", Lib: "mimalloc", Var: "heap", Config: "mi_heap_new per heap, owned by its thread (shared churn: mi_malloc, mimalloc has no heap shared by threads)"},
		&peer{Name: "mimalloc-arena", Lib: "mimalloc", Var: "arena", Config: "mi_reserve_os_memory_ex exclusive arena per heap + mi_heap_new_in_arena; such an arena never grows, so it reserves 256 MiB or 1.5× the heap's fill + 64 MiB, whichever is more"},
		&peer{Name: "jemalloc", Lib: "jemalloc", Var: "arena", Config: "arenas.create per heap, tcache.create per thread, mallocx/dallocx; destroy = arena.<i>.destroy"},
		&peer{Name: "glibc", Lib: "glibc", Var: "malloc", Config: "glibc malloc/free (per-thread arenas); no heap destroy: frees every block"},
		&peer{Name: "mimalloc-huge", Lib: "mimalloc", Var: "heap", Env: []string{"MIMALLOC_LARGE_OS_PAGES=1"}, Config: "mi_heap_new, MIMALLOC_LARGE_OS_PAGES=1"},
		&peer{Name: "jemalloc-thp", Lib: "jemalloc", Var: "arena", Env: []string{"MALLOC_CONF=thp:always,metadata_thp:always"}, Config: "as jemalloc, MALLOC_CONF=thp:always,metadata_thp:always"},
		&peer{Name: "glibc-thp", Lib: "glibc", Var: "malloc", Env: []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, Config: "glibc malloc, GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (madvise THP)"},
		&peer{Name: "floor-4k", Floor: true, Only: []string{"seed", "destroy"}, Config: "floor: every byte of one fresh mapping of the same size written (4 KiB pages); destroy = its munmap"},
		&peer{Name: "floor-thp", Floor: true, Only: []string{"seed", "destroy"}, Config: "floor: as floor-4k, 2 MiB aligned with MADV_HUGEPAGE; rejected when under 90% huge pages"},
		&peer{Name: "go-bump", Floor: true, Only: []string{"arena"}, Config: "floor of the arena case: a bump allocator written in the benchmark (one Go byte slice, 16-byte aligned objects, offset back to 0 per request)"},
		&peer{Name: "go-noop", Floor: true, Config: "no-op allocator in the Go harness: one scratch block, frees nothing (harness cost)"},
		&peer{Name: "c-noop", Lib: "noop", Var: "noop", Floor: true, Config: "no-op allocator in the C harness: one scratch block, frees nothing (harness cost)"},
	), cachePeerColumns()...)
}

//go:embed cpeer/peer.c
var peerSource []byte

// libs says how to link each C library and which Debian package has it.
var libs = map[string]struct{ flags, pkg string }{
	"mimalloc": {"-lmimalloc", "libmimalloc-dev"},
	"jemalloc": {"-ljemalloc", "libjemalloc-dev"},
	"glibc":    {"", "libc6-dev"},
	"noop":     {"", "libc6-dev"},
}

// buildPeers builds the C program once per library into dir and points
// every peer at its program; a library that does not build marks its
// peers skipped with the reason, which the report prints.
func buildPeers(ps []*peer, dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "peer.c")
	if err := os.WriteFile(src, peerSource, 0o644); err != nil {
		return err
	}
	built := map[string]string{}
	failed := map[string]string{}
	for _, p := range ps {
		if p.arenas {
			p.bin, p.skip = buildArenas(dir)
			continue
		}
		if !p.isC() {
			p.bin = self
			continue
		}
		if why, bad := failed[p.Lib]; bad {
			p.skip = why
			continue
		}
		if bin, ok := built[p.Lib]; ok {
			p.bin = bin
			continue
		}
		l := libs[p.Lib]
		bin := filepath.Join(dir, "peer-"+p.Lib)
		args := []string{"-O2", "-std=gnu11", "-Wall", "-Werror", "-DLIB_" + strings.ToUpper(p.Lib), "-o", bin, src}
		if l.flags != "" {
			args = append(args, l.flags)
		}
		args = append(args, "-lpthread")
		out, err := exec.Command("gcc", args...).CombinedOutput()
		if err != nil {
			first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
			why := fmt.Sprintf("cannot build against %s (install %s): %v: %s", p.Lib, l.pkg, err, first)
			if errors.Is(err, exec.ErrNotFound) {
				why = fmt.Sprintf("cannot build against %s: gcc is not installed (install gcc and %s)", p.Lib, l.pkg)
			}
			fmt.Fprintf(os.Stderr, "bench: skipping %s peers: %s\n", p.Lib, why)
			failed[p.Lib] = why
			p.skip = why
			continue
		}
		built[p.Lib] = bin
		p.bin = bin
	}
	return nil
}

// buildArenas builds the worker again with GOEXPERIMENT=arenas, from the
// bench module in the current directory (where "go run ." runs), and
// returns its path or why it cannot.
func buildArenas(dir string) (bin, skip string) {
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(mod)), filepath.Join("bench", "go.mod")) {
		return "", "run from the bench directory to build the GOEXPERIMENT=arenas worker"
	}
	bin = filepath.Join(dir, "worker-arenas")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=arenas")
	if out, err := cmd.CombinedOutput(); err != nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		why := fmt.Sprintf("GOEXPERIMENT=arenas build failed: %v: %s", err, first)
		fmt.Fprintln(os.Stderr, "bench: skipping go-arena:", why)
		return "", why
	}
	return bin, ""
}
