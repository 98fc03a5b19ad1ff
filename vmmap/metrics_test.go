package vmmap

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// layout builds a snapshot from a string, one character per unit-sized
// block starting at base: an upper-case letter is a committed Heap block of
// owner "heap X", a lower-case letter a reserved one, '.' free space, '-' an
// unowned Private Data block. The span is the whole string.
func layout(t testing.TB, s string, base, unit uint64) *Snapshot {
	t.Helper()
	snap := &Snapshot{Span: AddrRange{base, base + uint64(len(s))*unit}, Granularity: 4096}
	for i, c := range s {
		start := base + uint64(i)*unit
		r := Region{Start: start, End: start + unit, State: StateCommitted}
		switch {
		case c == '.':
			continue
		case c == '-':
			r.Type = PrivateData
		case 'A' <= c && c <= 'Z':
			r.Type, r.Owner, r.Committed, r.Private = Heap, "heap "+string(c), unit, unit
		case 'a' <= c && c <= 'z':
			r.Type, r.Owner, r.State = Heap, "heap "+string(c-'a'+'A'), StateReserved
		default:
			t.Fatalf("layout: bad character %q", c)
		}
		snap.Regions = append(snap.Regions, r)
	}
	snap.Regions = fillFree(snap.Regions, snap.Span)
	if err := snap.Validate(); err != nil {
		t.Fatal(err)
	}
	return snap
}

// zebra returns the layout of n stripes alternating between heaps A and B.
func zebra(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "AB"[i%2]
	}
	return string(b)
}

func TestOwners(t *testing.T) {
	const mib = 1 << 20
	type want struct {
		owner       string
		stripes     int
		alternation int
		bytes       uint64
	}
	tests := []struct {
		name  string
		input string
		want  []want
		score int
	}{
		{"empty", "....", nil, 0},
		{"one heap in one piece", "..AAAA..", []want{{"heap A", 1, 0, 4 * mib}}, 0},
		// Committed and reserved parts of one range make one stripe.
		{"committed and reserved", "AAaa", []want{{"heap A", 1, 0, 4 * mib}}, 0},
		// Free space or unowned memory splits a heap without alternation.
		{"split by free space", "AA..A-A", []want{{"heap A", 3, 0, 4 * mib}}, 0},
		{"two heaps side by side", "AAAABBBB", []want{{"heap A", 1, 0, 4 * mib}, {"heap B", 1, 0, 4 * mib}}, 1},
		{"zebra of 2", zebra(2), []want{{"heap A", 1, 0, mib}, {"heap B", 1, 0, mib}}, 1},
		{"zebra of 10", zebra(10), []want{{"heap A", 5, 4, 5 * mib}, {"heap B", 5, 4, 5 * mib}}, 9},
		{"zebra of 11", zebra(11), []want{{"heap A", 6, 5, 6 * mib}, {"heap B", 5, 4, 5 * mib}}, 10},
		{"zebra of 200", zebra(200), []want{{"heap A", 100, 99, 100 * mib}, {"heap B", 100, 99, 100 * mib}}, 199},
		// B sits between A's stripes once; A does not interleave B's.
		{"nested", "AABBAA", []want{{"heap A", 2, 1, 4 * mib}, {"heap B", 1, 0, 2 * mib}}, 2},
		{"three heaps", "ABCABC", []want{{"heap A", 2, 1, 2 * mib}, {"heap B", 2, 1, 2 * mib}, {"heap C", 2, 1, 2 * mib}}, 5},
		// A gap holding free space and another heap still alternates.
		{"gap with free and other", "A.B.A", []want{{"heap A", 2, 1, 2 * mib}, {"heap B", 1, 0, mib}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := layout(t, tt.input, 0x10000000, mib)
			var got []want
			for _, o := range Owners(s) {
				if o.Stripes != len(o.Ranges) {
					t.Errorf("%s: Stripes %d but %d ranges", o.Owner, o.Stripes, len(o.Ranges))
				}
				got = append(got, want{o.Owner, o.Stripes, o.Alternation, o.Bytes})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Owners (-want +got):\n%s", diff)
			}
			if got := ZebraScore(s); got != tt.score {
				t.Errorf("ZebraScore = %d, want %d", got, tt.score)
			}
		})
	}
}

