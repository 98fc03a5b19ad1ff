package vmmap

import "image/color"

// typeColors are Sysinternals VMMap's colours, matched by eye from its
// fragmentation view (approximate: VMMap documents no values), shared by the terminal
// view and the renderer so a type looks the same everywhere. VMMap has no
// colour for Unusable; a mid grey sets it apart from white Free space.
var typeColors = [...]color.RGBA{
	Free:        {0xFF, 0xFF, 0xFF, 0xFF},
	Image:       {0xD3, 0xA0, 0xFF, 0xFF},
	MappedFile:  {0xB1, 0xD7, 0xFF, 0xFF},
	Shareable:   {0xDD, 0xEF, 0xFF, 0xFF},
	Heap:        {0xFF, 0x96, 0x66, 0xFF},
	GoHeap:      {0xD4, 0xE3, 0x7A, 0xFF},
	Stack:       {0xFF, 0xC0, 0x82, 0xFF},
	PrivateData: {0xF4, 0xF4, 0x00, 0xFF},
	PageTable:   {0xD2, 0xA0, 0x9F, 0xFF},
	Unusable:    {0xA0, 0xA0, 0xA0, 0xFF},
}

// Color returns the type's VMMap colour; unknown types are black.
func (t Type) Color() color.RGBA {
	if int(t) < len(typeColors) {
		return typeColors[t]
	}
	return color.RGBA{A: 0xFF}
}

// typeLetters stand for the types in the one-line strip when colour is off.
var typeLetters = [...]byte{
	Free: '.', Image: 'I', MappedFile: 'M', Shareable: 'S', Heap: 'H',
	GoHeap: 'G', Stack: 'T', PrivateData: 'P', PageTable: 'K', Unusable: 'U',
}

// Letter returns the one-character symbol of the type in plain-text views:
// I Image, M Mapped File, S Shareable, H Heap, G Go heap, T Stack, P Private
// Data, K Page Table, U Unusable, '.' Free; '?' for unknown types.
func (t Type) Letter() byte {
	if int(t) < len(typeLetters) {
		return typeLetters[t]
	}
	return '?'
}
