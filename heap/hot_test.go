package heap

import (
	"errors"
	"testing"
)

// Freed small blocks wait in their shard's hot list and are handed out
// again first; while they wait, every check of a freed block still holds.
func TestHotBlocks(t *testing.T) {
	skipUnderDebug(t)
	for _, ns := range []bool{false, true} {
		h := mustNew(t, Options{Name: "hot", NoSerialize: ns})
		p, err := h.Alloc(100)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
		if err := h.Free(p); !errors.Is(err, ErrDoubleFree) {
			t.Errorf("NoSerialize %v: second Free of a hot block = %v, want ErrDoubleFree", ns, err)
		}
		if _, err := h.Size(p); !errors.Is(err, ErrDoubleFree) {
			t.Errorf("NoSerialize %v: Size of a hot block = %v, want ErrDoubleFree", ns, err)
		}
		if _, err := h.Realloc(p, 10); !errors.Is(err, ErrDoubleFree) {
			t.Errorf("NoSerialize %v: Realloc of a hot block = %v, want ErrDoubleFree", ns, err)
		}
		if st := h.Stats(); st.Blocks != 0 || st.InUse != 0 {
			t.Errorf("NoSerialize %v: a hot block counts as busy: %+v", ns, st)
		}
		mustValidate(t, h)
		q, err := h.Alloc(100)
		if err != nil {
			t.Fatal(err)
		}
		if ns && q != p {
			t.Errorf("NoSerialize %v: the block freed last is not handed out first: %p, then %p", ns, p, q)
		}
		if err := h.Free(q); err != nil {
			t.Fatal(err)
		}
		// Walk reports no busy block; Compact returns the empty slab.
		busy := 0
		if err := h.Walk(func(e Entry) bool {
			if e.Busy() {
				busy++
			}
			return true
		}); err != nil || busy != 0 {
			t.Errorf("NoSerialize %v: Walk = %v with %d busy entries, want none", ns, err, busy)
		}
		if _, err := h.Compact(); err != nil {
			t.Fatal(err)
		}
		mustValidate(t, h)
	}
}