func TestOwnerRanges(t *testing.T) {
	s := layout(t, "AAbB.A", 0x1000, 0x1000)
	o := Owners(s)
	want := []OwnerStats{
		{Owner: "heap A", Type: Heap, Ranges: []AddrRange{{0x1000, 0x3000}, {0x6000, 0x7000}}, Bytes: 0x3000, Committed: 0x3000, Stripes: 2, Alternation: 1},
		{Owner: "heap B", Type: Heap, Ranges: []AddrRange{{0x3000, 0x5000}}, Bytes: 0x2000, Committed: 0x1000, Stripes: 1},
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("Owners (-want +got):\n%s", diff)
	}
}

// TestDestroyedZebra is the PoC.HeapReserve experiment in numbers: n stripes of two
// heaps alternate; heap A is destroyed; its stripes become n/2 holes, and
// the largest free block is one stripe, however much is free.
func TestDestroyedZebra(t *testing.T) {
	const unit = 8 << 20
	for _, n := range []int{2, 10, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			z := []byte(zebra(n))
			for i := range z {
				if z[i] == 'A' {
					z[i] = '.'
				}
			}
			// 4 units of free space above the zebra.
			s := layout(t, string(z)+"....", 0x40000000, unit)
			free := FreeBlocks(s)
			holes := n / 2 // A's stripes; the last one merges with the space above when n is odd
			if len(free) != holes+1-n%2 {
				t.Fatalf("%d free blocks, want %d", len(free), holes+1-n%2)
			}
			if free[0].Size() != 4*unit && n%2 == 0 {
				t.Errorf("largest free block %d, want %d", free[0].Size(), 4*unit)
			}
			for i := 1; i < len(free); i++ {
				if free[i].Size() != unit || free[i-1].Size() < free[i].Size() {
					t.Errorf("free block %d: %v (%d bytes)", i, free[i], free[i].Size())
				}
			}
			sum := Summarize(s)
			if f := sum.Row(Free); f.Size != uint64(n/2+4)*unit || f.Largest != 4*unit || f.Blocks != len(free) {
				t.Errorf("Free row %+v", f)
			}
			if h := sum.Row(Heap); h.Size != uint64(n/2)*unit || h.Blocks != n/2 || h.Largest != unit {
				t.Errorf("Heap row %+v", h)
			}
		})
	}
}

