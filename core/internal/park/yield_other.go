//go:build !linux

package park

import "runtime"

// Yield yields to the Go scheduler: outside Linux there is no sched_yield to call
// without cgo, and the model stays correct (the measured path is Linux's).
func Yield() { runtime.Gosched() }
