//go:build windows

package winapi

import (
	"testing"
	"unsafe"
)

func TestGetSystemInfo(t *testing.T) {
	si := GetSystemInfo()
	if si.PageSize < 4096 || si.PageSize&(si.PageSize-1) != 0 {
		t.Errorf("page size %d is not a power of two ≥ 4 KiB", si.PageSize)
	}
	if si.AllocationGranularity < si.PageSize || si.AllocationGranularity%si.PageSize != 0 {
		t.Errorf("granularity %d is not a multiple of the page size %d", si.AllocationGranularity, si.PageSize)
	}
	if si.MinimumApplicationAddress == 0 || si.MaximumApplicationAddress <= si.MinimumApplicationAddress {
		t.Errorf("user range %#x-%#x", si.MinimumApplicationAddress, si.MaximumApplicationAddress)
	}
	// SYSTEM_INFO is 36 bytes on 32-bit Windows and 48 on 64-bit.
	want := uintptr(48)
	if unsafe.Sizeof(uintptr(0)) == 4 {
		want = 36
	}
	if got := unsafe.Sizeof(si); got != want {
		t.Errorf("sizeof(SystemInfo) = %d, want %d", got, want)
	}
}
