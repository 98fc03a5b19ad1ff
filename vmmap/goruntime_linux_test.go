package vmmap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zebra-heap/zebra/internal/tempdir"
)

// The fixture's executable is a symbolic link, as /proc/PID/exe is on
// Linux; Wine cannot follow the one os.Symlink makes, so this test is
// Linux's.

// TestGoRuntimeFixture reads the captured Go program with an executable
// that is (the test binary) or is not (a text file) a Go program: only the
// first gets the runtime's index block, the smallest summary levels cut
// off above it and the arena index below it; the vmem reservations and the
// runtime's small allocations stay Private Data either way.
func TestGoRuntimeFixture(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text, err := filepath.Abs(filepath.Join("testdata", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pid := fixtures(t)["go"]
	type at struct {
		addr  uint64
		owner string
	}
	tests := []struct {
		name string
		exe  string // where PID/exe links; "" for none, as captured
		want []at
	}{
		{"Go executable", self, []at{
			{0x7f7820400000, ""},             // vmem reservation, unnamed on this kernel
			{0x7f782153e000, ""},             // persistentalloc and other small metadata
			{0x7f7821700000, GoRuntimeOwner}, // arena index (32 MiB) and chunk index (1 MiB)
			{0x7f7823800000, GoRuntimeOwner}, // index block, reserved
			{0x7f783610b000, GoRuntimeOwner}, // a committed summary page
			{0x7f7867ca5000, GoRuntimeOwner}, // the block's top
			{0x7f7868009000, ""},             // above the 2 MiB alignment hole
			{0x7f78680cb000, GoRuntimeOwner}, // second summary level
			{0x7f786815f000, GoRuntimeOwner},
			{0x7f78681cb000, ""},
		}},
		{"not a Go executable", text, []at{
			{0x7f7821700000, ""}, {0x7f7823800000, ""}, {0x7f783610b000, ""}, {0x7f78680cb000, ""},
		}},
		{"no executable", "", []at{{0x7f7821700000, ""}, {0x7f7823800000, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tempdir.New(t)
			if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "go", "proc"))); err != nil {
				t.Fatal(err)
			}
			if tt.exe != "" {
				if err := os.Symlink(tt.exe, filepath.Join(root, pid, "exe")); err != nil {
					t.Fatal(err)
				}
			}
			s, err := NewProc(root).Snapshot(pid)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.want {
				r, ok := regionAt(s, c.addr)
				if !ok || r.Type != PrivateData || r.Owner != c.owner {
					t.Errorf("%#x: %v %q, want Private Data %q", c.addr, r.Type, r.Owner, c.owner)
				}
			}
		})
	}
}
