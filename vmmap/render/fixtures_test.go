package render

import (
	"fmt"
	"time"

	"github.com/zebra-heap/zebra/vmmap"
)

const mib = 1 << 20

// zebraFixture builds the user's experiment in a 2 GiB window (a 32-bit
// Windows process): a few images, a stack and the default heap, then two
// heaps "A" and "B" growing alternately in segments of 1, 2, 4, 8, 8, 8… MiB
// until each holds 200 MiB. The last eighth of every segment is reserved,
// not committed. Only the two heaps have owners, so vmmap.ZebraScore
// counts their alternation alone. With destroyA, heap A's segments are free again: the
// picture of seed/img/heap-zebra.png.
func zebraFixture(destroyA bool) *vmmap.Snapshot {
	const lo, hi = 0x10000, 0x8000_0000
	var rs []vmmap.Region
	add := func(start, end uint64, t vmmap.Type, st vmmap.State, owner, path string) {
		rs = append(rs, vmmap.Region{Start: start, End: end, Type: t, State: st, Owner: owner, Path: path,
			Committed: map[bool]uint64{true: end - start}[st == vmmap.StateCommitted]})
	}
	add(0x10000, 0x20000, vmmap.PrivateData, vmmap.StateCommitted, "", "")
	add(0x30000, 0x12_0000, vmmap.Stack, vmmap.StateReserved, "", "")
	add(0x12_0000, 0x13_0000, vmmap.Stack, vmmap.StateCommitted, "", "")
	add(0x40_0000, 0x48_0000, vmmap.Image, vmmap.StateCommitted, "", `C:\zebra\poc.exe`)
	add(0x50_0000, 0x60_0000, vmmap.Heap, vmmap.StateCommitted, "", "")
	at := uint64(0x100_0000)
	size := map[string]uint64{}
	seg := uint64(1 * mib)
	for size["A"] < 200*mib || size["B"] < 200*mib {
		for _, h := range []string{"A", "B"} {
			if h == "A" && destroyA {
				at += seg
				continue
			}
			used := seg - seg/8
			add(at, at+used, vmmap.Heap, vmmap.StateCommitted, h, "")
			add(at+used, at+seg, vmmap.Heap, vmmap.StateReserved, h, "")
			rs[len(rs)-1].Base, rs[len(rs)-2].Base = at, at // one allocation
			size[h] += seg
			at += seg
		}
		if destroyA {
			size["A"] += seg
		}
		seg = min(2*seg, 8*mib)
	}
	add(0x7000_0000, 0x7010_0000, vmmap.MappedFile, vmmap.StateCommitted, "", `C:\Windows\locale.nls`)
	add(0x7700_0000, 0x7720_0000, vmmap.Image, vmmap.StateCommitted, "", `C:\Windows\System32\ntdll.dll`)
	add(0x7ffd_0000, 0x7ffe_0000, vmmap.Shareable, vmmap.StateCommitted, "", "")
	s := &vmmap.Snapshot{
		Source:      fmt.Sprintf("window win32 (zebra, destroyA=%v)", destroyA),
		Taken:       time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Span:        vmmap.AddrRange{Start: lo, End: hi},
		Granularity: 64 << 10,
		Regions:     withFree(rs, lo, hi),
	}
	return s
}

// zebraSegments is the number of segments each heap of zebraFixture has.
func zebraSegments() int {
	n, total, seg := 0, uint64(0), uint64(mib)
	for total < 200*mib {
		total += seg
		seg = min(2*seg, 8*mib)
		n++
	}
	return n
}

// withFree fills the gaps in [lo, hi) with Free regions.
func withFree(rs []vmmap.Region, lo, hi uint64) []vmmap.Region {
	var out []vmmap.Region
	at := uint64(lo)
	for _, r := range rs {
		if r.Start > at {
			out = append(out, vmmap.Region{Start: at, End: r.Start, Type: vmmap.Free, State: vmmap.StateFree})
		}
		out = append(out, r)
		at = r.End
	}
	if at < hi {
		out = append(out, vmmap.Region{Start: at, End: hi, Type: vmmap.Free, State: vmmap.StateFree})
	}
	return out
}

// linux64Fixture is a small 64-bit Linux process: an executable low, the
// Go heap arena in the middle and libraries and the stack near the top,
// separated by gaps of terabytes that must be folded.
func linux64Fixture() *vmmap.Snapshot {
	rs := []vmmap.Region{
		{Start: 0x40_0000, End: 0x4a_b000, Type: vmmap.Image, State: vmmap.StateCommitted, Path: "/usr/bin/app"},
		{Start: 0x4a_b000, End: 0x59_9000, Type: vmmap.Image, State: vmmap.StateCommitted, Path: "/usr/bin/app"},
		{Start: 0x59_9000, End: 0x5c_f000, Type: vmmap.PrivateData, State: vmmap.StateCommitted},
		{Start: 0xc0_0000_0000, End: 0xc0_0040_0000, Type: vmmap.GoHeap, State: vmmap.StateCommitted, Owner: "Go heap"},
		{Start: 0xc0_0040_0000, End: 0xc0_0400_0000, Type: vmmap.GoHeap, State: vmmap.StateReserved, Owner: "Go heap"},
		{Start: 0x7f4e_ba66_0000, End: 0x7f4e_bc80_0000, Type: vmmap.PrivateData, State: vmmap.StateCommitted},
		{Start: 0x7f4e_bc80_0000, End: 0x7f4e_d2bf_0000, Type: vmmap.PrivateData, State: vmmap.StateReserved},
		{Start: 0x7f4f_012e_6000, End: 0x7f4f_012e_8000, Type: vmmap.Image, State: vmmap.StateCommitted, Path: "[vdso]"},
		{Start: 0x7ffd_cd8a_6000, End: 0x7ffd_cd8c_7000, Type: vmmap.Stack, State: vmmap.StateCommitted, Path: "[stack]"},
	}
	lo, hi := rs[0].Start, rs[len(rs)-1].End
	return &vmmap.Snapshot{
		Source:  "linux pid 4242 (app)",
		PID:     4242,
		Command: "app",
		Span:    vmmap.AddrRange{Start: lo, End: hi},
		Regions: withFree(rs, lo, hi),
	}
}
