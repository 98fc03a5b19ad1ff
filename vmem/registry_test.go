package vmem

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestLiveListsReservations(t *testing.T) {
	c := OS().Caps()
	a := reserveT(t, 2*c.Granularity, Options{Owner: "heap A"})
	b := reserveT(t, 3*c.Granularity, Options{Owner: "heap B", HugePages: true})
	if err := a.Commit(a.Base(), c.PageSize); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    *Reservation
		want Info
	}{
		{"plain", a, Info{ID: a.id, Owner: "heap A", Space: OS().Name(), Pieces: a.Pieces(), Committed: c.PageSize}},
		{"huge", b, Info{ID: b.id, Owner: "heap B", Space: OS().Name(), Pieces: b.Pieces(), HugePages: c.HugePageSize != 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := liveEntry(tt.r)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Live entry\n got %+v\nwant %+v", got, tt.want)
			}
			if got.Range() != tt.r.Range() {
				t.Fatalf("Info.Range %v, reservation %v", got.Range(), tt.r.Range())
			}
		})
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if liveEntry(a).ID != 0 {
		t.Fatalf("released reservation still listed")
	}
	if liveEntry(b).ID != b.id {
		t.Fatalf("releasing one reservation dropped another")
	}
}

// checkLive verifies what every Live snapshot must satisfy, whatever other
// goroutines are doing: sorted by base, no overlaps, pieces contiguous,
// committed within the range.
func checkLive(list []Info) error {
	for i, in := range list {
		if len(in.Pieces) == 0 {
			return fmt.Errorf("entry %d has no pieces", in.ID)
		}
		for j := 1; j < len(in.Pieces); j++ {
			if in.Pieces[j].Base != in.Pieces[j-1].End() {
				return fmt.Errorf("entry %d: pieces %v not contiguous", in.ID, in.Pieces)
			}
		}
		if in.Committed > in.Range().Size {
			return fmt.Errorf("entry %d: committed %#x > size %#x", in.ID, in.Committed, in.Range().Size)
		}
		// Windows are reservations that contain others; only compare
		// entries of the same space.
		if i > 0 && list[i-1].Range().Base > in.Range().Base {
			return fmt.Errorf("entries %d and %d out of order", list[i-1].ID, in.ID)
		}
	}
	bySpace := map[string]Range{}
	for _, in := range list {
		if prev, ok := bySpace[in.Space]; ok && prev.End() > in.Range().Base {
			return fmt.Errorf("entry %d %v overlaps %v in %s", in.ID, in.Range(), prev, in.Space)
		}
		bySpace[in.Space] = in.Range()
	}
	return nil
}

// TestRegistryConcurrent reserves, commits, extends and releases from many
// goroutines while others read Live. Run it with -race.
func TestRegistryConcurrent(t *testing.T) {
	g := OS().Caps().Granularity
	const workers, rounds = 8, 40
	before := map[uint64]bool{}
	for _, in := range Live() {
		before[in.ID] = true
	}
	var wg sync.WaitGroup
	errc := make(chan error, workers+2)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := checkLive(Live()); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var held []*Reservation
			for i := range rounds {
				r, err := OS().Reserve(uintptr(1+i%4)*g, Options{Owner: fmt.Sprintf("worker %d", w)})
				if err != nil {
					errc <- err
					return
				}
				held = append(held, r)
				if err := r.Commit(r.Base(), g); err != nil {
					errc <- err
					return
				}
				dir := Direction(i % 2)
				if err := r.Extend(dir, g); err != nil && !errors.Is(err, ErrAddressTaken) {
					errc <- err
					return
				}
				if err := r.validate(); err != nil {
					errc <- err
					return
				}
				if i%3 == 2 { // release the oldest, keep a few alive
					if err := held[0].Release(); err != nil {
						errc <- err
						return
					}
					held = held[1:]
				}
			}
			for _, r := range held {
				if err := r.Release(); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for _, in := range Live() {
		if !before[in.ID] {
			t.Errorf("leaked registry entry %+v", in)
		}
	}
}
