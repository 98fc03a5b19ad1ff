// Package tempdir gives tests a temporary directory that they remove
// themselves: testing's TempDir, but one whose cleanup works under Wine.
//
// Under Wine, t.TempDir's cleanup fails ("unlinkat …: Invalid function":
// Go's os.RemoveAll deletes through a directory handle with a call Wine
// does not implement), which fails every test that writes a file there.
// Removing entry by entry with os.Remove works everywhere. The Windows
// tests of this repository run under Wine in CI, so every test that needs
// a directory takes it from here.
package tempdir

import (
	"os"
	"path/filepath"
	"testing"
)

// New returns a new directory, removed with everything in it when the test
// and its subtests end.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "zebra-"+filepath.Base(t.Name())+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := RemoveTree(dir); err != nil {
			t.Errorf("removing the test's directory: %v", err)
		}
	})
	return dir
}

// RemoveTree removes dir and everything in it, deepest first.
func RemoveTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			err = RemoveTree(p)
		} else {
			err = os.Remove(p)
		}
		if err != nil {
			return err
		}
	}
	return os.Remove(dir)
}
