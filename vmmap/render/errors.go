package render

import "errors"

// Errors returned by PNG, SVG and HTML. Each is wrapped with details; test
// with errors.Is.
var (
	// ErrNilSnapshot is returned when a snapshot argument is nil.
	ErrNilSnapshot = errors.New("render: nil snapshot")

	// ErrEmptySnapshot is returned for a snapshot with no regions and an
	// empty span: there is nothing to draw.
	ErrEmptySnapshot = errors.New("render: empty snapshot")

	// ErrBadSnapshot is returned when regions are empty (End <= Start),
	// overlap, or are not in address order.
	ErrBadSnapshot = errors.New("render: malformed snapshot")

	// ErrBadOptions is returned for negative or out-of-range Options
	// (Width, RowHeight, BytesPerPixel that is not a power of two).
	ErrBadOptions = errors.New("render: invalid options")

	// ErrTooLarge is returned when the picture would need more than
	// MaxCells cells, for example a 64-bit span drawn with folding
	// disabled and a small BytesPerPixel.
	ErrTooLarge = errors.New("render: picture too large")

	// ErrNoSnapshots is returned by HTML for a report without any
	// snapshot or table to show.
	ErrNoSnapshots = errors.New("render: report has nothing to show")
)
