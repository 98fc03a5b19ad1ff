//go:build windows

package vmmap

import (
	"golang.org/x/sys/windows"

	"github.com/zebra-heap/zebra/internal/winapi"
)

// wsBatch is how many pages one QueryWorkingSetEx call asks about: 16 MiB
// of 4 KiB pages, 64 KiB of answers.
const wsBatch = 4096

// readWorkingSet fills in each committed region's RSS (its pages in the
// working set) and Shared (those of them shared with other processes)
// with QueryWorkingSetEx, page by page. VMMap's Total WS and Shared WS
// columns. When the call fails — the process may not be read, or the
// system does not implement it — the figures stay zero. Wine 8 answers
// for the calling process only, and only through its pseudo-handle
// (GetCurrentProcess); for other processes it fails with
// ERROR_INVALID_PARAMETER.
func readWorkingSet(h windows.Handle, s *Snapshot) {
	page := uint64(winapi.GetSystemInfo().PageSize)
	buf := make([]winapi.WorkingSetExInfo, 0, wsBatch)
	type span struct{ region, n int }
	var spans []span // the regions in buf and their pages
	flush := func() bool {
		if err := winapi.QueryWorkingSetEx(h, buf); err != nil {
			return false
		}
		i := 0
		for _, sp := range spans {
			r := &s.Regions[sp.region]
			for _, w := range buf[i : i+sp.n] {
				if w.Attributes.Valid() {
					r.RSS += page
					if w.Attributes.Shared() {
						r.Shared += page
					}
				}
			}
			i += sp.n
		}
		buf, spans = buf[:0], spans[:0]
		return true
	}
	for ri := range s.Regions {
		r := &s.Regions[ri]
		if r.State != StateCommitted {
			continue
		}
		for a := r.Start; a < r.End; {
			n := 0
			for ; a < r.End && len(buf) < wsBatch; a += page {
				buf = append(buf, winapi.WorkingSetExInfo{VirtualAddress: uintptr(a)})
				n++
			}
			spans = append(spans, span{ri, n})
			if len(buf) == wsBatch && !flush() {
				return
			}
		}
	}
	if len(buf) > 0 {
		flush()
	}
}
