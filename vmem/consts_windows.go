//go:build windows

package vmem

// Constants golang.org/x/sys/windows lacks. Source: the Windows SDK,
// winnt.h (MEM_FREE) and sysinfoapi.h (SYSTEM_INFO), as documented on
// learn.microsoft.com for MEMORY_BASIC_INFORMATION and GetSystemInfo.

// memFree is MEMORY_BASIC_INFORMATION.State for addresses nobody has
// reserved.
const memFree = 0x10000

// systemInfo is SYSTEM_INFO. Its first field is a union of the DWORD
// dwOemId and two WORDs; the two WORDs have the same size and alignment.
// Go's natural alignment matches the C layout on 386, amd64 and arm64.
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
