package heap

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// Typed helpers for pointer-free types. A value in a heap is invisible to
// the garbage collector, so it must not hold Go pointers: the helpers check
// the type once (recursing into arrays and struct fields) and refuse
// strings, slices, maps, interfaces, funcs, channels, pointers and
// unsafe.Pointer with ErrNotPointerFree, naming the offending field.

var pointerFree sync.Map // reflect.Type → error (nil when pointer-free)

// checkType returns nil if T holds no Go pointers, else an error that says
// where one is.
func checkType[T any]() error {
	t := reflect.TypeFor[T]()
	if v, ok := pointerFree.Load(t); ok {
		err, _ := v.(error)
		return err
	}
	var err error
	if path, why := findPointer(t, t.String()); path != "" {
		err = fmt.Errorf("%w: %s is %s: the garbage collector cannot see Go pointers stored off its heap",
			ErrNotPointerFree, path, why)
	}
	pointerFree.Store(t, err)
	return err
}

// findPointer returns the path of the first pointer-holding part of t and
// what it is, or "" if there is none.
func findPointer(t reflect.Type, path string) (string, string) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return "", ""
	case reflect.Array:
		if t.Len() == 0 {
			return "", ""
		}
		return findPointer(t.Elem(), path+"[0]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if p, why := findPointer(f.Type, path+"."+f.Name); p != "" {
				return p, why
			}
		}
		return "", ""
	case reflect.String:
		return path, "a string (it points to its bytes)"
	case reflect.Slice:
		return path, "a slice (it points to its array)"
	case reflect.Map:
		return path, "a map"
	case reflect.Interface:
		return path, "an interface (it holds a pointer)"
	case reflect.Func:
		return path, "a func"
	case reflect.Chan:
		return path, "a channel"
	case reflect.Pointer:
		return path, "a pointer"
	case reflect.UnsafePointer:
		return path, "an unsafe.Pointer"
	}
	return path, "of kind " + t.Kind().String()
}

// NewOf allocates a zeroed T in h, like new(T). T must be pointer-free. Free it with
// FreeOf.
func NewOf[T any](h *Heap) (*T, error) {
	if err := checkType[T](); err != nil {
		return nil, fmt.Errorf("heap %q: new %T: %w", h.Name(), *new(T), err)
	}
	var zero T
	p, err := h.AllocAligned(int(unsafe.Sizeof(zero)), int(max(unsafe.Alignof(zero), minAlign)))
	if err != nil {
		return nil, err
	}
	if !h.cfg.zero {
		clear(unsafe.Slice((*byte)(p), unsafe.Sizeof(zero)))
	}
	return (*T)(p), nil
}

// FreeOf frees a value made by NewOf: h.Free(unsafe.Pointer(p)) without the
// conversion. A nil p is a no-op, as for Free.
func FreeOf[T any](h *Heap, p *T) error {
	return h.Free(unsafe.Pointer(p))
}

// MakeSlice allocates a zeroed slice of length n and capacity c in h, like
// make([]T, n, c). T must be pointer-free. Appending past its capacity with
// the built-in append silently copies it into the Go heap; use Grow. Free it
// with FreeSlice. A capacity of zero returns a nil slice without
// allocating.
func MakeSlice[T any](h *Heap, n, c int) ([]T, error) {
	if err := checkType[T](); err != nil {
		return nil, fmt.Errorf("heap %q: make slice: %w", h.Name(), err)
	}
	if n < 0 || c < n {
		return nil, fmt.Errorf("heap %q: make slice len %d cap %d: %w", h.Name(), n, c, ErrInvalidSize)
	}
	if c == 0 {
		return nil, nil
	}
	var zero T
	size := unsafe.Sizeof(zero)
	lo, ok := mulInt(c, int(size))
	if !ok {
		return nil, fmt.Errorf("heap %q: make slice of %d × %d bytes: %w: overflows", h.Name(), c, size, ErrInvalidSize)
	}
	p, err := h.alignedCalloc(int(lo), int(max(unsafe.Alignof(zero), minAlign)))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(p), c)[:n], nil
}

// alignedCalloc is AllocAligned with zeroed memory.
func (h *Heap) alignedCalloc(n, align int) (unsafe.Pointer, error) {
	again := func() (unsafe.Pointer, error) {
		if h.cfg.debug != 0 {
			return h.debugAlloc("alloc", uintptr(n), uintptr(align), true)
		}
		return h.allocate("alloc", uintptr(n), uintptr(align), true)
	}
	p, err := again()
	if err != nil {
		return h.failed(err, again)
	}
	return p, nil
}

// Grow returns s with room for at least n more elements, reallocating
// inside h (in place when it can) when its capacity is too small, like
// slices.Grow. s must be nil or come from MakeSlice or Grow on h; the old s
// is invalid after a reallocation. New elements past the old capacity are
// zeroed.
func Grow[T any](h *Heap, s []T, n int) ([]T, error) {
	if err := checkType[T](); err != nil {
		return s, fmt.Errorf("heap %q: grow: %w", h.Name(), err)
	}
	if n < 0 {
		return s, fmt.Errorf("heap %q: grow by %d: %w: negative", h.Name(), n, ErrInvalidSize)
	}
	if cap(s)-len(s) >= n {
		return s, nil
	}
	if cap(s) == 0 {
		return MakeSlice[T](h, len(s), len(s)+n)
	}
	var zero T
	size := unsafe.Sizeof(zero)
	want := max(len(s)+n, 2*cap(s))
	lo, ok := mulInt(want, int(size))
	if !ok || len(s)+n < len(s) {
		return s, fmt.Errorf("heap %q: grow to %d × %d bytes: %w: overflows", h.Name(), want, size, ErrInvalidSize)
	}
	old := cap(s)
	p, err := h.Realloc(unsafe.Pointer(unsafe.SliceData(s)), int(lo))
	if err != nil {
		return s, err
	}
	out := unsafe.Slice((*T)(p), want)
	clear(out[old:])
	return out[:len(s)], nil
}

// FreeSlice frees a slice made by MakeSlice or Grow. A nil or zero-capacity
// slice is a no-op.
func FreeSlice[T any](h *Heap, s []T) error {
	if cap(s) == 0 {
		return nil
	}
	return h.Free(unsafe.Pointer(unsafe.SliceData(s)))
}

// Bytes allocates a []byte of length and capacity n in h, not zeroed
// (unless Options.Zero). It is a view of the block: it dangles after Free,
// Reset or Destroy. Free it with FreeSlice.
func Bytes(h *Heap, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	p, err := h.Alloc(n)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), n), nil
}
