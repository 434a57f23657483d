//go:build !linux

package calibrate

var extraClocks []struct {
	name string
	read func() int64
}
