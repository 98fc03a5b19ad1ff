package vmem

// Presets for windows that look like the address space of a 32-bit Windows
// process. The user range of every 32-bit Windows starts at 0x00010000 (the
// first 64 KiB are never mapped) and ends 64 KiB below the top of the user
// half (MmHighestUserAddress is 0x7FFEFFFF on a 2 GiB system).

// Win32 is the user address space of a 32-bit process on 32-bit Windows:
// 0x00010000–0x7FFF0000, 2 GiB less 128 KiB, bottom-up placement at 64 KiB
// granularity — the space of github.com/pkjq/PoC.HeapReserve's 32-bit
// experiment, where heaps growing together leave only small free blocks.
func Win32() WindowConfig {
	return WindowConfig{Name: "win32", Low: 0x00010000, High: 0x7FFF0000, Granularity: 64 << 10, Placement: BottomUp}
}

// Win32LargeAddressAware is a large-address-aware 32-bit process on 32-bit
// Windows booted with /3GB (IncreaseUserVa): 0x00010000–0xBFFF0000, 3 GiB.
func Win32LargeAddressAware() WindowConfig {
	return WindowConfig{Name: "win32-3gb", Low: 0x00010000, High: 0xBFFF0000, Granularity: 64 << 10, Placement: BottomUp}
}

// WOW64 is a large-address-aware 32-bit process on 64-bit Windows:
// 0x00010000–0xFFFF0000, 4 GiB. (Without the large-address-aware flag such a
// process gets Win32's 2 GiB.)
func WOW64() WindowConfig {
	return WindowConfig{Name: "wow64", Low: 0x00010000, High: 0xFFFF0000, Granularity: 64 << 10, Placement: BottomUp}
}

// typicalProcess is the layout WithTypicalProcess adds: what VMMap typically
// shows in a small 32-bit process on Windows XP to 7 without ASLR surprises.
// It is plausible, not exact: real addresses vary with the Windows version,
// ASLR and the program. Sizes are rounded to 64 KiB so the layout is valid
// on hosts with pages up to 64 KiB.
var typicalProcess = []Occupied{
	// Low memory: process parameters and environment, then the main
	// thread's stack (1 MiB reserved, the top committed), activation
	// context data, the default process heap (1 MiB reserved, the start
	// committed) and the code page and locale tables mapped as files.
	{Range{0x00010000, 0x10000}, KindPrivate, "environment", true},
	{Range{0x00020000, 0x10000}, KindPrivate, "process parameters", true},
	{Range{0x00030000, 0xF0000}, KindStack, "main thread stack", false},
	{Range{0x00120000, 0x10000}, KindStack, "main thread stack", true},
	{Range{0x00130000, 0x10000}, KindMapped, "activation context data", true},
	{Range{0x00140000, 0x10000}, KindHeap, "default process heap", true},
	{Range{0x00150000, 0xF0000}, KindHeap, "default process heap", false},
	{Range{0x00250000, 0x20000}, KindMapped, `C:\Windows\System32\unicode.nls`, true},
	{Range{0x00270000, 0x40000}, KindMapped, `C:\Windows\System32\locale.nls`, true},
	{Range{0x002B0000, 0x40000}, KindMapped, `C:\Windows\System32\sortkey.nls`, true},
	{Range{0x002F0000, 0x10000}, KindMapped, `C:\Windows\System32\sorttbls.nls`, true},
	{Range{0x00300000, 0x10000}, KindMapped, `C:\Windows\System32\ctype.nls`, true},

	// The executable at its preferred base.
	{Range{0x00400000, 0x30000}, KindImage, `C:\Program Files\App\app.exe`, true},

	// System DLLs high up, ntdll highest.
	{Range{0x75A40000, 0x50000}, KindImage, `C:\Windows\System32\KernelBase.dll`, true},
	{Range{0x75C50000, 0xB0000}, KindImage, `C:\Windows\System32\msvcrt.dll`, true},
	{Range{0x76D00000, 0x100000}, KindImage, `C:\Windows\System32\user32.dll`, true},
	{Range{0x76FA0000, 0xE0000}, KindImage, `C:\Windows\System32\kernel32.dll`, true},
	{Range{0x77DC0000, 0x140000}, KindImage, `C:\Windows\System32\ntdll.dll`, true},

	// The top of the user range: CSRSS's read-only shared memory, the
	// ANSI/OEM code page data, PEB and TEB, and KUSER_SHARED_DATA.
	{Range{0x7F6F0000, 0x100000}, KindShareable, "read-only shared memory (csrss)", true},
	{Range{0x7FFB0000, 0x20000}, KindShareable, "code page data (c_1252.nls, c_437.nls)", true},
	{Range{0x7FFD0000, 0x10000}, KindPrivate, "PEB and TEB", true},
	{Range{0x7FFE0000, 0x10000}, KindPrivate, "shared user data", true},
}

// WithTypicalProcess returns c with the layout of a typical small 32-bit
// Windows process added to its occupied ranges: stack, default heap and .nls
// files low, the executable at 0x00400000, system DLLs between 0x75A40000 and
// 0x77F00000, PEB, TEB and shared user data just below 0x7FFF0000: 8.5 MiB
// in 22 ranges, 6.6 MiB of it committed (real pages, physical memory only
// where touched). The layout needs a window covering 0x00010000–0x7FFF0000,
// as every preset does; NewWindow rejects it elsewhere with ErrInvalidWindow.
func (c WindowConfig) WithTypicalProcess() WindowConfig {
	c.Occupied = append(append([]Occupied(nil), c.Occupied...), typicalProcess...)
	return c
}
