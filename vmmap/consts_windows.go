//go:build windows

package vmmap

import "golang.org/x/sys/windows"

// Procedures golang.org/x/sys/windows lacks (the shared ones are in
// internal/winapi). Source: the Windows SDK headers heapapi.h
// (GetProcessHeaps) and psapi.h (GetMappedFileNameW), as documented on
// learn.microsoft.com.

var (
	kernel32              = windows.NewLazySystemDLL("kernel32.dll")
	psapi                 = windows.NewLazySystemDLL("psapi.dll")
	procGetProcessHeaps   = kernel32.NewProc("GetProcessHeaps")
	procGetMappedFileName = psapi.NewProc("GetMappedFileNameW")
)
