package heapvar

import (
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zebra-heap/zebra/heap"
)

// atImport are the expvar variables there were once the packages were
// initialised, before any test ran.
var atImport []string

func init() {
	expvar.Do(func(kv expvar.KeyValue) { atImport = append(atImport, kv.Key) })
}

var seq atomic.Int64

// unique returns a variable name no earlier test (or -count run) took:
// expvar's variables are the process's.
func unique(name string) string { return fmt.Sprintf("%s-%d", name, seq.Add(1)) }

// TestNothingOnImport: importing the package publishes no variable and
// starts no goroutine; the package pulls in no picture or map code
// (net/http it does: expvar imports it to serve /debug/vars).
func TestNothingOnImport(t *testing.T) {
	for _, k := range atImport {
		if k != "cmdline" && k != "memstats" {
			t.Errorf("variable %q published without a call", k)
		}
	}
	before := runtime.NumGoroutine()
	if err := PublishAll(unique("import-check")); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("PublishAll started %d goroutines", n-before)
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skip("go list:", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "image") || strings.Contains(dep, "/vmmap") || strings.HasSuffix(dep, "/zebrahttp") {
			t.Errorf("heapvar depends on %s", dep)
		}
	}
}

func TestPublish(t *testing.T) {
	a, err := heap.New(heap.Options{Name: "var-A"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Destroy()
	if _, err := a.Alloc(100); err != nil {
		t.Fatal(err)
	}
	oneVar, allVar := unique("one"), unique("all")
	if err := Publish(oneVar, a); err != nil {
		t.Fatal(err)
	}
	if err := PublishAll(allVar); err != nil {
		t.Fatal(err)
	}
	var one Figure
	if err := json.Unmarshal([]byte(expvar.Get(oneVar).String()), &one); err != nil {
		t.Fatal(err)
	}
	if one.Name != "var-A" || one.Owner != a.Owner() || one.Stats.Blocks != 1 || one.Stats.InUse < 100 || one.Stats.Reserved == 0 {
		t.Errorf("one heap: %+v", one)
	}
	// Read when read: a second block shows at the next read.
	b, err := heap.New(heap.Options{Name: "var-B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Alloc(100); err != nil {
		t.Fatal(err)
	}
	var all []Figure
	if err := json.Unmarshal([]byte(expvar.Get(allVar).String()), &all); err != nil {
		t.Fatal(err)
	}
	ia := slices.IndexFunc(all, func(f Figure) bool { return f.Owner == a.Owner() })
	ib := slices.IndexFunc(all, func(f Figure) bool { return f.Owner == b.Owner() })
	if ia < 0 || ib < 0 || all[ia].Stats.Blocks != 2 || all[ib].Stats.Blocks != 0 {
		t.Errorf("all heaps: %+v; want var-A with 2 blocks and var-B empty", all)
	}
	// A destroyed heap leaves the list and reports zeros by name.
	b.Destroy()
	all = nil
	if err := json.Unmarshal([]byte(expvar.Get(allVar).String()), &all); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(all, func(f Figure) bool { return f.Name == "var-B" }) {
		t.Errorf("destroyed heap still listed: %+v", all)
	}
}

func TestPublishBadInput(t *testing.T) {
	h, err := heap.New(heap.Options{Name: "var-bad"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	taken, nilName := unique("taken"), unique("nil")
	if err := Publish(taken, h); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"taken", Publish(taken, h), ErrNameTaken},
		{"taken by All", PublishAll(taken), ErrNameTaken},
		{"expvar's own", PublishAll("memstats"), ErrNameTaken},
		{"empty", Publish("", h), ErrBadArgument},
		{"empty All", PublishAll(""), ErrBadArgument},
		{"nil heap", Publish(nilName, nil), ErrBadArgument},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if expvar.Get(nilName) != nil {
		t.Error("a refused Publish published")
	}
}

// TestPublishTags: a heap with tags publishes its live blocks per tag.
func TestPublishTags(t *testing.T) {
	tag, err := heap.NewTag("heapvar-records")
	if err != nil {
		t.Fatal(err)
	}
	h, err := heap.New(heap.Options{Name: "var-tags", Tags: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Destroy()
	for range 3 {
		if _, err := h.AllocTag(100, tag); err != nil {
			t.Fatal(err)
		}
	}
	name := unique("tags")
	if err := Publish(name, h); err != nil {
		t.Fatal(err)
	}
	var f Figure
	if err := json.Unmarshal([]byte(expvar.Get(name).String()), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Tags) != 1 || f.Tags[0].Name != "heapvar-records" || f.Tags[0].Blocks != 3 {
		t.Fatalf("published tags: %+v", f.Tags)
	}
}
