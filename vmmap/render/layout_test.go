package render

import (
	"encoding/binary"
	"testing"

	"github.com/zebra-heap/zebra/vmmap"
)

func TestLayoutCells(t *testing.T) {
	const kib = 1024
	reg := func(start, end uint64, ty vmmap.Type) vmmap.Region {
		return vmmap.Region{Start: start, End: end, Type: ty}
	}
	tests := []struct {
		name    string
		regions []vmmap.Region
		o       Options
		want    [][2]int // cells [first, end) per region
	}{
		{
			name:    "to scale",
			regions: []vmmap.Region{reg(0, 64*kib, vmmap.Image), reg(64*kib, 128*kib, vmmap.Free)},
			o:       Options{Width: 64, BytesPerPixel: 1 * kib},
			want:    [][2]int{{0, 64}, {64, 128}},
		},
		{
			name: "tiny regions get one cell each, the next large one pays",
			regions: []vmmap.Region{reg(0, 100, vmmap.Heap), reg(100, 200, vmmap.Free), reg(200, 300, vmmap.Heap),
				reg(300, 64*kib, vmmap.Image)},
			o:    Options{Width: 64, BytesPerPixel: 1 * kib},
			want: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 64}},
		},
		{
			name:    "region ending mid-cell keeps its cell",
			regions: []vmmap.Region{reg(0, 1536, vmmap.Heap), reg(1536, 4*kib, vmmap.Free)},
			o:       Options{Width: 64, BytesPerPixel: 1 * kib},
			want:    [][2]int{{0, 1}, {1, 4}},
		},
		{
			name:    "fold finishes the row and restarts the scale",
			regions: []vmmap.Region{reg(0, 10*kib, vmmap.Image), reg(10*kib, 1<<40, vmmap.Free), reg(1<<40, 1<<40+3*kib, vmmap.Stack)},
			o:       Options{Width: 64, BytesPerPixel: 1 * kib, FoldGapsAbove: 1 << 30},
			want:    [][2]int{{0, 10}, {10, 64}, {64, 67}},
		},
		{
			name:    "fold at a row boundary takes no cell",
			regions: []vmmap.Region{reg(0, 64*kib, vmmap.Image), reg(64*kib, 1<<40, vmmap.Free), reg(1<<40, 1<<40+kib, vmmap.Stack)},
			o:       Options{Width: 64, BytesPerPixel: 1 * kib, FoldGapsAbove: 1 << 30},
			want:    [][2]int{{0, 64}, {64, 64}, {64, 65}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := newLayout(&vmmap.Snapshot{Regions: tt.regions}, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.validate(); err != nil {
				t.Fatal(err)
			}
			if len(l.regions) != len(tt.want) {
				t.Fatalf("%d regions placed, want %d", len(l.regions), len(tt.want))
			}
			for i, p := range l.regions {
				if got := [2]int{p.first, p.end}; got != tt.want[i] {
					t.Errorf("region %d [%#x, %#x): cells %v, want %v", i, p.Start, p.End, got, tt.want[i])
				}
			}
		})
	}
}

func TestLayoutClipsToSpan(t *testing.T) {
	s := &vmmap.Snapshot{
		Span: vmmap.AddrRange{Start: 0x2000, End: 0x9000},
		Regions: []vmmap.Region{
			{Start: 0x1000, End: 0x3000, Type: vmmap.Image},
			{Start: 0x5000, End: 0x6000, Type: vmmap.Heap},
			{Start: 0xa000, End: 0xb000, Type: vmmap.Stack},
		},
	}
	l, err := newLayout(s, Options{BytesPerPixel: 0x100})
	if err != nil {
		t.Fatal(err)
	}
	want := []vmmap.AddrRange{{Start: 0x2000, End: 0x3000}, {Start: 0x3000, End: 0x5000}, {Start: 0x5000, End: 0x6000}, {Start: 0x6000, End: 0x9000}}
	if len(l.regions) != len(want) || l.outside != 1 {
		t.Fatalf("%d regions drawn, %d outside; want %d and 1", len(l.regions), l.outside, len(want))
	}
	for i, p := range l.regions {
		if (vmmap.AddrRange{Start: p.Start, End: p.End}) != want[i] {
			t.Errorf("region %d is %#x-%#x, want %v", i, p.Start, p.End, want[i])
		}
	}
}

// FuzzLayout places arbitrary region lists (decoded from the fuzzer's bytes
// as sizes and types) with arbitrary options and checks the invariants, and
// that every address of a region large enough maps into that region's cells.
func FuzzLayout(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 16, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(0), uint8(0), uint8(0))
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(3), uint8(2), uint8(30))
	f.Add(make([]byte, 90), uint8(255), uint8(255), uint8(255))
	f.Fuzz(func(t *testing.T, data []byte, width, rowH, shift uint8) {
		var rs []vmmap.Region
		at := uint64(0x10000)
		for len(data) >= 9 && len(rs) < 500 {
			size := binary.LittleEndian.Uint64(data[1:9])%(1<<46) + 1
			ty := vmmap.Type(data[0] % uint8(len(vmmap.Types)))
			data = data[9:]
			if at+size < at {
				break
			}
			rs = append(rs, vmmap.Region{Start: at, End: at + size, Type: ty, State: vmmap.State(size % 3), Owner: string(rune('A' + size%3))})
			at += size
		}
		if len(rs) == 0 {
			return
		}
		o := Options{Width: MinWidth + int(width)*8, RowHeight: int(rowH % 8)}
		if shift%2 == 1 {
			o.BytesPerPixel = 1 << (shift % 50)
		}
		l, err := newLayout(&vmmap.Snapshot{Regions: rs}, o)
		if err != nil {
			return // ErrTooLarge for fine scales of huge spans
		}
		if err := l.validate(); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.regions {
			if p.fold >= 0 {
				if c := l.cellOf(p.Start); c != -1 {
					t.Fatalf("folded address %#x maps to cell %d", p.Start, c)
				}
				continue
			}
			for _, a := range []uint64{p.Start, p.Start + p.Size()/2, p.End - 1} {
				if c := l.cellOf(a); c < p.first || c >= p.end {
					t.Fatalf("address %#x of region [%#x, %#x) maps to cell %d outside [%d, %d)", a, p.Start, p.End, c, p.first, p.end)
				}
			}
		}
	})
}
