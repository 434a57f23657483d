package core

import (
	"time"
	_ "unsafe" // for go:linkname
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Now returns the hot-path timestamp in nanoseconds: the runtime's monotonic clock
// (CLOCK_MONOTONIC through the vDSO on Linux), the same clock time.Now reads for its
// monotonic part, without building a time.Time. Values are comparable across CPUs and
// threads of one process; they have no relation to wall time.
func Now() int64 { return nanotime() }

// ClockSource names the clock Now reads, for result files.
const ClockSource = "runtime.nanotime (CLOCK_MONOTONIC, vDSO)"

// SpinFor busy-waits for d nanoseconds without yielding: it stands for work done at
// dispatch level, which may not block or sleep (R6). Injected costs use it.
func SpinFor(d time.Duration) {
	if d <= 0 {
		return
	}
	end := nanotime() + int64(d)
	for nanotime() < end {
	}
}
