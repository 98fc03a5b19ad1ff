package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/zebra-heap/zebra/internal/tempdir"
	"github.com/zebra-heap/zebra/vmmap"
)

const anonFixture = "../../vmmap/testdata/anon/proc"

// denyFS fails every open of an smaps file with EACCES, as procfs does for
// another user's process.
type denyFS struct{ fs.FS }

func (d denyFS) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, "/smaps") {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return d.FS.Open(name)
}

func runMapCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"map"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestMapCommand(t *testing.T) {
	dir := tempdir.New(t)
	jsonA, jsonB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErr    string // the whole of stderr must be this one line, when set
		wantErrHas string
	}{
		{
			name: "fixture", args: []string{"--proc", anonFixture, "4242"},
			wantOut: []string{"linux pid 4242 (com.example.z)", "span 0xc000000000-0x7ffff0021000",
				"28 VMAs of vm.max_map_count 65530", "zebra score 6", "heap A", "libc_malloc *", "Largest free blocks"},
		},
		{
			name: "flags after the pid", args: []string{"--proc", anonFixture, "4242", "--range", "0x700000000000-0x700001000000"},
			wantOut: []string{"span 0x700000000000-0x700001000000 (16 MiB)", "zebra score 5"},
		},
		{name: "json", args: []string{"--proc", anonFixture, "-o", jsonA, "4242"}, wantOut: []string{"wrote " + jsonA, "span 0xc000000000-"}},
		{name: "json again", args: []string{"--proc", anonFixture, "--range", "0x700000000000-0x700000400000", "-o", jsonB, "4242"}},
		{name: "csv", args: []string{"--proc", anonFixture, "-o", filepath.Join(dir, "m.CSV"), "4242"}, wantOut: []string{"wrote"}},
		{name: "diff same", args: []string{"--diff", jsonA, jsonA}, wantOut: []string{"0 changes"}},
		{name: "diff", args: []string{"--diff", jsonA, jsonB}, wantOut: []string{"vanished", "Heap libc_malloc", "changes"}},
		{name: "diff report", args: []string{"--diff", "-o", filepath.Join(dir, "diff.html"), jsonA, jsonB}, wantOut: []string{"wrote " + filepath.Join(dir, "diff.html")}},
		{name: "colour", args: []string{"--proc", anonFixture, "--color", "always", "4242"}, wantOut: []string{"\x1b[48;2;255;150;102m"}},
		{name: "help", args: []string{"-h"}, wantCode: 0},

		{name: "missing process", args: []string{"--proc", anonFixture, "99999"}, wantCode: 1,
			wantErrHas: "zebra map: pid 99999: no such process (open " + filepath.Join(anonFixture, "99999", "stat")},
		{name: "missing procfs root", args: []string{"--proc", filepath.Join(dir, "nonexistent"), "1"}, wantCode: 2,
			wantErr: "zebra map: usage: --proc " + filepath.Join(dir, "nonexistent") + ": not a directory"},
		{name: "procfs root is a file", args: []string{"--proc", filepath.Join(anonFixture, "4242", "maps"), "4242"}, wantCode: 2,
			wantErrHas: "not a directory"},
		{name: "not a pid", args: []string{"abc"}, wantCode: 2, wantErr: `zebra map: usage: "abc" is not a process id or "self"`},
		{name: "zero pid", args: []string{"0"}, wantCode: 2},
		{name: "two pids", args: []string{"1", "2"}, wantCode: 2},
		{name: "unknown flag", args: []string{"--frobnicate"}, wantCode: 2},
		{name: "unknown format", args: []string{"-o", "x.txt"}, wantCode: 2, wantErrHas: "unknown format"},
		{name: "bad range", args: []string{"--range", "0x2000-0x1000"}, wantCode: 2, wantErrHas: "invalid address range"},
		{name: "bad colour", args: []string{"--color", "pink"}, wantCode: 2},
		{name: "diff needs two", args: []string{"--diff", jsonA}, wantCode: 2},
		{name: "diff to png", args: []string{"--diff", "-o", "x.png", jsonA, jsonB}, wantCode: 2, wantErrHas: "only an .html report"},
		{name: "diff with range", args: []string{"--diff", "--range", "0x1000-0x2000", jsonA, jsonB}, wantCode: 2},
		{name: "diff missing file", args: []string{"--diff", jsonA, filepath.Join(dir, "none.json")}, wantCode: 1},
		{name: "diff not json", args: []string{"--diff", jsonA, filepath.Join(anonFixture, "4242", "maps")}, wantCode: 1,
			wantErrHas: "malformed input"},
		{name: "unwritable output", args: []string{"--proc", anonFixture, "-o", filepath.Join(dir, "no", "such", "dir.json"), "4242"}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMapCmd(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tt.wantErr != "" && errOut != tt.wantErr+"\n" {
				t.Errorf("stderr %q, want %q", errOut, tt.wantErr+"\n")
			}
			if tt.wantErrHas != "" && !strings.Contains(errOut, tt.wantErrHas) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErrHas)
			}
			if code == 1 && strings.Count(errOut, "\n") != 1 {
				t.Errorf("want one error line, got:\n%s", errOut)
			}
			if tt.name == "colour" || code != 0 {
				return
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colour codes written to a buffer")
			}
		})
	}
}

