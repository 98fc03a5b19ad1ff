package heap

import (
	"runtime"
	"testing"
)

// TestMillionBlocksOffGoHeap: a million live 64-byte blocks grow the Go
// heap by less than 1 MiB, because all bookkeeping is off the Go heap.
func TestMillionBlocksOffGoHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 64 MiB")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	h, err := New(Options{Name: "million"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for i := 0; i < 1_000_000; i++ {
		if _, err := h.Alloc(64); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := h.Stats()
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("Go heap grew by %d bytes; heap %+v", grew, st)
	if st.Blocks != 1_000_000 {
		t.Fatalf("%d blocks", st.Blocks)
	}
	if grew >= 1<<20 {
		t.Errorf("the Go heap grew by %d bytes for a million off-heap blocks", grew)
	}
}
