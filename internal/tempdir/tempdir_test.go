package tempdir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestNewIsRemoved(t *testing.T) {
	var dir string
	t.Run("inner", func(t *testing.T) {
		dir = New(t)
		sub := filepath.Join(dir, "a", "b")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after its test: %v", dir, err)
	}
}

func TestRemoveTreeMissing(t *testing.T) {
	if err := RemoveTree(filepath.Join(os.TempDir(), "zebra-no-such-dir-tempdir")); err == nil {
		t.Error("RemoveTree of a missing directory: no error")
	}
}

// testingTempDir matches a call of testing's TempDir (t, b, tb or f), not
// os.TempDir.
var testingTempDir = regexp.MustCompile(`\b(t|b|tb|f)\.TempDir\(\)`)

// TestTestsUseNew keeps the module's tests on New: a test that calls
// testing's TempDir passes on Linux and fails under Wine in CI. Tests built
// only for Linux (_linux_test.go) may use either.
func TestTestsUseNew(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir // bench is its own module, Linux only
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "_linux_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if testingTempDir.Match(b) {
			t.Errorf("%s calls testing's TempDir: use tempdir.New(t), whose cleanup works under Wine", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
