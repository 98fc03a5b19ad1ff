//go:build windows

package winapi

import (
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The NT heap: ntdll's Rtl*Heap calls and kernel32's heap walking and
// Toolhelp heap lists. Sources: the Windows SDK headers winnt.h (HEAP_*
// flags, RTL_HEAP_PARAMETERS), minwinbase.h (PROCESS_HEAP_ENTRY), heapapi.h
// and tlhelp32.h (HEAPLIST32), and the ntdll prototypes as documented on
// learn.microsoft.com (RtlCreateHeap, RtlAllocateHeap, RtlFreeHeap,
// RtlSizeHeap, RtlDestroyHeap) and in Wine's include/winternl.h.

// Heap flags (winnt.h).
const (
	HeapNoSerialize           = 0x00000001
	HeapGrowable              = 0x00000002
	HeapZeroMemory            = 0x00000008
	HeapReallocInPlaceOnly    = 0x00000010
	HeapTailCheckingEnabled   = 0x00000020
	HeapFreeCheckingEnabled   = 0x00000040
	HeapCreateSegmentHeap     = 0x00000100
	HeapClass1                = 0x00001000 // private heap class, PoC.HeapReserve's flag
	HeapCompatibilityInfo     = 0          // HeapInformationClass of HeapQueryInformation
	HeapCompatibilityStandard = 0          // HeapQueryInformation: no front end
	HeapCompatibilityLFH      = 2          // HeapQueryInformation: low-fragmentation heap
)

// PROCESS_HEAP_ENTRY.wFlags.
const (
	ProcessHeapRegion           = 0x0001
	ProcessHeapUncommittedRange = 0x0002
	ProcessHeapEntryBusy        = 0x0004
)

// RtlHeapParameters is RTL_HEAP_PARAMETERS. Zero fields take the system's
// defaults; Length must be set to its size.
type RtlHeapParameters struct {
	Length                     uint32
	SegmentReserve             uintptr
	SegmentCommit              uintptr
	DeCommitFreeBlockThreshold uintptr
	DeCommitTotalFreeThreshold uintptr
	MaximumAllocationSize      uintptr
	VirtualMemoryThreshold     uintptr
	InitialCommit              uintptr
	InitialReserve             uintptr
	CommitRoutine              uintptr
	Reserved                   [2]uintptr
}

// ProcessHeapEntry is PROCESS_HEAP_ENTRY with its union read as the
// Region variant (the Block variant's hMem overlaps CommittedSize and
// UncommittedSize and is of no use here). Data must be zero before the
// first HeapWalk.
type ProcessHeapEntry struct {
	Data            uintptr
	DataSize        uint32
	Overhead        uint8
	RegionIndex     uint8
	Flags           uint16
	CommittedSize   uint32 // for a ProcessHeapRegion entry
	UncommittedSize uint32 // for a ProcessHeapRegion entry
	FirstBlock      uintptr
	LastBlock       uintptr
}

// HeapList32 is HEAPLIST32 (tlhelp32.h).
type HeapList32 struct {
	Size      uintptr
	ProcessID uint32
	HeapID    uintptr // the heap's handle, which is its base address
	Flags     uint32  // HF32_DEFAULT for the process heap
}

// HF32Default marks the default process heap in HeapList32.Flags.
const HF32Default = 1

var (
	ntdll                     = windows.NewLazySystemDLL("ntdll.dll")
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procRtlCreateHeap         = ntdll.NewProc("RtlCreateHeap")
	procRtlDestroyHeap        = ntdll.NewProc("RtlDestroyHeap")
	procRtlAllocateHeap       = ntdll.NewProc("RtlAllocateHeap")
	procRtlFreeHeap           = ntdll.NewProc("RtlFreeHeap")
	procRtlReAllocateHeap     = ntdll.NewProc("RtlReAllocateHeap")
	procRtlSizeHeap           = ntdll.NewProc("RtlSizeHeap")
	procRtlValidateHeap       = ntdll.NewProc("RtlValidateHeap")
	procRtlCompactHeap        = ntdll.NewProc("RtlCompactHeap")
	procHeapCreate            = kernel32.NewProc("HeapCreate")
	procHeapWalk              = kernel32.NewProc("HeapWalk")
	procHeapLock              = kernel32.NewProc("HeapLock")
	procHeapUnlock            = kernel32.NewProc("HeapUnlock")
	procHeapQueryInformation  = kernel32.NewProc("HeapQueryInformation")
	procGetProcessHeaps       = kernel32.NewProc("GetProcessHeaps")
	procHeap32ListFirst       = kernel32.NewProc("Heap32ListFirst")
	procHeap32ListNext        = kernel32.NewProc("Heap32ListNext")
	procGlobalMemoryStatusEx  = kernel32.NewProc("GlobalMemoryStatusEx")
	procQueryWorkingSetEx     = kernel32.NewProc("K32QueryWorkingSetEx")
	procGetProcessHeapsLoaded = sync.OnceValue(func() bool { return procGetProcessHeaps.Find() == nil })
)

// RtlCreateHeap calls ntdll!RtlCreateHeap with no base and no lock. It
// returns 0 on failure; ntdll does not set a last error.
func RtlCreateHeap(flags uint32, reserve, commit uintptr, params *RtlHeapParameters) uintptr {
	r, _, _ := procRtlCreateHeap.Call(uintptr(flags), 0, reserve, commit, 0, uintptr(unsafe.Pointer(params)))
	return r
}

// HeapCreate calls kernel32!HeapCreate: a growable heap when maximum is 0,
// a fixed one otherwise.
func HeapCreate(options uint32, initial, maximum uintptr) (uintptr, error) {
	r, _, err := procHeapCreate.Call(uintptr(options), initial, maximum)
	if r == 0 {
		return 0, err
	}
	return r, nil
}

// RtlDestroyHeap destroys a heap; it reports whether it did (ntdll returns
// NULL on success and the handle on failure).
func RtlDestroyHeap(h uintptr) bool {
	r, _, _ := procRtlDestroyHeap.Call(h)
	return r == 0
}

// RtlAllocateHeap returns a block or 0.
func RtlAllocateHeap(h uintptr, flags uint32, size uintptr) unsafe.Pointer {
	r, _, _ := procRtlAllocateHeap.Call(h, uintptr(flags), size)
	return PointerAt(r)
}

// RtlFreeHeap frees a block and reports success. Passing anything but a
// busy block of h is undefined behaviour (termination on corruption).
func RtlFreeHeap(h uintptr, flags uint32, p unsafe.Pointer) bool {
	r, _, _ := procRtlFreeHeap.Call(h, uintptr(flags), uintptr(p))
	return byte(r) != 0
}

// RtlReAllocateHeap resizes a block; it returns 0 when it cannot.
func RtlReAllocateHeap(h uintptr, flags uint32, p unsafe.Pointer, size uintptr) unsafe.Pointer {
	r, _, _ := procRtlReAllocateHeap.Call(h, uintptr(flags), uintptr(p), size)
	return PointerAt(r)
}

// RtlSizeHeap returns a block's size, or ^uintptr(0) on failure.
func RtlSizeHeap(h uintptr, flags uint32, p unsafe.Pointer) uintptr {
	r, _, _ := procRtlSizeHeap.Call(h, uintptr(flags), uintptr(p))
	return r
}

// RtlValidateHeap checks the whole heap (p nil) or one block.
func RtlValidateHeap(h uintptr, flags uint32, p unsafe.Pointer) bool {
	r, _, _ := procRtlValidateHeap.Call(h, uintptr(flags), uintptr(p))
	return byte(r) != 0
}

// RtlCompactHeap coalesces free blocks, decommits what it can and returns
// the largest committed free block.
func RtlCompactHeap(h uintptr, flags uint32) uintptr {
	r, _, _ := procRtlCompactHeap.Call(h, uintptr(flags))
	return r
}

// WalkHeap calls fn for every entry HeapWalk reports for heap h of the
// calling process until fn returns false, holding HeapLock so that other
// threads cannot change the heap meanwhile. fn gets the same entry each
// time, overwritten by the next step. It returns false if the heap could
// not be locked (not a heap).
//
// The heap's lock is a critical section, owned by an OS thread: the
// goroutine stays on its thread for the walk, or another thread would wait
// forever for the lock its own goroutine left behind.
//
// The procedures are looked up before the lock is taken: GetProcAddress
// takes the loader lock, and a thread that holds it while waiting for the
// process heap's lock would deadlock with us (seen under Wine).
func WalkHeap(h uintptr, fn func(*ProcessHeapEntry) bool) bool {
	if procHeapLock.Find() != nil || procHeapWalk.Find() != nil || procHeapUnlock.Find() != nil {
		return false
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if r, _, _ := procHeapLock.Call(h); r == 0 {
		return false
	}
	defer procHeapUnlock.Call(h)
	var e ProcessHeapEntry
	for {
		if r, _, _ := procHeapWalk.Call(h, uintptr(unsafe.Pointer(&e))); r == 0 || !fn(&e) {
			return true
		}
	}
}

// HeapCompatibility returns HeapQueryInformation's compatibility value
// (HeapCompatibilityStandard, 1 for look-aside lists, HeapCompatibilityLFH)
// and whether the call worked.
func HeapCompatibility(h uintptr) (uint32, bool) {
	var v uint32
	r, _, _ := procHeapQueryInformation.Call(h, HeapCompatibilityInfo, uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	return v, r != 0
}

// GetProcessHeaps returns the calling process's heap handles, the
// default process heap first.
func GetProcessHeaps() []uintptr {
	if !procGetProcessHeapsLoaded() {
		return nil
	}
	hs := make([]uintptr, 64)
	for {
		n, _, _ := procGetProcessHeaps.Call(uintptr(len(hs)), uintptr(unsafe.Pointer(&hs[0])))
		if int(n) <= len(hs) {
			return hs[:n]
		}
		hs = make([]uintptr, n+16) // heaps were created meanwhile: ask again
	}
}

// Heap32Lists returns the heaps of a Toolhelp snapshot taken with
// TH32CS_SNAPHEAPLIST.
func Heap32Lists(snap windows.Handle) ([]HeapList32, error) {
	var out []HeapList32
	hl := HeapList32{Size: unsafe.Sizeof(HeapList32{})}
	r, _, err := procHeap32ListFirst.Call(uintptr(snap), uintptr(unsafe.Pointer(&hl)))
	if r == 0 {
		if err == windows.ERROR_NO_MORE_FILES {
			return nil, nil
		}
		return nil, err
	}
	for r != 0 {
		out = append(out, hl)
		hl = HeapList32{Size: unsafe.Sizeof(HeapList32{})}
		r, _, _ = procHeap32ListNext.Call(uintptr(snap), uintptr(unsafe.Pointer(&hl)))
	}
	return out, nil
}

// MemoryStatus is MEMORYSTATUSEX.
type MemoryStatus struct {
	Length               uint32
	MemoryLoad           uint32
	TotalPhys            uint64
	AvailPhys            uint64
	TotalPageFile        uint64 // the commit limit
	AvailPageFile        uint64
	TotalVirtual         uint64 // the user address space
	AvailVirtual         uint64
	AvailExtendedVirtual uint64
}

// GlobalMemoryStatus calls GlobalMemoryStatusEx.
func GlobalMemoryStatus() (MemoryStatus, error) {
	m := MemoryStatus{Length: uint32(unsafe.Sizeof(MemoryStatus{}))}
	if r, _, err := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&m))); r == 0 {
		return m, err
	}
	return m, nil
}

