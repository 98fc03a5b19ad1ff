package render

import (
	"fmt"
	"math/bits"
)

// Options control the fragmentation view. The zero value picks everything
// automatically.
type Options struct {
	// Title is drawn above the picture; empty means the snapshot's
	// Source.
	Title string

	// Width is the number of cells (pixels) per row: 0 means
	// DefaultWidth; otherwise between MinWidth and MaxWidth.
	Width int

	// RowHeight is the height of one row of cells in pixels: 0 picks it
	// so that the map is about 600 pixels tall (1 to 16); otherwise 1 to
	// 64.
	RowHeight int

	// BytesPerPixel is the number of bytes one cell stands for; 0 picks
	// the smallest power of two that draws the snapshot in about
	// targetRows rows. It must be a power of two so that the scale reads
	// as a round number ("1 row = 16 MiB").
	BytesPerPixel uint64

	// FoldGapsAbove folds free gaps larger than this many bytes into a
	// labelled break. 0 is automatic (see the package documentation);
	// NeverFold draws every gap to scale.
	FoldGapsAbove uint64

	// Owners fixes the order in which zebra heaps get their shades, so
	// that a heap keeps its colour across the pictures of a report (the
	// HTML report passes the owners of all its snapshots). Owners not
	// listed follow in order of first appearance.
	Owners []string
}

// Limits on Options and on the picture's size.
const (
	DefaultWidth = 1024
	MinWidth     = 64
	MaxWidth     = 8192
	// MaxCells bounds the stream of cells (Width × rows), so a bad scale
	// returns ErrTooLarge instead of exhausting memory.
	MaxCells = 1 << 22
	// MaxPixels bounds the PNG (width × height), about 128 MiB of RGBA.
	MaxPixels = 1 << 25
	// NeverFold disables folding when used as Options.FoldGapsAbove.
	NeverFold = ^uint64(0)

	targetRows   = 256 // automatic scale aims at about this many rows
	targetHeight = 768 // automatic row height aims at this many pixels
	maxRowHeight = 64
)

// check reports bad options with ErrBadOptions.
func (o Options) check() error {
	switch {
	case o.Width != 0 && (o.Width < MinWidth || o.Width > MaxWidth):
		return fmt.Errorf("%w: Width %d not in [%d, %d]", ErrBadOptions, o.Width, MinWidth, MaxWidth)
	case o.RowHeight < 0 || o.RowHeight > maxRowHeight:
		return fmt.Errorf("%w: RowHeight %d not in [0, %d]", ErrBadOptions, o.RowHeight, maxRowHeight)
	case o.BytesPerPixel != 0 && bits.OnesCount64(o.BytesPerPixel) != 1:
		return fmt.Errorf("%w: BytesPerPixel %d is not a power of two", ErrBadOptions, o.BytesPerPixel)
	}
	return nil
}

func (o Options) width() int {
	if o.Width == 0 {
		return DefaultWidth
	}
	return o.Width
}
