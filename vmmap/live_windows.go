//go:build windows

package vmmap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// Process returns a snapshot of the live process pid, walked with
// VirtualQueryEx from the lowest to the highest application address.
//
// Types: MEM_IMAGE regions are Image, MEM_MAPPED ones Mapped File when
// GetMappedFileNameW names a file and Shareable otherwise, MEM_PRIVATE ones
// Private Data, except allocations holding a PAGE_GUARD page (thread
// stacks: Stack) and heaps (Heap; see heaps_windows.go): in the calling
// process every segment and large block of the heaps of GetProcessHeaps
// (owner "process heap N", or the name package ntheap gave it), the Go
// heap and the reservations of the registry (their owners); in another
// process the first segment of each heap a Toolhelp snapshot or the PEB
// lists. The
// free tail of a 64 KiB allocation granule after an allocation is
// Unusable, as in VMMap. Committed is the committed size; RSS and Shared
// are the region's working set (QueryWorkingSetEx), zero where the system
// does not report it (see workingset_windows.go). A process that has
// exited is ErrNoProcess, one that may not be read ErrPermission.
func Process(pid int) (*Snapshot, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, uint32(pid))
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, winError(err))
	}
	defer windows.CloseHandle(h)
	// A process that has exited can still be opened while someone holds
	// a handle to it (its parent, until it waits), but has no memory.
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err == nil && code != stillActive {
		return nil, fmt.Errorf("pid %d: %w (exited with status %d)", pid, ErrNoProcess, code)
	}
	s, err := queryProcess(h, pid)
	if err != nil {
		return nil, err
	}
	if pid == os.Getpid() {
		// Wine answers QueryWorkingSetEx for the pseudo-handle only.
		readWorkingSet(windows.CurrentProcess(), s)
		markOwnHeaps(s)
		markGoHeap(s.Regions, goHeapAddr())
		Attribute(s, ownInfos())
	} else {
		readWorkingSet(h, s)
		markForeignHeaps(s, h, pid)
	}
	return s, nil
}

// Self returns a snapshot of the calling process; see Process.
func Self() (*Snapshot, error) { return Process(os.Getpid()) }

func winError(err error) error {
	switch {
	case errors.Is(err, windows.ERROR_INVALID_PARAMETER):
		return fmt.Errorf("%w (%w)", ErrNoProcess, err)
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return fmt.Errorf("%w (%w)", ErrPermission, err)
	}
	return err
}

func queryProcess(h windows.Handle, pid int) (*Snapshot, error) {
	si := winapi.GetSystemInfo()
	gran := uint64(si.AllocationGranularity)
	name := imageName(h)
	what := fmt.Sprintf("pid %d (%s)", pid, name)
	s := &Snapshot{
		Source: "windows " + what, PID: pid, Command: name, Taken: time.Now(),
		Granularity: gran,
	}
	files := newFileNamer(h)
	var mbi windows.MemoryBasicInformation
	addr := si.MinimumApplicationAddress
	for addr <= si.MaximumApplicationAddress {
		if err := windows.VirtualQueryEx(h, addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
			if len(s.Regions) == 0 {
				return nil, fmt.Errorf("%s: VirtualQueryEx: %w", what, winError(err))
			}
			break // the end of the address space
		}
		if mbi.RegionSize == 0 {
			break
		}
		start, end := uint64(mbi.BaseAddress), uint64(mbi.BaseAddress)+uint64(mbi.RegionSize)
		if mbi.State == winapi.MemFree {
			// VMMap's Unusable: the rest of the granule an
			// allocation ended in, which nobody can reserve.
			if next := (start + gran - 1) &^ (gran - 1); start%gran != 0 && next > start {
				s.Regions = append(s.Regions, Region{Start: start, End: min(next, end), Type: Unusable, State: StateFree})
			}
		} else {
			s.VMAs++
			s.Regions = append(s.Regions, winRegion(files, &mbi, start, end))
		}
		next := uintptr(end)
		if next <= addr {
			break
		}
		addr = next
	}
	markStacks(s.Regions)
	s.Span = defaultSpan(s.Regions)
	s.Regions = fillFree(s.Regions, s.Span)
	return s, nil
}

