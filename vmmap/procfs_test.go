package vmmap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

// faultFS serves a procfs tree from files and fails on purpose: opening a
// name in openErr fails with that error; reading one in readErr fails after
// the first bytes, as a read of a process that exits midway does.
type faultFS struct {
	fs      fs.FS
	openErr map[string]error
	readErr map[string]error
}

func (f faultFS) Open(name string) (fs.File, error) {
	if err := f.openErr[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	file, err := f.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if err := f.readErr[name]; err != nil {
		return &failingFile{File: file, err: err}, nil
	}
	return file, nil
}

type failingFile struct {
	fs.File
	err  error
	read bool
}

func (f *failingFile) Read(p []byte) (int, error) {
	if f.read {
		return 0, &fs.PathError{Op: "read", Path: "smaps", Err: f.err}
	}
	f.read = true
	n, err := f.File.Read(p[:min(len(p), 100)])
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func TestProcErrors(t *testing.T) {
	fixture := os.DirFS("testdata/arenas/proc")
	const pid = "25938"
	zombie := fstest.MapFS{
		"7/stat":  {Data: []byte("7 (defunct thing) Z 1 7 0")},
		"7/smaps": {Data: nil},
		"8/stat":  {Data: []byte("8 (kworker/0:1) I 2 0 0")},
		"8/smaps": {Data: nil},
		"9/stat":  {Data: []byte("9 (no smaps) S 1 9 0")},
		"9/maps":  {Data: []byte("1000-2000 rw-p 00000000 00:00 0\n")},
		"10/stat": {Data: []byte("garbage")},
		"11/stat": {Data: []byte("11 (x) S")},
		"11/smaps": {Data: []byte("2000-3000 rw-p 00000000 00:00 0\n" +
			"1000-2000 rw-p 00000000 00:00 0\n")},
	}
	tests := []struct {
		name    string
		fs      fs.FS
		pid     string
		wantErr error
		wantMsg string
	}{
		{name: "missing process", fs: fixture, pid: "999999", wantErr: ErrNoProcess, wantMsg: "pid 999999"},
		{name: "not a pid", fs: fixture, pid: "12ab", wantErr: ErrNoProcess},
		{name: "zero pid", fs: fixture, pid: "0", wantErr: ErrNoProcess},
		{name: "negative pid", fs: fixture, pid: "-5", wantErr: ErrNoProcess},
		{name: "path escape", fs: fixture, pid: "../x", wantErr: ErrNoProcess},
		{
			name:    "another user's process",
			fs:      faultFS{fs: fixture, openErr: map[string]error{pid + "/smaps": syscall.EACCES}},
			pid:     pid,
			wantErr: ErrPermission,
			wantMsg: "pid 25938 (arenas): permission denied",
		},
		{
			name:    "ptrace refused",
			fs:      faultFS{fs: fixture, openErr: map[string]error{pid + "/smaps": syscall.EPERM}},
			pid:     pid,
			wantErr: ErrPermission,
		},
		{
			name:    "exits mid-read",
			fs:      faultFS{fs: fixture, readErr: map[string]error{pid + "/smaps": syscall.ESRCH}},
			pid:     pid,
			wantErr: ErrExited,
		},
		{
			name:    "vanishes between stat and smaps",
			fs:      faultFS{fs: fixture, openErr: map[string]error{pid + "/smaps": syscall.ENOENT, pid: syscall.ENOENT}},
			pid:     pid,
			wantErr: ErrNoProcess,
		},
		{name: "zombie", fs: zombie, pid: "7", wantErr: ErrExited, wantMsg: "pid 7 (defunct thing): process exited"},
		{name: "kernel thread", fs: zombie, pid: "8", wantErr: ErrNoAddressSpace},
		{name: "malformed stat", fs: zombie, pid: "10", wantErr: ErrParse},
		{name: "out of order", fs: zombie, pid: "11", wantErr: ErrParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Proc{FS: tt.fs}.Snapshot(tt.pid)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Snapshot(%q) = %v, want %v", tt.pid, err, tt.wantErr)
			}
			if s != nil {
				t.Errorf("snapshot returned with the error")
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line containing %q", err, tt.wantMsg)
			}
		})
	}
}

// TestProcMapsFallback reads a kernel without smaps: maps alone still gives
// every region, without counters.
func TestProcMapsFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"9/stat": {Data: []byte("9 (no smaps) S 1 9 0")},
		"9/maps": {Data: []byte("1000-2000 rw-p 00000000 00:00 0\n3000-5000 ---p 00000000 00:00 0\n")},
	}
	s, err := Proc{FS: fsys}.Snapshot("9")
	if err != nil {
		t.Fatal(err)
	}
	if s.VMAs != 2 || s.Span != (AddrRange{0x1000, 0x5000}) || len(s.Regions) != 3 || s.MaxMapCount != 0 {
		t.Errorf("got %d VMAs, span %v, %d regions, max %d", s.VMAs, s.Span, len(s.Regions), s.MaxMapCount)
	}
	if s.Regions[1].Type != Free || s.Regions[2].State != StateReserved {
		t.Errorf("regions %+v", s.Regions)
	}
}

// TestProcErrorPaths: errors name files by their full path under the
// procfs root, not relative to it.
func TestProcErrorPaths(t *testing.T) {
	root := filepath.Join("testdata", "arenas", "proc")
	tests := []struct {
		name    string
		p       Proc
		pid     string
		wantErr error
		wantMsg string
	}{
		{"NewProc", NewProc(root), "999999", ErrNoProcess, filepath.Join(root, "999999", "stat")},
		{"Root set by hand", Proc{FS: os.DirFS(root), Root: "/somewhere"}, "999999", ErrNoProcess,
			filepath.Join("/somewhere", "999999", "stat")},
		{"no Root", Proc{FS: os.DirFS(root)}, "999999", ErrNoProcess, "open 999999/stat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Snapshot(tt.pid)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), tt.wantMsg) {
				t.Errorf("Snapshot(%q) = %v, want %v naming %q", tt.pid, err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}
