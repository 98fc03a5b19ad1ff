package vmmap

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the column row of WriteCSV, modelled on VMMap's export
// (sizes in KiB, which VMMap labels "KB").
var CSVHeader = []string{
	"Address", "End", "Type", "State", "Size (KB)", "Committed (KB)", "Private (KB)",
	"RSS (KB)", "PSS (KB)", "Swap (KB)", "Blocks", "Protection", "Owner", "Details",
}

// WriteCSV writes the snapshot as VMMap exports it: a few "Key,Value"
// lines naming the source, the time and the span the free space was
// measured in, an empty line, then CSVHeader and one row per region in
// address order, including regions outside the span. Counters are rounded
// down to whole KiB. Blocks is 1 on the first region of an allocation and
// empty on the others and on regions outside the span, so summing the
// column counts allocations as the summary does.
func WriteCSV(w io.Writer, s *Snapshot) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"Source", s.Source})
	cw.Write([]string{"Taken", s.Taken.UTC().Format(time.RFC3339)})
	cw.Write([]string{"Span", s.Span.String()})
	cw.Write([]string{"Schema", "zebra.vmmap.csv/v1"})
	cw.Write(nil)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	kb := func(v uint64) string { return strconv.FormatUint(v>>10, 10) }
	seen := map[[2]uint64]bool{}
	for _, r := range s.Regions {
		blocks := ""
		k := r.blockKey()
		if !seen[k] && s.inSpan(r) {
			seen[k] = true
			blocks = "1"
		}
		err := cw.Write([]string{
			fmt.Sprintf("%#x", r.Start), fmt.Sprintf("%#x", r.End), r.Type.String(), r.State.String(),
			kb(r.Size()), kb(r.Committed), kb(r.Private), kb(r.RSS), kb(r.PSS), kb(r.Swap),
			blocks, r.Perms, r.Owner, r.Path,
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