// TestMapPermissionDenied: another user's process, simulated through the
// procfs root, is one error line and exit status 1.
func TestMapPermissionDenied(t *testing.T) {
	old := procFS
	procFS = func(root string) fs.FS { return denyFS{os.DirFS(root)} }
	defer func() { procFS = old }()
	code, out, errOut := runMapCmd(t, "--proc", anonFixture, "4242")
	want := "zebra map: pid 4242 (com.example.z): permission denied (open " +
		filepath.Join(anonFixture, "4242", "smaps") + ": permission denied)\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, \"\", %q", code, out, errOut, want)
	}
}

// TestMapLive maps live processes as a new user would: itself, the process
// that started the test, and a process that has exited.
func TestMapLive(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "windows" {
		code, _, errOut := runMapCmd(t, "self")
		if code != 1 || !strings.Contains(errOut, "not supported") {
			t.Errorf("self on %s: exit %d, %q", runtime.GOOS, code, errOut)
		}
		return
	}
	code, out, errOut := runMapCmd(t, "self")
	if code != 0 || !strings.Contains(out, "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(out, "Go heap") {
		t.Errorf("map self: exit %d\n%s%s", code, out, errOut)
	}
	// Under Wine the parent is a Unix process: Getppid is 0.
	if ppid := os.Getppid(); ppid > 0 {
		code, out, errOut = runMapCmd(t, strconv.Itoa(ppid))
		switch {
		case code == 0 && strings.Contains(out, "pid "+strconv.Itoa(ppid)):
		case code == 1 && strings.Contains(errOut, "permission denied") && strings.Count(errOut, "\n") == 1:
		default:
			t.Errorf("map parent: exit %d\n%s%s", code, out, errOut)
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runMapCmd(t, strconv.Itoa(cmd.Process.Pid))
	if code != 1 || out != "" || !strings.Contains(errOut, "no such process") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("map exited pid: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestMapFileAtomic: a render that fails half-way leaves neither a
// truncated file nor a temporary one, and an older map at the same path
// survives; a good render replaces it.
func TestMapFileAtomic(t *testing.T) {
	mapOutputs[".fail"] = func(w io.Writer, s *vmmap.Snapshot) error {
		io.WriteString(w, "half a picture")
		return errors.New("renderer gave up")
	}
	defer delete(mapOutputs, ".fail")
	dir := tempdir.New(t)
	tests := []struct {
		name     string
		file     string
		old      string // content at the path before, "" for none
		wantCode int
		want     string // content after, "" for no file
	}{
		{"failed render, no file before", "new.fail", "", 1, ""},
		{"failed render keeps the old file", "old.fail", "old map", 1, "old map"},
		{"good render replaces the old file", "m.csv", "old map", 0, "Address,End,Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errOut := runMapCmd(t, "--proc", anonFixture, "-o", path, "4242")
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, errOut)
			}
			if code != 0 && !strings.Contains(errOut, path+": renderer gave up") {
				t.Errorf("stderr %q does not name the file and the cause", errOut)
			}
			data, err := os.ReadFile(path)
			switch {
			case tt.want == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("file left at %s: %q, %v", path, data, err)
			case tt.want != "" && !strings.HasPrefix(string(data), tt.want):
				t.Errorf("file holds %.40q, want %q…", data, tt.want)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

// TestMapDiffReport checks the HTML that --diff -o writes: both snapshots,
// their labels and the changes between them.
func TestMapDiffReport(t *testing.T) {
	dir := tempdir.New(t)
	a, b, out := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "d.html")
	for _, args := range [][]string{
		{"--proc", anonFixture, "-o", a, "4242"},
		{"--proc", anonFixture, "--range", "0x700000000000-0x700000400000", "-o", b, "4242"},
		{"--diff", "-o", out, a, b},
	} {
		if code, _, errOut := runMapCmd(t, args...); code != 0 {
			t.Fatalf("zebra map %v: exit %d: %s", args, code, errOut)
		}
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{a, b, "vanished", "<svg"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("diff report lacks %q", want)
		}
	}
}

// TestHelpAndVersion: help asked for goes to stdout with status 0, "zebra
// help CMD" shows that command's flags, and "zebra version" exists (issue
// 13, defect 12).
func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		stdout     string // a substring of stdout; "" means empty
		stderrSays string
	}{
		{[]string{"--help"}, 0, "usage: zebra <command>", ""},
		{[]string{"help"}, 0, "usage: zebra <command>", ""},
		{[]string{"help", "map"}, 0, "usage: zebra map", ""},
		{[]string{"help", "demo"}, 0, "usage: zebra demo", ""},
		{[]string{"map", "-h"}, 0, "-range", ""},
		{[]string{"version"}, 0, "zebra ", ""},
		{[]string{"help", "nosuch"}, 2, "", "unknown command"},
		{[]string{"version", "x"}, 2, "", "no arguments"},
		{nil, 2, "", "usage: zebra <command>"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(tt.args, &out, &errOut)
		if code != tt.code || (tt.stdout == "") != (out.Len() == 0) || !strings.Contains(out.String(), tt.stdout) ||
			!strings.Contains(errOut.String(), tt.stderrSays) {
			t.Errorf("zebra %q: exit %d, stdout %.80q, stderr %.80q", tt.args, code, out.String(), errOut.String())
		}
	}
	var out bytes.Buffer
	run([]string{"version"}, &out, &out)
	if !strings.Contains(out.String(), runtime.Version()) {
		t.Errorf("version %q lacks the Go version %s", out.String(), runtime.Version())
	}
}

// TestMapRegionsAndFormats: the per-region list with --sort and --type,
// and structured output to stdout with nothing else on it (issue 13).
func TestMapRegionsAndFormats(t *testing.T) {
	base := []string{"--proc", anonFixture, "4242"}
	t.Run("regions by size, heaps only", func(t *testing.T) {
		code, out, errOut := runMapCmd(t, append([]string{"--regions", "--sort", "size", "--type", "heap"}, base...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[0], "Address") || !strings.Contains(lines[len(lines)-1], "listed") {
			t.Fatalf("no header or totals:\n%s", out)
		}
		var sizes []string
		for _, l := range lines[1 : len(lines)-1] {
			f := strings.Fields(l)
			if f[3] != "Heap" {
				t.Errorf("--type heap listed %q", l)
			}
			if n := utf8.RuneCountInString(l); n > 100 {
				t.Errorf("line of %d columns: %q", n, l)
			}
			sizes = append(sizes, f[1]+" "+f[2])
		}
		if len(sizes) < 2 || sizes[0] != "8 MiB" {
			t.Errorf("sizes %q: want the 8 MiB arena first", sizes)
		}
	})
	t.Run("csv to stdout", func(t *testing.T) {
		code, out, _ := runMapCmd(t, append([]string{"--format", "csv"}, base...)...)
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != 0 || err != nil || strings.Join(rows[0], ",") != strings.Join(vmmap.CSVHeader, ",") || len(rows) < 10 {
			t.Errorf("exit %d, %v, output:\n%.300s", code, err, out)
		}
	})
	for _, args := range [][]string{{"--format", "json"}, {"-o", "-"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, _ := runMapCmd(t, append(args, base...)...)
			s, err := vmmap.ReadJSON(strings.NewReader(out))
			if code != 0 || err != nil || s.PID != 4242 {
				t.Errorf("exit %d, %v, output:\n%.300s", code, err, out)
			}
		})
	}
	for _, tt := range []struct{ args, want string }{
		{"--regions --sort bogus", "unknown sort key"},
		{"--regions --type nosuch", "unknown region type"},
		{"--type heap", "apply to --regions"},
		{"--format xml", "want json or csv"},
		{"--format json -o m.png", "takes no -o"},
	} {
		code, _, errOut := runMapCmd(t, append(strings.Fields(tt.args), base...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestWriteAtomicallyHidesTheTemporaryName: a failed rename (here: onto a
// directory) names the file the user asked for, not the temporary one
// (issue 13, defect 11).
func TestWriteAtomicallyHidesTheTemporaryName(t *testing.T) {
	dir := tempdir.New(t)
	target := filepath.Join(dir, "map.json")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{target, filepath.Join(dir, "no such dir", "map.json")} {
		err := writeAtomically(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}"); return err })
		if err == nil || strings.Contains(err.Error(), ".tmp") || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("error %v: want it to name %s and no temporary file", err, path)
		}
	}
}

// TestMapSaysWhenAttributionIsUnavailable: a process without [anon:] names
// gets one line saying its heaps cannot be attributed and why (issue 13).
func TestMapSaysWhenAttributionIsUnavailable(t *testing.T) {
	for _, tt := range []struct {
		root, pid string
		want      bool
	}{{"../../vmmap/testdata/arenas/proc", "25938", true}, {anonFixture, "4242", false}} {
		code, out, errOut := runMapCmd(t, "--proc", tt.root, tt.pid)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if got := strings.Contains(out, "Heap attribution unavailable: no mapping of this process has an [anon:NAME] name"); got != tt.want {
			t.Errorf("%s: attribution line %v, want %v", tt.root, got, tt.want)
		}
	}
}

// TestMapExplain: the terminal view marks system owners and points to
// --explain once; --explain says once, in full, how each owner present was
// recognised and what the letters of this OS's types mean, and every line
// still fits 100 columns (issue 13).
func TestMapExplain(t *testing.T) {
	const (
		rules   = "How those here were recognised:"
		pointer = "zebra map --explain"
	)
	for _, tt := range []struct {
		name       string
		args       []string
		want, not  []string
		wantRules  int
		wantPoints int
	}{
		{"jvm", []string{"--proc", "../../vmmap/testdata/jvm/proc", "18871"},
			[]string{"Java heap *", "Heap attribution unavailable"}, []string{"libjvm.so mapped"}, 0, 1},
		{"jvm explained", []string{"--explain", "--proc", "../../vmmap/testdata/jvm/proc", "18871"},
			[]string{"Java heap: a heuristic, with libjvm.so mapped", "glibc arena: glibc's", "T Stack:", "Heap attribution unavailable"},
			[]string{"Unusable", "Page Table", "jemalloc", "mimalloc"}, 1, 0},
		{"jemalloc explained", []string{"--explain", "--proc", "../../vmmap/testdata/jemalloc/proc", "12289"},
			[]string{"jemalloc arena *", "jemalloc arena: a heuristic, with libjemalloc.so mapped"}, []string{"Unusable", "mimalloc"}, 1, 0},
		{"mimalloc explained", []string{"--explain", "--proc", "../../vmmap/testdata/mimalloc/proc", "12301"},
			[]string{"mimalloc arena *", "mimalloc arena: a heuristic, with libmimalloc.so mapped"}, []string{"Unusable", "glibc arena"}, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMapCmd(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("output has %q", w)
				}
			}
			if n := strings.Count(out, rules); n != tt.wantRules {
				t.Errorf("%q %d times, want %d", rules, n, tt.wantRules)
			}
			if n := strings.Count(out, pointer); n != tt.wantPoints {
				t.Errorf("%q %d times, want %d", pointer, n, tt.wantPoints)
			}
			if n := strings.Count(out, "Resident is the"); n != 1 {
				t.Errorf("Committed and Resident explained %d times, want once", n)
			}
			for i, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > 100 {
					t.Errorf("line %d has %d columns: %q", i+1, n, l)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
	for _, args := range []string{"--explain --regions", "--explain --format json", "--explain -o m.png"} {
		code, _, errOut := runMapCmd(t, append(strings.Fields(args), "--proc", anonFixture, "4242")...)
		if code != 2 || !strings.Contains(errOut, "--explain applies to the terminal view") {
			t.Errorf("%s: exit %d, stderr %q", args, code, errOut)
		}
	}
}
