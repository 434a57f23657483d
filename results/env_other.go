//go:build !linux

package results

// detectPlatform leaves the Linux-only parts of e empty: CPU model, kernel, CPU list and
// clock source have no portable source.
func detectPlatform(e *Environment) {}
