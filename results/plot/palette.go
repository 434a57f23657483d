package plot

import "image/color"

// Black is the Series.Color of black: references and marks, not runs.
const Black = -1

// Palette is the colours of runs, Series.Color indexing it modulo its length: the
// Okabe–Ito palette, whose colours people with any common colour-vision deficiency tell
// apart, in an order that puts the most distinct first (yellow, faint on white, last).
var Palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xff}, // blue
	{0xD5, 0x5E, 0x00, 0xff}, // vermillion
	{0x00, 0x9E, 0x73, 0xff}, // bluish green
	{0xE6, 0x9F, 0x00, 0xff}, // orange
	{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xff}, // sky blue
	{0x00, 0x00, 0x00, 0xff}, // black
	{0xF0, 0xE4, 0x42, 0xff}, // yellow
}

// seriesColor returns the colour of s, translucent when it is faint.
func seriesColor(s Series) color.NRGBA {
	c := color.NRGBA{0, 0, 0, 0xff}
	if s.Color != Black {
		c = Palette[((s.Color%len(Palette))+len(Palette))%len(Palette)]
	}
	if s.Weight == Faint {
		c.A = 0x60
	}
	return c
}
