//go:build windows

package vmmap

import (
	"fmt"
	"sort"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// Heaps in Windows maps, as VMMap shows them: every allocation that holds
// part of a heap is Heap, with the heap's name as its owner.
//
// In the calling process GetProcessHeaps lists the heaps and HeapWalk
// gives each one's regions (segments, Wine's sub-heaps) and the large
// blocks that have an allocation of their own. The heaps package ntheap
// created carry its names, and their allocations are found from the
// heap's record of its live blocks instead of a walk (a segment that holds
// no live block then stays Private Data). Another process's heaps cannot be walked from
// outside except block by block (Heap32First/Next, one ReadProcessMemory
// per block); a Toolhelp snapshot (TH32CS_SNAPHEAPLIST) lists their
// handles, which are the heaps' base addresses, so there the allocation
// each heap starts, its first segment, is labelled.

// walkLimit bounds the HeapWalk steps spent on one heap that package
// ntheap did not register: Wine's HeapWalk takes time in proportion to
// the blocks before the current one, so a heap of a million blocks would
// take minutes. Past the limit, the segments not yet seen stay Private
// Data.
const walkLimit = 20000

// markOwnHeaps labels the calling process's heaps.
func markOwnHeaps(s *Snapshot) {
	owners := map[uint64]string{} // allocation base → heap name
	for i, h := range winapi.GetProcessHeaps() {
		name := fmt.Sprintf("process heap %d", i)
		label := func(addr uintptr) {
			if b, ok := blockAt(s.Regions, uint64(addr)); ok {
				owners[b] = name
			}
		}
		if n, ok := winapi.LookupHeap(h); ok {
			// Each of its blocks lies in one of its segments or is a
			// large block of its own.
			name = n.Name
			label(h)
			n.Blocks(label)
			continue
		}
		label(h)
		var lo, hi uintptr // the region the walk is in
		steps := 0
		winapi.WalkHeap(h, func(e *winapi.ProcessHeapEntry) bool {
			switch {
			case e.Flags&winapi.ProcessHeapRegion != 0:
				lo, hi = e.Data, e.Data+uintptr(e.CommittedSize)+uintptr(e.UncommittedSize)
				label(e.Data)
			case e.Flags&winapi.ProcessHeapEntryBusy != 0 && (e.Data < lo || e.Data >= hi):
				label(e.Data) // a large block: an allocation of its own
			}
			steps++
			return steps < walkLimit
		})
	}
	labelBlocks(s.Regions, owners)
}

// markForeignHeaps labels the heaps of process h (pid): those a Toolhelp
// snapshot lists, or, where the system cannot take one (Wine answers
// TH32CS_SNAPHEAPLIST with ERROR_CALL_NOT_IMPLEMENTED), those its PEB
// lists.
func markForeignHeaps(s *Snapshot, h windows.Handle, pid int) {
	heaps, err := toolhelpHeaps(pid)
	if err != nil {
		heaps = pebHeaps(h)
	}
	owners := map[uint64]string{}
	for i, hp := range heaps {
		name := fmt.Sprintf("process heap %d", i)
		if b, ok := blockAt(s.Regions, uint64(hp)); ok {
			owners[b] = name
		}
	}
	labelBlocks(s.Regions, owners)
}

// toolhelpHeaps returns the heap handles of a Toolhelp snapshot, the
// default process heap first.
func toolhelpHeaps(pid int) ([]uintptr, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPHEAPLIST, uint32(pid))
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(snap)
	lists, err := winapi.Heap32Lists(snap)
	if err != nil {
		return nil, err
	}
	var out []uintptr
	for _, hl := range lists {
		if hl.Flags&winapi.HF32Default != 0 {
			out = append([]uintptr{hl.HeapID}, out...)
		} else {
			out = append(out, hl.HeapID)
		}
	}
	return out, nil
}

// PEB offsets (winternl.h; the same in ReactOS and Wine): ProcessHeap,
// NumberOfHeaps and ProcessHeaps, for this build's pointer size. A process
// of another width (WOW64) has them elsewhere; reading then yields
// addresses that label nothing.
var pebOffsets = map[uintptr][3]uintptr{8: {0x30, 0xE8, 0xF0}, 4: {0x18, 0x88, 0x90}}

// pebHeaps reads the heap handles another process's PEB records: the
// process heap and the ProcessHeaps array (Wine keeps only the first).
func pebHeaps(h windows.Handle) []uintptr {
	var pbi windows.PROCESS_BASIC_INFORMATION
	if windows.NtQueryInformationProcess(h, windows.ProcessBasicInformation, unsafe.Pointer(&pbi), uint32(unsafe.Sizeof(pbi)), nil) != nil {
		return nil
	}
	peb := uintptr(unsafe.Pointer(pbi.PebBaseAddress))
	off := pebOffsets[unsafe.Sizeof(uintptr(0))]
	read := func(addr uintptr, buf unsafe.Pointer, n uintptr) bool {
		var got uintptr
		return windows.ReadProcessMemory(h, addr, (*byte)(buf), n, &got) == nil && got == n
	}
	var first uintptr
	if !read(peb+off[0], unsafe.Pointer(&first), unsafe.Sizeof(first)) || first == 0 {
		return nil
	}
	out := []uintptr{first}
	var count uint32
	var array uintptr
	if read(peb+off[1], unsafe.Pointer(&count), 4) && read(peb+off[2], unsafe.Pointer(&array), unsafe.Sizeof(array)) &&
		count > 0 && count <= 1024 && array != 0 {
		hs := make([]uintptr, count)
		if read(array, unsafe.Pointer(&hs[0]), uintptr(count)*unsafe.Sizeof(hs[0])) {
			for _, x := range hs {
				if x != 0 && x != first {
					out = append(out, x)
				}
			}
		}
	}
	return out
}

// blockAt returns the allocation (Region.Block) of the used region that
// holds addr.
func blockAt(rs []Region, addr uint64) (uint64, bool) {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].End > addr })
	if i == len(rs) || rs[i].Start > addr || rs[i].Type == Free || rs[i].Type == Unusable {
		return 0, false
	}
	return rs[i].Block(), true
}

// labelBlocks makes every private region of the given allocations Heap
// memory of its owner.
func labelBlocks(rs []Region, owners map[uint64]string) {
	for i := range rs {
		r := &rs[i]
		if name, ok := owners[r.Block()]; ok && r.Type == PrivateData {
			r.Type, r.Owner = Heap, name
		}
	}
}
