package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
	"github.com/zebra-heap/zebra/vmmap/timeline"
)

// A process chooses its name (prctl PR_SET_NAME) and the names of the
// files it maps; on a terminal, these would clear the screen and retitle
// the window of whoever maps the process.
const (
	hostileName = "\x1b[2J\x1b]0;pwn\x07"
	hostilePath = "/tmp/\x1b[2J\x1b]0;pwn\x07\xff.dat"
	hostileHeap = "heap \x1b]0;pwn\x07"
)

// hostileProc is the anon fixture's procfs with the process named
// hostileName, its mapped file renamed hostilePath and heap A renamed
// hostileHeap, in a directory of the test's.
func hostileProc(t *testing.T) string {
	t.Helper()
	dir := tempdir.New(t)
	replace := strings.NewReplacer("com.example.z", hostileName,
		"/data/local/tmp/my dir/with spaces.dat", hostilePath, "[anon:heap A]", "[anon:"+hostileHeap+"]")
	err := fs.WalkDir(os.DirFS(anonFixture), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join(anonFixture, p))
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(replace.Replace(string(b))), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkVisible fails when out holds a byte of the hostile names raw: the
// escape sequences (any ESC or BEL at all without colour), or the invalid
// byte. A view for people must show them escaped, so shown (when not
// empty) must be in out.
func checkVisible(t *testing.T, what string, out []byte, color bool, shown ...string) {
	t.Helper()
	switch {
	case bytes.Contains(out, []byte("\x1b[2J")), bytes.Contains(out, []byte("\x1b]0;")), bytes.IndexByte(out, '\a') >= 0:
		t.Errorf("%s: the hostile escape sequence is printed raw", what)
	case !color && bytes.IndexByte(out, 0x1b) >= 0:
		t.Errorf("%s: an ESC byte is printed raw", what)
	case !utf8.Valid(out):
		t.Errorf("%s: the invalid byte is printed raw", what)
	}
	for _, s := range shown {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("%s does not show %q:\n%s", what, s, out)
		}
	}
}

