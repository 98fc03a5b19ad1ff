package heap

import "testing"

// TestSlotSize: SlotSize says what Heap.Size reports of a real block, and
// rejects what is not a size or a page.
func TestSlotSize(t *testing.T) {
	t.Setenv(DebugEnv, "") // Size would count the canary
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	page := int(h.cfg.page)
	for _, n := range []int{0, 1, 15, 16, 17, 255, 256, 257, 300, 1000, 4096, 16<<10 - 1, 16 << 10, 16<<10 + 1, 100 << 10, 1 << 20} {
		p, err := h.Alloc(n)
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.Size(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := SlotSize(n, page); want != got || want < max(n, 16) {
			t.Errorf("SlotSize(%d, %d) = %d; Heap.Size says %d", n, page, want, got)
		}
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ n, page, want int }{
		{1, 4096, 16},
		{-1, 4096, 0},
		{1, 0, 0},
		{1, 3000, 0},
		{20 << 10, 16 << 10, 32 << 10},
	} {
		if got := SlotSize(tt.n, tt.page); got != tt.want {
			t.Errorf("SlotSize(%d, %d) = %d, want %d", tt.n, tt.page, got, tt.want)
		}
	}
}
