package timeline

import (
	"github.com/zebra-heap/zebra/vmmap"
)

// Point is the figures of one snapshot that a timeline charts.
type Point struct {
	VMAs, MaxMapCount int
	// Committed is the summary's committed total: bytes counting towards
	// the commit charge (Region.Committed: on Linux the mappings the
	// kernel accounts, smaps VmFlags "ac"; on Windows MEM_COMMIT).
	// Resident is the sum of the regions' RSS, the working set.
	Committed, Resident uint64
	// Largest is the largest free block within the span.
	Largest uint64
	// ZebraScore is vmmap.ZebraScore.
	ZebraScore int
	// Stripes counts the stripes of each zebra heap and system owner
	// (vmmap.Owners), when the snapshot attributes regions to owners.
	Stripes map[string]int
	// AnonMappings counts the mappings of anonymous private memory
	// (Private Data without a file or owner): how the stripes of a process
	// whose heaps the kernel cannot name (no PR_SET_VMA_ANON_NAME) show
	// from outside, where Stripes stays empty.
	AnonMappings int
}

// Measure computes the Point of s.
func Measure(s *vmmap.Snapshot) Point {
	sum := vmmap.Summarize(s)
	p := Point{
		VMAs: s.VMAs, MaxMapCount: s.MaxMapCount,
		Committed: sum.Total.Committed, Largest: sum.Row(vmmap.Free).Largest,
		ZebraScore: vmmap.ZebraScore(s), Stripes: map[string]int{},
	}
	for _, r := range s.Regions {
		p.Resident += r.RSS
		if r.Type == vmmap.PrivateData && r.Path == "" && r.Owner == "" {
			p.AnonMappings++
		}
	}
	for _, o := range vmmap.Owners(s) {
		p.Stripes[o.Owner] = o.Stripes
	}
	return p
}
