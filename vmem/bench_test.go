package vmem

import (
	"testing"
)

// BenchmarkReserveRelease reserves and releases 1 GiB: the cost of asking
// for address space alone.
func BenchmarkReserveRelease(b *testing.B) {
	for b.Loop() {
		r, err := OS().Reserve(1<<30, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Release(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatermark raises and lowers the watermark by one granule at the
// top of a committed interval, as a heap growing and shrinking by a page does.
func BenchmarkWatermark(b *testing.B) {
	g := OS().Caps().Granularity
	r := reserveT(b, 64*g, Options{})
	if err := r.Commit(r.Base(), 32*g); err != nil {
		b.Fatal(err)
	}
	top := r.Base() + 32*g
	for b.Loop() {
		if err := r.Commit(top, g); err != nil {
			b.Fatal(err)
		}
		if err := r.Decommit(top, g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHoleDecommit decommits and re-touches one page inside the
// committed interval (no protection change).
func BenchmarkHoleDecommit(b *testing.B) {
	c := OS().Caps()
	r := reserveT(b, 64*c.Granularity, Options{})
	if err := r.Commit(r.Base(), r.Size()); err != nil {
		b.Fatal(err)
	}
	mid := r.Base() + r.Size()/2
	for b.Loop() {
		if err := r.Decommit(mid, c.PageSize); err != nil {
			b.Fatal(err)
		}
		if c.RecommitAfterDecommit {
			if err := r.Commit(mid, c.PageSize); err != nil {
				b.Fatal(err)
			}
		}
		mem(r)[mid-r.Base()] = 1
	}
}

// BenchmarkFirstTouch commits 64 MiB and touches every page once, with
// small and with huge pages: the first-touch cost the README's benchmarks compare.
func BenchmarkFirstTouch(b *testing.B) {
	const size = 64 << 20
	c := OS().Caps()
	for _, huge := range []bool{false, true} {
		name := "small"
		if huge {
			name = "huge"
		}
		b.Run(name, func(b *testing.B) {
			if huge && c.HugePageSize == 0 {
				b.Skip("no huge pages on this host")
			}
			b.SetBytes(size)
			for b.Loop() {
				r, err := OS().Reserve(size, Options{HugePages: huge})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Commit(r.Base(), size); err != nil {
					b.Fatal(err)
				}
				m := mem(r)
				for i := uintptr(0); i < size; i += c.PageSize {
					m[i] = 1
				}
				if err := r.Release(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
