package heap

import (
	"slices"
	"testing"
)

func TestHeapsRegistry(t *testing.T) {
	a, err := New(Options{Name: "live-a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Name: "live-b"})
	if err != nil {
		t.Fatal(err)
	}
	if hs := Heaps(); !slices.Contains(hs, a) || !slices.Contains(hs, b) ||
		slices.Index(hs, a) > slices.Index(hs, b) {
		t.Fatalf("Heaps() lacks the new heaps in creation order")
	}
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if hs := Heaps(); slices.Contains(hs, a) || !slices.Contains(hs, b) {
		t.Errorf("after Destroy of a: Heaps() still holds it, or lost b")
	}
	a.Destroy() // a second Destroy fails and changes nothing
	if err := b.Destroy(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(Heaps(), b) {
		t.Error("Heaps() holds a destroyed heap")
	}
}
