// Package render draws address-space snapshots (vmmap.Snapshot) as pictures:
// a PNG fragmentation view in the style of Sysinternals VMMap, the same view
// as SVG with a tooltip per region, and a self-contained HTML report that
// puts summary tables, free blocks, owners and before/after pictures side by
// side.
//
// # The fragmentation view
//
// Addresses run left to right, then top to bottom, like text. The drawing is
// a stream of cells, one pixel wide and Options.RowHeight pixels tall, each
// standing for a fixed number of bytes (Options.BytesPerPixel, a power of two
// chosen automatically when zero). Reading the stream in row order visits
// addresses in increasing order, so a run of cells of one colour is a
// contiguous range of the address space and a "stripe" in the picture is a
// range in the snapshot.
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
// with the fold colour and a labelled band ("127 TiB free not drawn") is
// inserted before the next row. By default nothing is folded in spans of
// 4 GiB or less (a 32-bit process or an emulated window is drawn whole, as
// VMMap does), and in larger spans free gaps larger than the memory in use
// (at least 64 MiB) are folded. A fold is never silent: the band names the
// number of bytes and the addresses it stands for.
//
// Colours: each VMMap type has VMMap's colour; every zebra heap (a region of
// type vmmap.Heap with an Owner) gets its own shade of the heap colour, in
// order of first appearance; reserved (owned but not committed) ranges are
// drawn as a lighter tint of their committed colour. Shades repeat after
// len(heapShades) owners; the legend still lists every owner.
//
// # Limits
//
// The PNG and SVG are exact about order and adjacency, approximate about
// sizes below one cell. Text uses the Go fonts and is drawn in the PNG;
// only ASCII-safe labels are guaranteed to render, other runes show as the
// font's replacement glyph.
package render
