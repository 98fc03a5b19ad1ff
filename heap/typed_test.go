package heap

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unsafe"
)

type point struct {
	X, Y float64
	Tag  [4]byte
}

type withString struct {
	ID   int
	Name string
}

type nested struct {
	A [3]struct {
		B int
		C []int
	}
}

func TestPointerFree(t *testing.T) {
	tests := []struct {
		name     string
		check    func() error
		wantPath string // "" when the type is pointer-free
	}{
		{"int64", checkType[int64], ""},
		{"struct of numbers and arrays", checkType[point], ""},
		{"empty array of strings", checkType[[0]string], ""},
		{"string", checkType[string], "string"},
		{"struct with string field", checkType[withString], "heap.withString.Name"},
		{"nested slice", checkType[nested], "heap.nested.A[0].C"},
		{"map", checkType[map[int]int], "map[int]int"},
		{"interface", checkType[any], "interface {}"},
		{"func", checkType[func()], "func()"},
		{"chan", checkType[chan int], "chan int"},
		{"pointer", checkType[*int], "*int"},
		{"unsafe.Pointer", checkType[unsafe.Pointer], "unsafe.Pointer"},
		{"array of pointers", checkType[[2]*int], "[2]*int[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrNotPointerFree) || !strings.Contains(err.Error(), tt.wantPath+" is") {
				t.Fatalf("got %v, want ErrNotPointerFree naming %q", err, tt.wantPath)
			}
		})
	}
}

func TestTypedHelpers(t *testing.T) {
	h := mustNew(t, Options{Name: "typed"})
	p, err := NewOf[point](h)
	if err != nil {
		t.Fatal(err)
	}
	if *p != (point{}) {
		t.Fatalf("NewOf returned %+v, want zero", *p)
	}
	p.X = 3
	if _, err := NewOf[withString](h); !errors.Is(err, ErrNotPointerFree) {
		t.Fatalf("NewOf[withString] = %v", err)
	}
	if _, err := MakeSlice[*int](h, 1, 1); !errors.Is(err, ErrNotPointerFree) {
		t.Fatalf("MakeSlice[*int] = %v", err)
	}

	s, err := MakeSlice[int64](h, 10, 20)
	if err != nil || len(s) != 10 || cap(s) != 20 {
		t.Fatalf("MakeSlice = len %d cap %d, %v", len(s), cap(s), err)
	}
	for i := range s {
		s[i] = int64(i)
	}
	s, err = Grow(h, s, 1000)
	if err != nil || len(s) != 10 || cap(s) < 1010 {
		t.Fatalf("Grow = len %d cap %d, %v", len(s), cap(s), err)
	}
	for i := range s {
		if s[i] != int64(i) {
			t.Fatalf("s[%d] = %d after Grow", i, s[i])
		}
	}
	s = s[:cap(s)]
	for i := 10; i < len(s); i++ {
		if s[i] != 0 {
			t.Fatalf("s[%d] = %d after Grow, want zero", i, s[i])
		}
	}
	if _, err := h.Size(unsafe.Pointer(&s[0])); err != nil {
		t.Fatalf("grown slice is not in the heap: %v", err)
	}
	if err := FreeSlice(h, s); err != nil {
		t.Fatal(err)
	}

	badSizes := []struct {
		name string
		call func() error
		want error
	}{
		{"negative len", func() error { _, err := MakeSlice[byte](h, -1, 4); return err }, ErrInvalidSize},
		{"cap below len", func() error { _, err := MakeSlice[byte](h, 5, 4); return err }, ErrInvalidSize},
		{"overflowing cap", func() error { _, err := MakeSlice[[1 << 20]byte](h, 0, math.MaxInt/2); return err }, ErrInvalidSize},
		{"negative grow", func() error { _, err := Grow[byte](h, nil, -1); return err }, ErrInvalidSize},
		// Products that fit an int but exceed the heap's limit are too
		// large, as in Alloc, not invalid.
		{"cap above the limit", func() error { _, err := MakeSlice[[2]byte](h, 0, math.MaxInt/2); return err }, ErrTooLarge},
		{"grow above the limit", func() error {
			s, err := MakeSlice[byte](h, 1, 1)
			if err != nil {
				return err
			}
			defer FreeSlice(h, s)
			_, err = Grow(h, s, math.MaxInt-1)
			return err
		}, ErrTooLarge},
		{"grow overflows", func() error {
			s, err := MakeSlice[[4]byte](h, 1, 1)
			if err != nil {
				return err
			}
			defer FreeSlice(h, s)
			_, err = Grow(h, s, math.MaxInt/2)
			return err
		}, ErrInvalidSize},
		{"grow a Go slice", func() error { _, err := Grow(h, make([]byte, 1, 1), 10); return err }, ErrInvalidPointer},
		{"negative bytes", func() error { _, err := Bytes(h, -1); return err }, ErrInvalidSize},
	}
	for _, tt := range badSizes {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}

	b, err := Bytes(h, 100)
	if err != nil || len(b) != 100 || cap(b) != 100 {
		t.Fatalf("Bytes = %d/%d, %v", len(b), cap(b), err)
	}
	if err := FreeSlice(h, b); err != nil {
		t.Fatal(err)
	}
	if z, err := MakeSlice[int](h, 0, 0); z != nil || err != nil {
		t.Fatalf("MakeSlice(0, 0) = %v, %v", z, err)
	}
	if err := FreeSlice[int](h, nil); err != nil {
		t.Fatal(err)
	}
	mustValidate(t, h)
}
