package vmmap

import "io"

// readAhead reads r in a goroutine of its own, a chunk ahead of the
// caller, so that the kernel writing a large /proc file (smaps of 60,000
// mappings: 90 MB, as long to write as to parse) and the parser work at
// the same time on two cores. Close must be called, and stops the
// goroutine; r is not closed.
type readAhead struct {
	full  chan chunk // read chunks, in order
	empty chan []byte
	done  chan struct{}
	cur   chunk
	off   int
}

type chunk struct {
	b   []byte
	err error
}

// readAheadChunk is the size of one read: cat's buffer.
const readAheadChunk = 128 << 10

func newReadAhead(r io.Reader) *readAhead {
	const chunks = 3
	ra := &readAhead{full: make(chan chunk, chunks), empty: make(chan []byte, chunks), done: make(chan struct{})}
	for range chunks {
		ra.empty <- make([]byte, readAheadChunk)
	}
	go func() {
		defer close(ra.full)
		for {
			var b []byte
			select {
			case b = <-ra.empty:
			case <-ra.done:
				return
			}
			n, err := r.Read(b[:cap(b)])
			select {
			case ra.full <- chunk{b[:n], err}:
			case <-ra.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.empty <- ra.cur.b[:0] // never blocks: the chunk came from there
		}
		c, ok := <-ra.full
		if !ok {
			return 0, io.ErrClosedPipe
		}
		ra.cur, ra.off = c, 0
	}
	n := copy(p, ra.cur.b[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops the reading goroutine.
func (ra *readAhead) Close() { close(ra.done) }
