package render

import (
	"fmt"
	"image"
	"image/color"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Faces for the PNG's text: the Go fonts, parsed once. A face keeps a glyph
// cache and is not safe for concurrent use, so each picture makes its own
// faces from the shared parsed fonts.
var (
	fontsOnce          sync.Once
	fontRegular, fontB *opentype.Font
	fontErr            error
)

type faces struct {
	label, title font.Face
}

func newFaces() (*faces, error) {
	fontsOnce.Do(func() {
		if fontRegular, fontErr = opentype.Parse(goregular.TTF); fontErr != nil {
			return
		}
		fontB, fontErr = opentype.Parse(gobold.TTF)
	})
	if fontErr != nil {
		return nil, fmt.Errorf("render: loading the Go fonts: %w", fontErr)
	}
	label, err := opentype.NewFace(fontRegular, &opentype.FaceOptions{Size: 12, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("render: font face: %w", err)
	}
	title, err := opentype.NewFace(fontB, &opentype.FaceOptions{Size: 15, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("render: font face: %w", err)
	}
	return &faces{label: label, title: title}, nil
}

// drawText draws s with its baseline at (x, y) and returns the x after it.
func drawText(dst *image.RGBA, face font.Face, x, y int, c color.RGBA, s string) int {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return d.Dot.X.Ceil()
}

// textWidth returns the advance of s in pixels.
func textWidth(face font.Face, s string) int { return font.MeasureString(face, s).Ceil() }
