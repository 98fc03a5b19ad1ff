//go:build windows

package vmmap

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// TestOwnHeapsWindows: a heap of this process is labelled in every
// allocation it has, its first segment and a large block alike, with the
// name recorded for it; the default process heap is "process heap 0".
func TestOwnHeapsWindows(t *testing.T) {
	h, err := winapi.HeapCreate(0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	small := winapi.RtlAllocateHeap(h, 0, 100)
	large := winapi.RtlAllocateHeap(h, 0, 8<<20) // above every VirtualMemoryThreshold
	if small == nil || large == nil {
		t.Fatal("RtlAllocateHeap failed")
	}
	// Found by a walk, unregistered: "process heap N".
	s, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := regionAt(s, uint64(uintptr(large))); !ok || r.Type != Heap || !strings.HasPrefix(r.Owner, "process heap ") {
		t.Errorf("large block of an unnamed heap: %+v", r)
	}
	// Registered: the name, and the blocks it reports.
	winapi.RegisterHeap(h, winapi.NamedHeap{Name: "test heap", Blocks: func(yield func(uintptr)) {
		yield(uintptr(small))
		yield(uintptr(large))
	}})
	defer winapi.RegisterHeap(h, winapi.NamedHeap{})
	s, err = Self()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		addr uintptr
	}{{"heap base", h}, {"small block", uintptr(small)}, {"large block", uintptr(large)}} {
		r, ok := regionAt(s, uint64(tc.addr))
		if !ok || r.Type != Heap || r.Owner != "test heap" {
			t.Errorf("%s at %#x: %+v, want Heap of \"test heap\"", tc.what, tc.addr, r)
		}
	}
	ph := winapi.GetProcessHeaps()
	if r, ok := regionAt(s, uint64(ph[0])); !ok || r.Type != Heap || r.Owner != "process heap 0" {
		t.Errorf("the process heap at %#x: %+v", ph[0], r)
	}
	if !winapi.RtlDestroyHeap(h) {
		t.Fatal("RtlDestroyHeap failed")
	}
}

// TestWorkingSetWindows: a region's RSS counts the pages touched, not the
// pages committed.
func TestWorkingSetWindows(t *testing.T) {
	const size, touched = 1 << 20, 256 << 10
	addr, err := windows.VirtualAlloc(0, size, windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.VirtualFree(addr, 0, windows.MEM_RELEASE)
	clear(unsafe.Slice((*byte)(winapi.PointerAt(addr)), touched))
	s, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	r, ok := regionAt(s, uint64(addr))
	if !ok || r.Committed != size {
		t.Fatalf("region at %#x: %+v", addr, r)
	}
	if r.RSS != touched || r.Shared != 0 {
		t.Errorf("RSS %d, shared %d; want %d touched, none shared", r.RSS, r.Shared, touched)
	}
	var image uint64
	for _, reg := range s.Regions {
		if reg.Type == Image {
			image += reg.RSS
		}
	}
	if image == 0 {
		t.Error("no image page is in the working set")
	}
}

// TestForeignHeapsWindows maps a child's heaps. Wine cannot take a
// Toolhelp heap list (ERROR_CALL_NOT_IMPLEMENTED); the map then reads the
// child's PEB and still finds its process heap.
func TestForeignHeapsWindows(t *testing.T) {
	cmd, stop := startChild(t)
	defer stop()
	pid := cmd.Process.Pid
	th, err := toolhelpHeaps(pid)
	t.Logf("Toolhelp heap list: %d heaps, error %v", len(th), err)
	if err != nil && !errors.Is(err, windows.ERROR_CALL_NOT_IMPLEMENTED) {
		t.Errorf("CreateToolhelp32Snapshot(TH32CS_SNAPHEAPLIST): %v", err)
	}
	s, err := Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	var heaps []string
	for _, o := range Owners(s) {
		if strings.HasPrefix(o.Owner, "process heap ") {
			heaps = append(heaps, o.Owner)
		}
	}
	if !slices.Contains(heaps, "process heap 0") {
		t.Errorf("the child's map lists the heaps %v, want its process heap 0 among them", heaps)
	}
	t.Logf("heaps in the child's map: %v", heaps)
}
