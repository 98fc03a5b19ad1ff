package vmmap

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// CSVHeader is the column row of WriteCSV, modelled on VMMap's export
// (sizes in KiB, which VMMap labels "KB"). Committed is the commit charge;
// Resident (RSS) and the columns after it are Linux's smaps counters.
var CSVHeader = []string{
	"Address", "End", "Type", "State", "Size (KB)", "Committed (KB)", "Resident (KB)", "PSS (KB)",
	"Private (KB)", "Shared (KB)", "Swap (KB)", "AnonHugePages (KB)", "Blocks", "Protection", "Owner", "Details",
}

// WriteCSV writes the snapshot for spreadsheets and pipes: CSVHeader, then
// one row per region in address order, including regions outside the span;
// no preamble, so every line after the first is a region (the source, time
// and span are in the JSON form). Counters are rounded down to whole KiB.
// Blocks is 1 on the first region of an allocation and empty on the
// others and on regions outside the span, so summing the column counts
// allocations as the summary does.
func WriteCSV(w io.Writer, s *Snapshot) error {
	cw := csv.NewWriter(w)
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
			kb(r.Size()), kb(r.Committed), kb(r.RSS), kb(r.PSS), kb(r.Private), kb(r.Shared), kb(r.Swap),
			kb(r.AnonHuge), blocks, r.Perms, r.Owner, r.Path,
		})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
