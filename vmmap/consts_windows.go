//go:build windows

package vmmap

import "golang.org/x/sys/windows"

// Constants and procedures golang.org/x/sys/windows lacks. Source: the
// Windows SDK headers winnt.h (MEM_FREE, MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE),
// sysinfoapi.h (SYSTEM_INFO, GetSystemInfo), heapapi.h (GetProcessHeaps)
// and psapi.h (GetMappedFileNameW), as documented on learn.microsoft.com.

const (
	memFree    = 0x00010000 // MEMORY_BASIC_INFORMATION.State: nobody reserved it
	memPrivate = 0x00020000 // .Type: private memory (VirtualAlloc, heaps, stacks)
	memMapped  = 0x00040000 // .Type: a view of a section (file mapping, shared memory)
	memImage   = 0x01000000 // .Type: a view of an image section (.exe, .dll)
)

// systemInfo is SYSTEM_INFO; Go's natural alignment matches the C layout
// on 386, amd64 and arm64.
type systemInfo struct {
	processorArchitecture     uint16
	reserved                  uint16
	pageSize                  uint32
	minimumApplicationAddress uintptr
	maximumApplicationAddress uintptr
	activeProcessorMask       uintptr
	numberOfProcessors        uint32
	processorType             uint32
	allocationGranularity     uint32
	processorLevel            uint16
	processorRevision         uint16
}

var (
	kernel32              = windows.NewLazySystemDLL("kernel32.dll")
	psapi                 = windows.NewLazySystemDLL("psapi.dll")
	procGetSystemInfo     = kernel32.NewProc("GetSystemInfo")
	procGetProcessHeaps   = kernel32.NewProc("GetProcessHeaps")
	procGetMappedFileName = psapi.NewProc("GetMappedFileNameW")
)
