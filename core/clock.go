package core

import (
	"time"
	_ "unsafe" // for go:linkname
)

// Clock is a run's time source. Every timestamp the framework, the NIC, the generator,
// the stack and a driver take, and every injected cost they spend, goes through the
// run's one Clock (PlatformConfig.Clock), so that a run can go on under another time
// source: today's real monotonic clock, a virtual clock in a simulated-time engine.
//
// Implementations must be safe for concurrent use by every vCPU and the generator.
type Clock interface {
	// Now returns the current time in nanoseconds on a scale every goroutine of the run
	// shares; values only ever grow.
	Now() int64
	// Spin spends d of this clock's time where the caller is, without blocking or
	// yielding: work done at dispatch level (R6), such as an MMIO read or per-packet
	// miniport work. A real clock busy-waits; a virtual one advances.
	Spin(d time.Duration)
}

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Monotonic is the real clock: the runtime's monotonic clock (CLOCK_MONOTONIC through
// the vDSO on Linux), the one time.Now reads for its monotonic part, without building a
// time.Time. It is the default of every run.
type Monotonic struct{}

var _ Clock = Monotonic{}

// Now returns the monotonic clock in nanoseconds; it has no relation to wall time.
func (Monotonic) Now() int64 { return nanotime() }

// Spin busy-waits for d.
func (Monotonic) Spin(d time.Duration) {
	if d <= 0 {
		return
	}
	end := nanotime() + int64(d)
	for nanotime() < end {
	}
}

// String returns MonotonicSource.
func (Monotonic) String() string { return MonotonicSource }

// MonotonicSource names the clock Monotonic reads, for result files.
const MonotonicSource = "runtime.nanotime (CLOCK_MONOTONIC, vDSO)"
