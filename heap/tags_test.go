package heap

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func mustTag(t *testing.T, name string) Tag {
	t.Helper()
	tag, err := NewTag(name)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// tagUse returns the live blocks and bytes TagStats gives for tag.
func tagUse(h *Heap, tag Tag) (blocks int, bytes uint64) {
	for _, ts := range h.TagStats() {
		if ts.Tag == tag {
			return ts.Blocks, ts.Bytes
		}
	}
	return 0, 0
}

func TestNewTag(t *testing.T) {
	a := mustTag(t, "test-index")
	if b := mustTag(t, "test-index"); b != a {
		t.Errorf("the same name gave tags %d and %d", a, b)
	}
	if a == Untagged || a.String() != "test-index" {
		t.Errorf("tag %d named %q", a, a)
	}
	if Untagged.String() != "untagged" || Tag(254).String() != "tag(254)" {
		t.Errorf("names of Untagged and an unregistered tag: %q, %q", Untagged, Tag(254))
	}
	for _, name := range []string{"", "a\x1b[2Jb", "\xff", strings.Repeat("x", MaxNameLen+1)} {
		if _, err := NewTag(name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("NewTag(%q) = %v, want ErrInvalidName", name, err)
		}
	}
}

// TestTagLimit registers tags until the registry is full, in a process of
// its own so that the other tests keep room for theirs.
func TestTagLimit(t *testing.T) {
	if os.Getenv("ZEBRA_TAG_LIMIT_CHILD") == "1" {
		for i := 0; ; i++ {
			_, err := NewTag("limit-" + strings.Repeat("x", i%8) + string(rune('A'+i%26)) + string(rune('a'+i/26%26)))
			if errors.Is(err, ErrTooLarge) {
				if len(tagNames.names) != maxTags {
					t.Fatalf("refused with %d registered, want %d", len(tagNames.names), maxTags)
				}
				return
			}
			if err != nil || i > 1000 {
				t.Fatalf("after %d tags: %v", i, err)
			}
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTagLimit$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ZEBRA_TAG_LIMIT_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestAllocTag(t *testing.T) {
	index, values := mustTag(t, "test-alloc-index"), mustTag(t, "test-alloc-values")
	h, err := New(Options{Name: "tags", Tags: true, HugeBlock: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	var ps []unsafe.Pointer
	var want uint64
	for _, n := range []int{16, 100, 4000, 16 << 10, 100 << 10, 2 << 20} {
		p, err := h.AllocTag(n, index)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := h.Size(p)
		want += uint64(size)
		ps = append(ps, p)
	}
	if _, err := h.AllocTag(64, values); err != nil {
		t.Fatal(err)
	}
	untagged, err := h.Alloc(300)
	if err != nil {
		t.Fatal(err)
	}
	if b, n := tagUse(h, index); b != 6 || n != want && h.cfg.debug&DebugTail == 0 {
		t.Fatalf("index: %d blocks, %d bytes; want 6, %d", b, n, want)
	}
	// Realloc keeps the tag, across classes and from small to large.
	q, err := h.Realloc(ps[0], 50<<10)
	if err != nil {
		t.Fatal(err)
	}
	ps[0] = q
	if b, _ := tagUse(h, index); b != 6 {
		t.Fatalf("after Realloc: %d blocks tagged index, want 6", b)
	}
	if got := h.tagOf(q); got != index {
		t.Fatalf("the moved block is tagged %v", got)
	}
	leaks, err := h.Leaks()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Leak{}
	for _, l := range leaks {
		byName[l.Name] = l
	}
	if byName["test-alloc-index"].Blocks != 6 || byName["test-alloc-values"].Blocks != 1 || byName["untagged"].Blocks != 1 {
		t.Fatalf("Leaks: %v", leaks)
	}
	for _, p := range append(ps, untagged) {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	if b, n := tagUse(h, index); b != 0 || n != 0 {
		t.Fatalf("after freeing them: index has %d blocks, %d bytes", b, n)
	}
	if b, _ := tagUse(h, values); b != 1 {
		t.Fatalf("values: %d blocks, want 1", b)
	}
	if err := h.Reset(); err != nil {
		t.Fatal(err)
	}
	if ts := h.TagStats(); len(ts) != 0 {
		t.Fatalf("after Reset: %v", ts)
	}
	// A block handed out again after Reset is untagged.
	p, err := h.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.tagOf(p); got != Untagged {
		t.Fatalf("a block after Reset is tagged %v", got)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestAllocTagErrors(t *testing.T) {
	tag := mustTag(t, "test-errors")
	plain, err := New(Options{Name: "untagged heap"})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Destroy()
	tagged, err := New(Options{Name: "tagged heap", Tags: true})
	if err != nil {
		t.Fatal(err)
	}
	var nilHeap *Heap
	tests := []struct {
		name string
		h    *Heap
		n    int
		tag  Tag
		want error
	}{
		{"heap without Tags", plain, 16, tag, ErrInvalidTag},
		{"Untagged", tagged, 16, Untagged, ErrInvalidTag},
		{"a tag never registered", tagged, 16, Tag(253), ErrInvalidTag},
		{"negative size", tagged, -1, tag, ErrInvalidSize},
		{"nil heap", nilHeap, 16, tag, ErrNilHeap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.h.AllocTag(tt.n, tt.tag); !errors.Is(err, tt.want) {
				t.Fatalf("AllocTag(%d, %v) = %v, want %v", tt.n, tt.tag, err, tt.want)
			}
		})
	}
	if plain.TagStats() != nil || nilHeap.TagStats() != nil {
		t.Error("TagStats of a heap without Tags is not nil")
	}
	tagged.Destroy()
	if _, err := tagged.AllocTag(16, tag); !errors.Is(err, ErrDestroyed) {
		t.Errorf("after Destroy: %v", err)
	}
	if _, err := tagged.Leaks(); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Leaks after Destroy: %v", err)
	}
}

// TestLeaksCallers checks that DebugCallers names the test's own lines.
func TestLeaksCallers(t *testing.T) {
	h, err := New(Options{Name: "callers", Debug: DebugCallers})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for range 3 {
		if _, err := h.Alloc(100); err != nil { // the leak
			t.Fatal(err)
		}
	}
	p, err := h.Calloc(4, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Free(p); err != nil {
		t.Fatal(err)
	}
	leaks, err := h.Leaks()
	if err != nil {
		t.Fatal(err)
	}
	if len(leaks) != 1 || leaks[0].Blocks != 3 || !strings.Contains(leaks[0].Caller, "TestLeaksCallers") || !strings.Contains(leaks[0].Caller, "tags_test.go:") {
		t.Fatalf("Leaks: %v", leaks)
	}
	if !strings.Contains(leaks[0].String(), "untagged: ") {
		t.Errorf("Leak.String() = %q", leaks[0])
	}
}

// TestTagsConcurrent tags and frees from several goroutines while
// TagStats reads the counters (run with -race).
func TestTagsConcurrent(t *testing.T) {
	tag := mustTag(t, "test-concurrent")
	h, err := New(Options{Name: "tags-concurrent", Tags: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var ps []unsafe.Pointer
			for i := range 2000 {
				p, err := h.AllocTag(16+(i*g)%3000, tag)
				if err != nil {
					t.Error(err)
					return
				}
				ps = append(ps, p)
				if i%3 == 0 {
					h.TagStats()
				}
			}
			for _, p := range ps {
				if err := h.Free(p); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if b, n := tagUse(h, tag); b != 0 || n != 0 {
		t.Fatalf("after every block was freed: %d blocks, %d bytes", b, n)
	}
}
