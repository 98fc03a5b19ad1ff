package heap

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

func TestStatsHugePages(t *testing.T) {
	thp, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(thp), "[never]") {
		t.Skip("transparent huge pages are off here")
	}
	tests := []struct {
		name string
		huge bool
	}{{"4 KiB pages", false}, {"huge pages", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Options{Name: "thp", Reserve: 64 << 20, HugePages: tt.huge})
			p, err := h.Alloc(16 << 20)
			if err != nil {
				t.Fatal(err)
			}
			b := unsafe.Slice((*byte)(p), 16<<20)
			for i := range b {
				b[i] = 1
			}
			st := h.Stats()
			t.Logf("%d MiB of 16 MiB in huge pages", st.HugePages>>20)
			if tt.huge && st.HugePages == 0 {
				t.Errorf("a huge-page heap with 16 MiB written reports no huge pages")
			}
			if !tt.huge && st.HugePages != 0 && !strings.Contains(string(thp), "[always]") {
				t.Errorf("a 4 KiB-page heap reports %d bytes of huge pages", st.HugePages)
			}
		})
	}
}

func TestSmapsHeader(t *testing.T) {
	tests := []struct {
		line   string
		lo, hi uintptr
		ok     bool
	}{
		{"7f000000-7f200000 rw-p 00000000 00:00 0", 0x7f000000, 0x7f200000, true},
		{"AnonHugePages:      2048 kB", 0, 0, false},
		{"VmFlags: rd wr mr mw me ac", 0, 0, false},
		{"zz-10 rw-p", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, ok := smapsHeader([]byte(tt.line))
		if lo != tt.lo || hi != tt.hi || ok != tt.ok {
			t.Errorf("smapsHeader(%q) = %#x, %#x, %v; want %#x, %#x, %v", tt.line, lo, hi, ok, tt.lo, tt.hi, tt.ok)
		}
	}
}