// TestHostileNames feeds every output of zebra a process whose name, mapped
// file and heap hold escape sequences and an invalid byte: the views for
// people show them escaped, JSON and CSV keep the exact bytes.
func TestHostileNames(t *testing.T) {
	proc := hostileProc(t)
	dir := tempdir.New(t)
	name, path := `\x1b[2J\x1b]0;pwn\x07`, `/tmp/\x1b[2J\x1b]0;pwn\x07\xff.dat`
	zebra := func(args ...string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("zebra %q: exit %d\n%s", args, code, stderr.String())
		}
		return stdout.Bytes()
	}
	views := []struct {
		name  string
		args  []string
		color bool
		shown []string
	}{
		{"terminal", []string{"map", "--proc", proc, "--color", "never", "4242"}, false, []string{"(" + name + ")", `heap \x1b]0;pwn\x07`}},
		{"terminal in colour", []string{"map", "--proc", proc, "--color", "always", "4242"}, true, []string{"(" + name + ")"}},
		{"explain", []string{"map", "--proc", proc, "--color", "never", "--explain", "4242"}, false, []string{"(" + name + ")"}},
		{"regions", []string{"map", "--proc", proc, "--regions", "--type", "mappedfile,heap", "4242"}, false, []string{`\x07\xff.dat`, `heap \x1b]0;pwn\x07`}}, // the path clipped
		{"file written", []string{"map", "--proc", proc, "-o", filepath.Join(dir, "m.png"), "4242"}, false, []string{"(" + name + ")"}},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) { checkVisible(t, v.name, zebra(v.args...), v.color, v.shown...) })
	}

	s, err := vmmap.Proc{FS: os.DirFS(proc), Root: proc}.Snapshot("4242")
	if err != nil {
		t.Fatal(err)
	}
	if s.Command != hostileName {
		t.Fatalf("the fixture's process is named %q", s.Command)
	}

	t.Run("json keeps the bytes", func(t *testing.T) {
		out := zebra("map", "--proc", proc, "--format", "json", "4242")
		checkVisible(t, "json", out, false)
		got, err := vmmap.ReadJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got.Command != hostileName || !hasRegion(got, hostilePath, hostileHeap) {
			t.Errorf("the JSON lost the exact bytes: command %q", got.Command)
		}
	})
	t.Run("csv keeps the bytes", func(t *testing.T) {
		rows, err := csv.NewReader(bytes.NewReader(zebra("map", "--proc", proc, "--format", "csv", "4242"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			found = found || r[len(r)-1] == hostilePath
		}
		if !found {
			t.Errorf("no CSV row holds the exact path %q", hostilePath)
		}
	})
	t.Run("csv and json on a terminal", func(t *testing.T) {
		saved := isTerminal
		defer func() { isTerminal = saved }()
		isTerminal = func(io.Writer) bool { return true }
		checkVisible(t, "csv on a terminal", zebra("map", "--proc", proc, "--format", "csv", "4242"), false, path)
		checkVisible(t, "json on a terminal", zebra("map", "--proc", proc, "--format", "json", "4242"), false)
	})

	// The pictures and pages of the snapshot.
	for _, ext := range []string{".svg", ".html"} {
		t.Run(ext, func(t *testing.T) {
			f := filepath.Join(dir, "map"+ext)
			zebra("map", "--proc", proc, "-o", f, "4242")
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkVisible(t, ext, b, false, name)
		})
	}

	// diff, on the terminal and as a page: the mapped file and heap A
	// appear in the second snapshot.
	before := *s
	before.Regions = nil
	for _, r := range s.Regions {
		if r.Path != hostilePath && r.Owner != hostileHeap {
			before.Regions = append(before.Regions, r)
		}
	}
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	writeJSONFile(t, a, &before)
	writeJSONFile(t, b, s)
	t.Run("diff", func(t *testing.T) {
		checkVisible(t, "diff", zebra("map", "--diff", a, b), false, name, path, `heap \x1b]0;pwn\x07`)
		f := filepath.Join(dir, "diff.html")
		zebra("map", "--diff", a, b, "-o", f)
		page, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkVisible(t, "diff page", page, false, path)
	})

	t.Run("watch", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // one refresh
		var out bytes.Buffer
		snaps := []*vmmap.Snapshot{&before, s}
		take := func() (*vmmap.Snapshot, error) { x := snaps[0]; snaps = snaps[1:]; return x, nil }
		if err := watchPlain(ctx, watchConfig{target: "4242", every: time.Second, color: "never"}, take, &out); err != nil {
			t.Fatal(err)
		}
		if err := watchPlain(ctx, watchConfig{target: "4242", every: time.Second, color: "never"}, take, &out); err != nil {
			t.Fatal(err)
		}
		checkVisible(t, "watch, piped", out.Bytes(), false, name)
		m := watchModel{cfg: watchConfig{target: "4242", color: "always", every: time.Second}, view: viewChanges, width: 200, height: 100}
		m.st.update(&before)
		m.st.update(s)
		checkVisible(t, "watch, changes", []byte(m.text()), true, path)
		m.view = viewMap
		checkVisible(t, "watch, map", []byte(m.text()), true, name)
	})

	t.Run("timeline page", func(t *testing.T) {
		tl := filepath.Join(dir, "t.jsonl")
		w, err := timeline.Create(tl, timeline.Header{Source: s.Source, PID: 4242, Started: s.Taken, Every: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		later := *s
		later.Taken = s.Taken.Add(time.Second)
		for _, x := range []*vmmap.Snapshot{&before, s, &later} {
			if err := w.Write(x); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(timeline.EndDone); err != nil {
			t.Fatal(err)
		}
		got, err := timeline.Open(tl)
		if err != nil || got.Header.Source != s.Source {
			t.Fatalf("the timeline's source: %v; %q, want %q", err, got.Header.Source, s.Source)
		}
		page := filepath.Join(dir, "t.html")
		out := zebra("report", tl, "-o", page)
		checkVisible(t, "report's line", out, false, name)
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		checkVisible(t, "timeline page", b, false, name)
		// The page's data is JSON read by its script: the escaped form
		// is there as JSON text, with its backslashes doubled.
		if !bytes.Contains(b, []byte(`\\x1b[2J`)) {
			t.Errorf("the page's data does not hold the escaped path")
		}
	})
}

// hasRegion reports whether s has a region with the exact path and one
// with the exact owner.
func hasRegion(s *vmmap.Snapshot, path, owner string) bool {
	var p, o bool
	for _, r := range s.Regions {
		p, o = p || r.Path == path, o || r.Owner == owner
	}
	return p && o
}

func writeJSONFile(t *testing.T, path string, s *vmmap.Snapshot) {
	t.Helper()
	var b bytes.Buffer
	if err := vmmap.WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
