package heap

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// The bug classes the debug modes catch, one test each, like
// hardened_malloc's test programs: every one would pass silently without
// its mode.

func TestDebugOverrunByOneByte(t *testing.T) {
	t.Setenv(DebugEnv, "") // exactly the modes each case asks for
	for _, n := range []int{1, 16, 24, 300, 4000, 16 << 10, 100 << 10, 2 << 20} {
		for _, when := range []string{"free", "validate", "realloc", "size"} {
			t.Run(fmt.Sprintf("%d/%s", n, when), func(t *testing.T) {
				h := mustNew(t, Options{Name: "overrun", Debug: DebugTail})
				p, err := h.Alloc(n)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := h.Size(p); got != n || err != nil {
					t.Fatalf("Size = %d, %v; want the size asked, %d", got, err, n)
				}
				b := unsafe.Slice((*byte)(p), n+1)
				for i := range b[:n] {
					b[i] = 0xFD // the canary's own byte must not hide an overrun of it
				}
				if err := h.Validate(); err != nil {
					t.Fatalf("Validate before the overrun: %v", err)
				}
				b[n] ^= 0xFF // one byte past the end
				switch when {
				case "free":
					err = h.Free(p)
				case "validate":
					err = h.Validate()
				case "realloc":
					_, err = h.Realloc(p, 2*n)
				case "size":
					_, err = h.Size(p)
				}
				if !errors.Is(err, ErrOverrun) {
					t.Fatalf("%s after a one-byte overrun: %v, want ErrOverrun", when, err)
				}
				if want := fmt.Sprintf("%p", p); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprint(n)) {
					t.Errorf("error %q does not name the block %s and its size %d", err, want, n)
				}
			})
		}
	}
}

func TestDebugWriteAfterFree(t *testing.T) {
	t.Setenv(DebugEnv, "") // exactly the modes each case asks for
	tests := []struct {
		name string
		o    Options
		n    int
		// caught by: the Alloc that reuses the block, or Validate
		// while it is quarantined
		byValidate bool
	}{
		{"small, on reuse", Options{Debug: DebugFree, NoSerialize: true}, 48, false},
		{"small, quarantined", Options{Debug: DebugFree | DebugQuarantine}, 48, true},
		{"large, quarantined", Options{Debug: DebugFree | DebugQuarantine}, 100 << 10, true},
		{"huge, quarantined", Options{Policy: NT, Debug: DebugFree | DebugQuarantine}, 2 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Name = "uaf"
			h := mustNew(t, tt.o)
			p, err := h.Alloc(tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Free(p); err != nil {
				t.Fatal(err)
			}
			*(*byte)(unsafe.Add(p, tt.n/2)) = 42 // the stale write
			if tt.byValidate {
				err = h.Validate()
			} else {
				_, err = h.Alloc(tt.n) // the block comes back first (LIFO)
			}
			if !errors.Is(err, ErrWriteAfterFree) {
				t.Fatalf("after a write into a freed block: %v, want ErrWriteAfterFree", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%p", p)) {
				t.Errorf("error %q does not name the block %p", err, p)
			}
		})
	}
}

func TestDebugDoubleFreeAfterReuse(t *testing.T) {
	t.Setenv(DebugEnv, "") // exactly the modes each case asks for
	for _, quarantined := range []bool{false, true} {
		t.Run(fmt.Sprint("quarantine ", quarantined), func(t *testing.T) {
			o := Options{Name: "stale", NoSerialize: true}
			if quarantined {
				o.Debug = DebugQuarantine
			}
			h := mustNew(t, o)
			p, _ := h.Alloc(64)
			if err := h.Free(p); err != nil {
				t.Fatal(err)
			}
			// Someone else allocates the same size: without the
			// quarantine they get p, and the stale second free below
			// would free their block.
			q, _ := h.Alloc(64)
			err := h.Free(p)
			switch {
			case quarantined && (q == p || !errors.Is(err, ErrDoubleFree)):
				t.Fatalf("with the quarantine: reuse %v, stale free %v; want no reuse, ErrDoubleFree", q == p, err)
			case !quarantined && (q != p || err != nil):
				t.Fatalf("without: reuse %v, stale free %v; the test expects the silent bug", q == p, err)
			}
		})
	}
}

// TestQuarantineBudget: blocks leave the quarantine first in, first out,
// once more than the budget waits, and are reused only then.
func TestQuarantineBudget(t *testing.T) {
	t.Setenv(DebugEnv, "") // exactly the modes each case asks for
	h := mustNew(t, Options{Name: "budget", Debug: DebugQuarantine, QuarantineBytes: 4 << 10, NoSerialize: true})
	var ps []unsafe.Pointer
	for range 100 {
		p, _ := h.Alloc(1024)
		ps = append(ps, p)
	}
	for _, p := range ps {
		if err := h.Free(p); err != nil {
			t.Fatal(err)
		}
	}
	st := h.Stats()
	if st.Quarantined != 4<<10 || st.Blocks != 0 || st.InUse != 0 {
		t.Errorf("quarantined %d, %d blocks, %d in use; want 4 KiB waiting and nothing in use", st.Quarantined, st.Blocks, st.InUse)
	}
	for i, p := range ps[len(ps)-4:] {
		if err := h.Free(p); !errors.Is(err, ErrDoubleFree) {
			t.Errorf("block %d still waits: Free = %v", i, err)
		}
	}
	if err := h.Free(ps[0]); !errors.Is(err, ErrDoubleFree) {
		t.Errorf("the oldest left the quarantine and is free: Free = %v", err)
	}
	if err := h.Reset(); err != nil || h.Stats().Quarantined != 0 {
		t.Errorf("Reset: %v, %d bytes still quarantined", err, h.Stats().Quarantined)
	}
}

func TestParseDebug(t *testing.T) {
	tests := []struct {
		in   string
		want Debug
		ok   bool
	}{
		{"", 0, true},
		{"off", 0, true},
		{"all", DebugAll, true},
		{"tail", DebugTail, true},
		{"tail, quarantine", DebugTail | DebugQuarantine, true},
		{"free,free", DebugFree, true},
		{"callers", DebugCallers, true},
		{"tails", 0, false},
		{"all,\x1b[31m", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDebug(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseDebug(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if s := DebugAll.String(); s != "tail,free,quarantine" {
		t.Errorf("DebugAll = %q", s)
	}
}

func TestDebugOptions(t *testing.T) {
	tests := []struct {
		name string
		env  string
		o    Options
		want Debug
		err  error
	}{
		{"from the environment", "tail,free", Options{}, DebugTail | DebugFree, nil},
		{"added to the options", "quarantine", Options{Debug: DebugTail}, DebugTail | DebugQuarantine, nil},
		{"bad environment", "everything", Options{}, 0, ErrInvalidSize},
		{"unknown mode", "", Options{Debug: 0x80}, 0, ErrInvalidSize},
		{"budget without quarantine", "", Options{QuarantineBytes: 1 << 20}, 0, ErrInvalidSize},
		{"negative budget", "", Options{Debug: DebugQuarantine, QuarantineBytes: -1}, 0, ErrInvalidSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(DebugEnv, tt.env)
			h, err := New(tt.o)
			if !errors.Is(err, tt.err) {
				t.Fatalf("New = %v, want %v", err, tt.err)
			}
			if err == nil {
				defer h.Destroy()
				if h.cfg.debug != tt.want {
					t.Errorf("modes %v, want %v", h.cfg.debug, tt.want)
				}
			}
		})
	}
}
