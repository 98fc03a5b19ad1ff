package vmmap

import "testing"

// TestClassifyJVM: a real OpenJDK 17 process read from outside, without
// [anon:] names: its Java heap, JIT code cache, glibc arenas and thread
// stacks are attributed by layout (issue 13).
func TestClassifyJVM(t *testing.T) {
	s := fixtureSnapshot(t, "jvm")
	got := map[string]OwnerStats{}
	for _, o := range Owners(s) {
		got[o.Owner] = o
	}
	for _, tt := range []struct {
		owner    string
		min, max uint64 // bytes of address space
		stripes  int
	}{
		{JavaHeapOwner, 500 << 20, 512 << 20, 1}, // -Xmx512m, below 4 GiB
		{JITCodeOwner, 200 << 20, 260 << 20, 3},  // the code cache's three segments
		{GlibcArenaOwner, 64 << 20, 2 << 30, 0},
	} {
		o, ok := got[tt.owner]
		if !ok {
			t.Errorf("no %s in the map", tt.owner)
			continue
		}
		if o.Bytes < tt.min || o.Bytes > tt.max || tt.stripes > 0 && o.Stripes != tt.stripes || !o.System {
			t.Errorf("%s: %d MiB in %d stripes, system %v; want %d-%d MiB in %d", tt.owner, o.Bytes>>20, o.Stripes, o.System,
				tt.min>>20, tt.max>>20, tt.stripes)
		}
	}
	stacks := 0
	for _, r := range s.Regions {
		if r.Type == Stack && r.State == StateCommitted {
			stacks++
		}
		if r.Owner == JavaHeapOwner && r.End > javaHeapBelow {
			t.Errorf("Java heap region %#x-%#x above 32 GiB", r.Start, r.End)
		}
	}
	if stacks < 5 {
		t.Errorf("%d thread stacks, want the JVM's threads (at least 5)", stacks)
	}
	if ZebraScore(s) != 0 {
		t.Errorf("zebra score %d: the JVM's memory is no zebra heap", ZebraScore(s))
	}
}
