//go:build windows

// Package winapi holds the Windows constants and calls that
// golang.org/x/sys/windows lacks and that more than one package needs.
// Source: the Windows SDK headers winnt.h (MEM_*) and sysinfoapi.h
// (SYSTEM_INFO, GetSystemInfo), as documented on learn.microsoft.com.
package winapi

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// MEMORY_BASIC_INFORMATION.State and .Type values.
const (
	MemFree    = 0x00010000 // State: nobody has reserved the range
	MemPrivate = 0x00020000 // Type: private memory (VirtualAlloc, heaps, stacks)
	MemMapped  = 0x00040000 // Type: a view of a section (file mapping, shared memory)
	MemImage   = 0x01000000 // Type: a view of an image section (.exe, .dll)
)

// SystemInfo is SYSTEM_INFO. Its first field is a union of the DWORD
// dwOemId and two WORDs of the same size; Go's natural alignment matches
// the C layout on 386, amd64 and arm64.
type SystemInfo struct {
	ProcessorArchitecture     uint16
	Reserved                  uint16
	PageSize                  uint32
	MinimumApplicationAddress uintptr
	MaximumApplicationAddress uintptr
	ActiveProcessorMask       uintptr
	NumberOfProcessors        uint32
	ProcessorType             uint32
	AllocationGranularity     uint32
	ProcessorLevel            uint16
	ProcessorRevision         uint16
}

var procGetSystemInfo = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetSystemInfo")

// GetSystemInfo calls GetSystemInfo. It cannot fail; should kernel32 lack
// it, the values every Windows version has used (4 KiB pages, 64 KiB
// granularity, the whole range above the first 64 KiB) stand in.
func GetSystemInfo() SystemInfo {
	var si SystemInfo
	if procGetSystemInfo.Find() == nil {
		procGetSystemInfo.Call(uintptr(unsafe.Pointer(&si)))
	}
	if si.PageSize == 0 || si.AllocationGranularity == 0 {
		si.PageSize, si.AllocationGranularity = 4<<10, 64<<10
		si.MinimumApplicationAddress = 64 << 10
		si.MaximumApplicationAddress = ^uintptr(0)
	}
	return si
}