// TestSystemOwners checks that the brk heap, the Go heap and glibc arenas
// neither score as zebra heaps nor make zebra heaps alternate, and that
// touching arenas stay separate stripes.
func TestSystemOwners(t *testing.T) {
	const m = 1 << 20
	reg := func(i int, owner string, base int) Region {
		r := Region{Start: uint64(i) * m, End: uint64(i+1) * m, Type: Heap, State: StateCommitted, Owner: owner}
		if base >= 0 {
			r.Base = uint64(base) * m
		}
		return r
	}
	type want struct {
		owner       string
		system      bool
		stripes     int
		alternation int
	}
	tests := []struct {
		name  string
		input []Region
		want  []want
		score int
	}{
		{"system owners only", []Region{reg(1, brkHeapOwner, -1), reg(2, GoHeapOwner, -1), reg(4, GlibcArenaOwner, -1)},
			[]want{{brkHeapOwner, true, 1, 0}, {GoHeapOwner, true, 1, 0}, {GlibcArenaOwner, true, 1, 0}}, 0},
		{"touching arenas are separate", []Region{reg(4, GlibcArenaOwner, -1), reg(5, GlibcArenaOwner, -1), reg(6, GlibcArenaOwner, 5)},
			[]want{{GlibcArenaOwner, true, 2, 0}}, 0},
		{"Go heap between stripes of a zebra heap", []Region{reg(1, "heap A", -1), reg(2, GoHeapOwner, -1), reg(3, "heap A", -1)},
			[]want{{"heap A", false, 2, 0}, {GoHeapOwner, true, 1, 0}}, 0},
		{"zebra heaps around an arena", []Region{reg(1, "heap A", -1), reg(2, GlibcArenaOwner, -1), reg(3, "heap B", -1), reg(4, "heap A", -1)},
			[]want{{"heap A", false, 2, 1}, {GlibcArenaOwner, true, 1, 0}, {"heap B", false, 1, 0}}, 2},
		// A zebra heap between two arenas makes the arenas alternate.
		{"heap between arenas", []Region{reg(1, GlibcArenaOwner, -1), reg(2, "heap A", -1), reg(3, GlibcArenaOwner, -1)},
			[]want{{GlibcArenaOwner, true, 2, 1}, {"heap A", false, 1, 0}}, 0},
		// A heap's metadata is an owner of its own in the table but part
		// of its heap for the score: one heap alone scores 0 (defect 4 of
		// issue 13: it scored 1 per metadata range).
		{"metadata is part of its heap", []Region{reg(1, "heap A", -1), reg(2, "heap A (metadata)", -1), reg(3, "heap A", -1)},
			[]want{{"heap A", false, 2, 0}, {"heap A (metadata)", false, 1, 0}}, 0},
		{"another heap's metadata alternates", []Region{reg(1, "heap A", -1), reg(2, "heap B (metadata)", -1), reg(3, "heap A", -1)},
			[]want{{"heap A", false, 2, 1}, {"heap B (metadata)", false, 1, 0}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Snapshot{Span: AddrRange{0, 16 * m}}
			s.Regions = fillFree(tt.input, s.Span)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, o := range Owners(s) {
				got = append(got, want{o.Owner, o.System, o.Stripes, o.Alternation})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Owners (-want +got):\n%s", diff)
			}
			if score := ZebraScore(s); score != tt.score {
				t.Errorf("ZebraScore = %d, want %d", score, tt.score)
			}
		})
	}
	for _, tt := range []struct{ owner, heap string }{
		{"heap A", "heap A"}, {"heap A (metadata)", "heap A"}, {"(metadata)", "(metadata)"}, {"", ""},
	} {
		if got := HeapOf(tt.owner); got != tt.heap {
			t.Errorf("HeapOf(%q) = %q, want %q", tt.owner, got, tt.heap)
		}
	}
	for _, name := range []string{"", "heap A", "heap A (metadata)", "Go heap 2", "[heap] "} {
		if IsSystemOwner(name) {
			t.Errorf("IsSystemOwner(%q) = true", name)
		}
	}
}

func TestSummarize(t *testing.T) {
	s := &Snapshot{Span: AddrRange{0x1000, 0x20000}}
	s.Regions = fillFree([]Region{
		// One allocation in two regions: Base ties them together.
		{Start: 0x1000, End: 0x3000, Type: Heap, State: StateCommitted, Committed: 0x2000, Private: 0x2000, Owner: "h"},
		{Start: 0x3000, End: 0x8000, Type: Heap, State: StateReserved, Base: 0x1000, Owner: "h"},
		{Start: 0x8000, End: 0x9000, Type: Heap, State: StateCommitted, Committed: 0x1000, Private: 0x1000},
		{Start: 0xa000, End: 0xc000, Type: Image, State: StateCommitted, Committed: 0x2000, Path: "/lib"},
		{Start: 0xc000, End: 0xd000, Type: Image, State: StateCommitted, Committed: 0x1000, Private: 0x1000, Path: "/lib", Base: 0xa000},
	}, s.Span)
	got := Summarize(s)
	want := map[Type]Row{
		Heap:  {Type: Heap, Size: 0x8000, Committed: 0x3000, Private: 0x3000, Blocks: 2, Largest: 0x7000},
		Image: {Type: Image, Size: 0x3000, Committed: 0x3000, Private: 0x1000, Blocks: 1, Largest: 0x3000},
		Free:  {Type: Free, Size: 0x1f000 - 0xb000, Blocks: 2, Largest: 0x20000 - 0xd000},
		Stack: {Type: Stack},
	}
	for typ, w := range want {
		if diff := cmp.Diff(w, got.Row(typ)); diff != "" {
			t.Errorf("%v row (-want +got):\n%s", typ, diff)
		}
	}
	if len(got.Rows) != len(Types) {
		t.Errorf("%d rows, want %d", len(got.Rows), len(Types))
	}
	wantTotal := Row{Size: 0xb000, Committed: 0x6000, Private: 0x4000, Blocks: 3, Largest: 0x7000}
	if diff := cmp.Diff(wantTotal, got.Total); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
}

