//go:build windows

package vmmap

import (
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

// TestForeignHeapsWindows maps a child's heaps from a Toolhelp snapshot.
func TestForeignHeapsWindows(t *testing.T) {
	cmd, stop := startChild(t)
	defer stop()
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPHEAPLIST, uint32(cmd.Process.Pid))
	if err != nil {
		t.Fatalf("CreateToolhelp32Snapshot: %v", err)
	}
	lists, err := winapi.Heap32Lists(snap)
	windows.CloseHandle(snap)
	t.Logf("Heap32ListFirst: %d heaps, %v", len(lists), err)
	s, err := Process(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	var heaps []string
	for _, o := range Owners(s) {
		if strings.Contains(o.Owner, "heap") {
			heaps = append(heaps, o.Owner)
		}
	}
	t.Logf("heaps in the map: %v", heaps)
}
