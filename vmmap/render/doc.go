// Package render draws address-space snapshots (vmmap.Snapshot) as pictures:
// a PNG fragmentation view in the style of Sysinternals VMMap, the same view
// as SVG with a tooltip per region, and a self-contained HTML report that
// puts summary tables, free blocks, owners and before/after pictures side by
// side.
//
// # The fragmentation view
//
// Addresses run left to right, then top to bottom, like text. Only the
// snapshot's Span is drawn (regions straddling it are clipped, regions
// outside it are counted in the caption), or every region when the span is
// empty; gaps between regions are drawn as free space. The drawing is
// a stream of cells, one pixel wide and Options.RowHeight pixels tall, each
// standing for a fixed number of bytes (Options.BytesPerPixel, a power of two
// chosen automatically when zero). Reading the stream in row order visits
// addresses in increasing order, so a run of cells of one colour is a
// contiguous range of the address space, and a stripe in the picture is one
// of vmmap.Owners' Ranges: the tests count the runs of each heap's colours
// in the decoded PNG and compare them with OwnerStats.Stripes.
//
// Rounding rule: a cell has the colour of the region that holds the cell's
// first address, with two corrections that keep every region visible:
//
//   - every region gets at least one cell, however small;
//   - when tiny regions before it pushed the stream forward, a region starts
//     right after its predecessor, and the extra cells come out of the next
//     region that is large enough to give them up.
//
// So a picture never hides a region and never merges two ranges separated by
// a gap, at the price of inflating regions smaller than a cell to one cell.
// An address inside a region that spans a few cells maps to a cell of that
// region's colour (see layout.cellOf).
//
// Folding: the 64-bit address space is mostly empty, so free gaps larger than
// Options.FoldGapsAbove are not drawn to scale: the current row is finished
// with the fold colour and a zigzag band labelled "folded: 126.6 TiB free,
// LO-HI, not drawn to scale" is inserted before the next row. By default
// nothing is folded when the drawn range is 4 GiB or less (a 32-bit process
// or an emulated window is drawn whole, as VMMap does); in larger ranges
// free gaps larger than a quarter of the memory in use, and at least
// 64 MiB, are folded. A fold is never silent: the band names the bytes and
// the addresses it stands for, and the caption the total folded.
//
// Colours: each VMMap type has VMMap's colour; every zebra heap (a region of
// type vmmap.Heap with an Owner that is not a system owner such as a glibc
// arena, see vmmap.IsSystemOwner) gets its own shade of the heap colour, in
// order of first appearance; reserved (owned but not committed) ranges are
// drawn as a lighter tint of their committed colour. Shades repeat after
// eight owners; the legend still lists every owner with its stripe count.
// Options.Owners pins the order so that a heap keeps its shade from one
// picture to the next. Palette gives these colours (and the legend's names)
// to code that draws a snapshot by other means: zebra report's page draws
// any frame of a timeline in its script with them.
//
// # The HTML report
//
// HTML writes a Report: sections of snapshots shown side by side, each with
// its picture (inline SVG), VMMap's summary table, the largest free blocks
// and the owners; a pair of snapshots also gets a comparison (free space,
// largest free block, zebra score) and the list of vmmap.Diff changes.
// Pictures side by side share one scale and, unless Options.Width is set,
// are 512 pixels wide. The page has no script and loads nothing.
//
// # Limits
//
// The PNG and SVG are exact about order and adjacency, approximate about
// sizes below one cell. Text is measured and drawn with the Go fonts; the
// SVG names them first and stretches each text to the measured width, so
// another font cannot make labels overlap. Runes the Go fonts lack show as
// their replacement glyph in the PNG. Pictures are bounded by MaxCells and
// MaxPixels (ErrTooLarge beyond).
package render
