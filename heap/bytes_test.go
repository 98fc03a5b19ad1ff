package heap

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unsafe"
)

func TestMakeBytes(t *testing.T) {
	h, err := New(Options{Name: "bytes"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for _, c := range []struct {
		name    string
		n, c    int
		init    Init
		want    error
		wantNil bool
	}{
		{"zeroed", 10, 100, Zeroed, nil, false},
		{"uninitialized", 100, 100, Uninitialized, nil, false},
		{"large zeroed", 1 << 20, 1 << 20, Zeroed, nil, false},
		{"empty", 0, 0, Zeroed, nil, true},
		{"len 0 cap 1", 0, 1, Uninitialized, nil, false},
		{"negative len", -1, 10, Zeroed, ErrInvalidSize, true},
		{"cap below len", 10, 5, Zeroed, ErrInvalidSize, true},
		{"negative both", -5, -5, Zeroed, ErrInvalidSize, true},
		{"huge", math.MaxInt, math.MaxInt, Uninitialized, ErrTooLarge, true},
		{"unknown init", 1, 1, Init(7), ErrInvalidSize, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.init == Zeroed && c.c > 0 {
				// Leave dirt where the block will likely come from.
				d, err := h.Alloc(c.c)
				if err != nil {
					t.Fatal(err)
				}
				fillByte(bytesOf(d, uintptr(c.c)), 0xEE)
				h.Free(d)
			}
			b, err := MakeBytes(h, c.n, c.c, c.init)
			if !errors.Is(err, c.want) || (b == nil) != c.wantNil {
				t.Fatalf("MakeBytes(%d, %d, %v) = len %d, %v; want nil %v, error %v", c.n, c.c, c.init, len(b), err, c.wantNil, c.want)
			}
			if b == nil {
				return
			}
			if len(b) != c.n || cap(b) != c.c {
				t.Errorf("len %d cap %d, want %d %d", len(b), cap(b), c.n, c.c)
			}
			if c.init == Zeroed {
				if i := firstOther(b[:cap(b)], 0); i >= 0 {
					t.Errorf("zeroed bytes hold %#x at %d", b[i], i)
				}
			}
			if err := FreeBytes(h, b); err != nil {
				t.Error(err)
			}
		})
	}
	if h.Stats().Blocks != 0 {
		t.Errorf("blocks left: %v", h.Stats())
	}
	if Init(9).String() != "Init(9)" || Zeroed.String() != "zeroed" || Uninitialized.String() != "uninitialized" {
		t.Error("Init.String")
	}
}

func TestCloneBytesAndStrings(t *testing.T) {
	h, err := New(Options{Name: "clones"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for _, src := range []string{"x", "hello, heap", strings.Repeat("é", 10000)} {
		b, err := CloneBytes(h, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		s, err := CloneString(h, src)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != src || s != src || cap(b) != len(src) {
			t.Fatalf("clones of %d bytes differ: %d bytes (cap %d), %d bytes", len(src), len(b), cap(b), len(s))
		}
		for _, p := range []unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(b)), unsafe.Pointer(unsafe.StringData(s))} {
			if n, err := h.Size(p); err != nil || n < len(src) {
				t.Errorf("a clone's bytes are not a block of the heap: size %d, %v", n, err)
			}
		}
		if err := FreeBytes(h, b); err != nil {
			t.Error(err)
		}
		if err := FreeString(h, s); err != nil {
			t.Error(err)
		}
	}
	if b, err := CloneBytes(h, nil); b != nil || err != nil {
		t.Errorf("CloneBytes(nil) = %v, %v", b, err)
	}
	if b, err := CloneBytes(h, []byte{}); b != nil || err != nil {
		t.Errorf("CloneBytes(empty) = %v, %v", b, err)
	}
	if s, err := CloneString(h, ""); s != "" || err != nil {
		t.Errorf("CloneString(\"\") = %q, %v", s, err)
	}
	if err := FreeBytes(h, nil); err != nil {
		t.Error(err)
	}
	if err := FreeString(h, ""); err != nil {
		t.Error(err)
	}
	if h.Stats().Blocks != 0 {
		t.Errorf("blocks left: %v", h.Stats())
	}
}

// TestFreeBytesNamesTheMistake: the errors of FreeBytes and FreeString say
// what went wrong: a slice append moved to the Go heap, a Go string, a
// slice of another heap, a re-sliced slice, a second free.
func TestFreeBytesNamesTheMistake(t *testing.T) {
	h, err := New(Options{Name: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	other, err := New(Options{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Destroy()

	grown, _ := MakeBytes(h, 0, 4, Uninitialized)
	grown = append(grown, "more than four bytes"...) // moved to the Go heap
	theirs, _ := CloneBytes(other, []byte("theirs"))
	mine, _ := CloneBytes(h, []byte("0123456789"))
	str, _ := CloneString(h, "a string")
	freed, _ := CloneBytes(h, []byte("freed"))
	FreeBytes(h, freed) // last, so that no later allocation reuses it
	var stack [64]byte

	for _, c := range []struct {
		name    string
		err     error
		want    error
		says    string
		notSays string
	}{
		{"appended", FreeBytes(h, grown), ErrInvalidPointer, "append", ""},
		{"Go slice", FreeBytes(h, make([]byte, 10)), ErrInvalidPointer, "no zebra heap", ""},
		{"stack array", FreeBytes(h, stack[:]), ErrInvalidPointer, "no zebra heap", ""},
		{"Go string", FreeString(h, strings.Repeat("go", 8)), ErrInvalidPointer, "concatenation", ""},
		{"concatenated", FreeString(h, str+"!"), ErrInvalidPointer, "no zebra heap", ""},
		{"another heap's", FreeBytes(h, theirs), ErrInvalidPointer, `"theirs"`, "append"},
		{"re-sliced", FreeBytes(h, mine[1:]), ErrInvalidPointer, "mine", "append"},
		{"twice", FreeBytes(h, freed), ErrDoubleFree, "", "append"},
		{"nil heap", FreeBytes(nil, mine), ErrNilHeap, "", ""},
		{"nil heap string", FreeString(nil, str), ErrNilHeap, "", ""},
	} {
		if !errors.Is(c.err, c.want) || !strings.Contains(errText(c.err), c.says) || c.notSays != "" && strings.Contains(errText(c.err), c.notSays) {
			t.Errorf("%s: %v; want %v saying %q, not %q", c.name, c.err, c.want, c.says, c.notSays)
		}
	}
	// The refused frees changed nothing: mine, str and the block append
	// left behind are still allocated, theirs too.
	if st := h.Stats(); st.Blocks != 3 {
		t.Errorf("heap holds %d blocks, want 3", st.Blocks)
	}
	if st := other.Stats(); st.Blocks != 1 {
		t.Errorf("the other heap holds %d blocks, want 1", st.Blocks)
	}
	if err := FreeBytes(h, mine); err != nil {
		t.Error(err)
	}
	h.Destroy()
	if err := FreeString(h, str); !errors.Is(err, ErrDestroyed) {
		t.Errorf("FreeString after Destroy: %v", err)
	}
	if _, err := MakeBytes(h, 1, 1, Zeroed); !errors.Is(err, ErrDestroyed) {
		t.Errorf("MakeBytes after Destroy: %v", err)
	}
	if _, err := CloneString(h, "x"); !errors.Is(err, ErrDestroyed) {
		t.Errorf("CloneString after Destroy: %v", err)
	}
	if _, err := CloneString(nil, "x"); !errors.Is(err, ErrNilHeap) {
		t.Errorf("CloneString on nil: %v", err)
	}
	if _, err := CloneBytes(nil, []byte("x")); !errors.Is(err, ErrNilHeap) {
		t.Errorf("CloneBytes on nil: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
