//go:build !linux

package core

var extraClocks []struct {
	name string
	read func() int64
}
