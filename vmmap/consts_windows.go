//go:build windows

package vmmap

import "golang.org/x/sys/windows"

// Procedures golang.org/x/sys/windows lacks (the shared ones are in
// internal/winapi). Source: the Windows SDK header psapi.h
// (GetMappedFileNameW), as documented on learn.microsoft.com.

var (
	psapi                 = windows.NewLazySystemDLL("psapi.dll")
	procGetMappedFileName = psapi.NewProc("GetMappedFileNameW")

	// stillActive is STILL_ACTIVE, GetExitCodeProcess's answer for a
	// running process (minwinbase.h).
	stillActive = uint32(259)
)