// TestSummarizeWithinSpan: regions outside the span, like [vsyscall], are
// not counted, and a region straddling the span counts the part inside.
func TestSummarizeWithinSpan(t *testing.T) {
	const vsyscall = 0xffffffffff600000
	tests := []struct {
		name  string
		span  AddrRange
		input []Region
		want  Row // the Image row
	}{
		{"vsyscall outside", AddrRange{0x10000, 0x20000}, []Region{
			{Start: 0x10000, End: 0x12000, Type: Image, State: StateCommitted, Committed: 0x2000, Path: "/bin/x"},
			{Start: vsyscall, End: vsyscall + 0x1000, Type: Image, State: StateCommitted, Committed: 0x1000, Path: "[vsyscall]"},
		}, Row{Type: Image, Size: 0x2000, Committed: 0x2000, Blocks: 1, Largest: 0x2000}},
		{"straddling the start", AddrRange{0x14000, 0x20000}, []Region{
			{Start: 0x10000, End: 0x18000, Type: Image, State: StateCommitted, Committed: 0x8000, Private: 0x4000},
		}, Row{Type: Image, Size: 0x4000, Committed: 0x4000, Private: 0x2000, Blocks: 1, Largest: 0x4000}},
		{"empty span counts everything", AddrRange{}, []Region{
			{Start: 0x10000, End: 0x12000, Type: Image, State: StateCommitted},
			{Start: vsyscall, End: vsyscall + 0x1000, Type: Image, State: StateCommitted},
		}, Row{Type: Image, Size: 0x3000, Blocks: 2, Largest: 0x2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Snapshot{Span: tt.span, Regions: tt.input}
			got := Summarize(s)
			if diff := cmp.Diff(tt.want, got.Row(Image)); diff != "" {
				t.Errorf("Image row (-want +got):\n%s", diff)
			}
			if got.Total.Size != tt.want.Size {
				t.Errorf("total size %#x, want %#x", got.Total.Size, tt.want.Size)
			}
		})
	}
}

func TestStrip(t *testing.T) {
	tests := []struct {
		name  string
		input string
		width int
		want  string
	}{
		{"one cell per block", "AAaa..-", 7, "HHhh..P"},
		{"two blocks per cell, used wins over free", "A..a-.", 3, "HhP"},
		{"cells smaller than a block", "A", 3, "HHH"},
		{"zero width", "A", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := layout(t, tt.input, 0x10000, 0x1000)
			var got []byte
			for _, c := range Strip(s, tt.width) {
				l := c.Type.Letter()
				if c.Reserved {
					l |= 0x20
				}
				got = append(got, l)
			}
			if string(got) != tt.want {
				t.Errorf("Strip = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStripWholeSpace draws the whole 64-bit address space, where cell
// arithmetic that rounds by adding the divisor wraps around.
func TestStripWholeSpace(t *testing.T) {
	const top = ^uint64(0)
	tests := []struct {
		name  string
		input []Region
		width int
		want  string
	}{
		{"low and high mappings", []Region{
			{Start: 0x10000, End: 0x20000, Type: Heap, State: StateCommitted},
			{Start: top - 0x1000, End: top, Type: Image, State: StateCommitted},
		}, 8, "H......I"},
		{"one cell", []Region{{Start: 1 << 62, End: 1<<62 + 0x1000, Type: Stack, State: StateReserved}}, 1, "t"},
		{"middle of 3", []Region{{Start: top / 2, End: top/2 + 0x1000, Type: MappedFile, State: StateCommitted}}, 3, ".M."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Snapshot{Span: AddrRange{0, top}}
			s.Regions = fillFree(tt.input, s.Span)
			var got []byte
			for _, c := range Strip(s, tt.width) {
				l := c.Type.Letter()
				if c.Reserved {
					l |= 0x20
				}
				got = append(got, l)
			}
			if string(got) != tt.want {
				t.Errorf("Strip = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkOwners(b *testing.B) {
	s := layout(b, zebra(20000), 0x10000000, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		Owners(s)
	}
}