// WorkingSetExInfo is PSAPI_WORKING_SET_EX_INFORMATION with the address
// as a uintptr: x/sys's version holds it as a pointer, which the garbage
// collector would follow into whatever memory the page is (a free span of
// the Go heap is a fatal "bad pointer").
type WorkingSetExInfo struct {
	VirtualAddress uintptr
	Attributes     windows.PSAPI_WORKING_SET_EX_BLOCK
}

// QueryWorkingSetEx fills in the attributes of the pages whose
// VirtualAddress is set in ws.
func QueryWorkingSetEx(h windows.Handle, ws []WorkingSetExInfo) error {
	if len(ws) == 0 {
		return nil
	}
	size := uintptr(len(ws)) * unsafe.Sizeof(ws[0])
	if r, _, err := procQueryWorkingSetEx.Call(uintptr(h), uintptr(unsafe.Pointer(&ws[0])), size); r == 0 {
		return err
	}
	return nil
}

// Named heaps: package ntheap registers the heaps it creates, so that the
// maps of this process (package vmmap) can label their memory with the
// heap's name and find it from the heap's own record of its blocks:
// HeapWalk would do, but Wine's takes time in proportion to the blocks
// before the current one in its sub-heap at every step, quadratic for a
// heap of many small blocks.

// NamedHeap describes a registered heap.
type NamedHeap struct {
	Name string
	// Blocks calls yield with the address of every live block; it takes
	// the heap's lock, so it must not be called with it held.
	Blocks func(yield func(addr uintptr))
}

var namedHeaps sync.Map // heap handle → NamedHeap

// RegisterHeap records heap h; a zero NamedHeap forgets it.
func RegisterHeap(h uintptr, n NamedHeap) {
	if n.Name == "" {
		namedHeaps.Delete(h)
		return
	}
	namedHeaps.Store(h, n)
}

// LookupHeap returns what was registered for heap h.
func LookupHeap(h uintptr) (NamedHeap, bool) {
	v, ok := namedHeaps.Load(h)
	if !ok {
		return NamedHeap{}, false
	}
	return v.(NamedHeap), true
}

// PointerAt converts an address outside the Go heap, returned by the
// system, into a pointer. The conversion is valid for such memory, but go
// vet's unsafeptr check rejects a plain unsafe.Pointer(addr), which for Go
// memory would be unsafe.
func PointerAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}
