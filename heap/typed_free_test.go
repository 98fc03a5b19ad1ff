package heap_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/zebra-heap/zebra/heap"
)

func TestFreeOf(t *testing.T) {
	type point struct{ X, Y int64 }
	h, err := heap.New(heap.Options{Name: "free-of"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	p, err := heap.NewOf[point](h)
	if err != nil {
		t.Fatal(err)
	}
	p.X, p.Y = 1, 2
	tests := []struct {
		name string
		p    *point
		want error
	}{
		{"first free", p, nil},
		{"second free", p, heap.ErrDoubleFree},
		{"nil", nil, nil},
		{"not from the heap", &point{}, heap.ErrInvalidPointer},
	}
	for _, tt := range tests {
		if err := heap.FreeOf(h, tt.p); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: FreeOf = %v, want %v", tt.name, err, tt.want)
		}
	}
	if st := h.Stats(); st.Blocks != 0 {
		t.Errorf("%d blocks busy after FreeOf, want 0", st.Blocks)
	}
}

// FreeOf releases what NewOf allocated, without unsafe conversions.
func ExampleFreeOf() {
	type point struct{ X, Y int64 }
	h, _ := heap.New(heap.Options{Name: "points"})
	defer h.Destroy()
	p, _ := heap.NewOf[point](h)
	p.X, p.Y = 3, 4
	fmt.Println(heap.FreeOf(h, p), h.Stats().Blocks)
	// Output: <nil> 0
}
