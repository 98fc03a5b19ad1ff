package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
)

// The churn trace is generated once per run and replayed by every peer, Go
// and C alike, so that all of them do exactly the same operations. Format
// (little-endian): "ZBTRACE1", uint32 slots, uint32 ops, then ops pairs of
// uint32 slot and uint32 size. The first slots ops fill every slot in
// order; the rest free and refill a random slot with a random size.

const traceMagic = "ZBTRACE1"

type traceOp struct{ slot, size uint32 }

type trace struct {
	slots uint32
	ops   []traceOp
}

// churnSizes are the bounds of the churn's block sizes, inclusive.
const churnMin, churnMax = 8, 1024

// writeTrace generates a trace with a fixed seed and writes it to path.
func writeTrace(path string, slots, ops int) error {
	if slots < 1 || ops < slots || ops > 1<<31 {
		return fmt.Errorf("trace: %d slots, %d ops", slots, ops)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(traceMagic)
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:4], uint32(slots))
	binary.LittleEndian.PutUint32(b[4:], uint32(ops))
	w.Write(b[:])
	r := rand.New(rand.NewPCG(9, 2026))
	for k := range ops {
		slot := uint32(k)
		if k >= slots {
			slot = uint32(r.IntN(slots))
		}
		binary.LittleEndian.PutUint32(b[:4], slot)
		binary.LittleEndian.PutUint32(b[4:], uint32(churnMin+r.IntN(churnMax-churnMin+1)))
		w.Write(b[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readTrace reads a trace and checks that every op stays in bounds.
func readTrace(path string) (*trace, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTrace(b)
}

func parseTrace(b []byte) (*trace, error) {
	if len(b) < 16 || string(b[:8]) != traceMagic {
		return nil, errors.New("trace: not a trace file")
	}
	slots := binary.LittleEndian.Uint32(b[8:])
	n := binary.LittleEndian.Uint32(b[12:])
	if uint64(len(b)-16) != 8*uint64(n) {
		return nil, fmt.Errorf("trace: %d ops announced, %d bytes of ops", n, len(b)-16)
	}
	t := &trace{slots: slots, ops: make([]traceOp, n)}
	for i := range t.ops {
		o := traceOp{binary.LittleEndian.Uint32(b[16+8*i:]), binary.LittleEndian.Uint32(b[20+8*i:])}
		if o.slot >= slots || o.size < churnMin || o.size > churnMax {
			return nil, fmt.Errorf("trace: op %d out of bounds (slot %d of %d, size %d)", i, o.slot, slots, o.size)
		}
		t.ops[i] = o
	}
	return t, nil
}