func winRegion(files *fileNamer, mbi *windows.MemoryBasicInformation, start, end uint64) Region {
	r := Region{Start: start, End: end, Base: uint64(mbi.AllocationBase), Perms: protection(mbi.Protect)}
	if r.Base == start {
		r.Base = 0
	}
	if mbi.State == windows.MEM_COMMIT {
		r.State, r.Committed = StateCommitted, end-start
	} else {
		r.State = StateReserved
	}
	switch mbi.Type {
	case winapi.MemImage:
		r.Type, r.Path = Image, files.name(mbi.AllocationBase)
	case winapi.MemMapped:
		r.Path = files.name(mbi.AllocationBase)
		r.Type = MappedFile
		if r.Path == "" {
			r.Type = Shareable
		}
	default:
		r.Type = PrivateData
		r.Private = r.Committed
		if mbi.Protect&windows.PAGE_GUARD != 0 {
			r.Flags = []string{"guard"}
		}
	}
	return r
}

// markStacks marks as Stack every private allocation that holds a guard
// page: Windows grows thread stacks by faulting on one.
func markStacks(rs []Region) {
	stacks := map[uint64]bool{}
	for _, r := range rs {
		if r.Type == PrivateData && len(r.Flags) > 0 && r.Flags[0] == "guard" {
			stacks[r.Block()] = true
		}
	}
	for i := range rs {
		if rs[i].Type == PrivateData && stacks[rs[i].Block()] {
			rs[i].Type = Stack
		}
	}
}

func protection(p uint32) string {
	var s string
	switch p &^ (windows.PAGE_GUARD | windows.PAGE_NOCACHE | windows.PAGE_WRITECOMBINE) {
	case 0:
		return ""
	case windows.PAGE_NOACCESS:
		s = "NA"
	case windows.PAGE_READONLY:
		s = "R"
	case windows.PAGE_READWRITE:
		s = "RW"
	case windows.PAGE_WRITECOPY:
		s = "WC"
	case windows.PAGE_EXECUTE:
		s = "X"
	case windows.PAGE_EXECUTE_READ:
		s = "RX"
	case windows.PAGE_EXECUTE_READWRITE:
		s = "RWX"
	case windows.PAGE_EXECUTE_WRITECOPY:
		s = "RWXC"
	default:
		s = fmt.Sprintf("%#x", p)
	}
	if p&windows.PAGE_GUARD != 0 {
		s += "+G"
	}
	if p&windows.PAGE_NOCACHE != 0 {
		s += "+NC"
	}
	return s
}

// fileNamer names the files mapped into one process for one snapshot. It
// asks GetMappedFileNameW once per allocation (every region of an image or
// a view shares its AllocationBase and its file) into one buffer, and
// builds the table of drive devices once, querying only the drives
// GetLogicalDrives reports.
type fileNamer struct {
	h      windows.Handle
	buf    []uint16
	drives driveTable
	names  map[uintptr]string // by AllocationBase
}

func newFileNamer(h windows.Handle) *fileNamer {
	f := &fileNamer{h: h, buf: make([]uint16, windows.MAX_LONG_PATH), names: map[uintptr]string{}}
	mask, _ := windows.GetLogicalDrives()
	var target [windows.MAX_PATH]uint16
	for i := 0; i < 26; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		drive := string(rune('A'+i)) + ":"
		d, _ := windows.UTF16PtrFromString(drive)
		if n, err := windows.QueryDosDevice(d, &target[0], uint32(len(target))); err != nil || n == 0 {
			continue
		}
		// The answer is a list of strings; the first is the device.
		f.drives = append(f.drives, driveDevice{drive, windows.UTF16ToString(target[:])})
	}
	return f
}

// name returns the DOS path of the file mapped in the allocation at base,
// or "".
func (f *fileNamer) name(base uintptr) string {
	if p, ok := f.names[base]; ok {
		return p
	}
	var p string
	n, _, _ := procGetMappedFileName.Call(uintptr(f.h), base, uintptr(unsafe.Pointer(&f.buf[0])), uintptr(len(f.buf)))
	if n != 0 {
		p = f.drives.dosPath(windows.UTF16ToString(f.buf[:n]))
	}
	f.names[base] = p
	return p
}

func imageName(h windows.Handle) string {
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return "?"
	}
	return filepath.Base(windows.UTF16ToString(buf[:n]))
}

// Layout is Process: VirtualQueryEx gives the layout itself, and the
// working set is read with it.
func Layout(pid int) (*Snapshot, error) { return Process(pid) }
