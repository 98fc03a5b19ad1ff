package main

import (
	"os"
	"path/filepath"
	"testing"
)

// tempDir is t.TempDir for these tests, removed by the test itself: under
// Wine, t.TempDir's cleanup fails ("unlinkat …: Invalid function": Go's
// os.RemoveAll deletes through a directory handle with a call Wine does
// not implement), which fails every test that writes a file. Removing
// entry by entry with os.Remove works everywhere.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "zebra-"+filepath.Base(t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("removing the test's directory: %v", err)
		}
	})
	return dir
}

// removeTree removes dir and everything in it, deepest first.
func removeTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			err = removeTree(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil {
			return err
		}
	}
	return os.Remove(dir)
}
