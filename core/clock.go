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
// The zero Clock is the real clock: the runtime's monotonic clock (CLOCK_MONOTONIC
// through the vDSO on Linux), the one time.Now reads for its monotonic part, without
// building a time.Time. Its Now is a direct call behind one inlined nil check, so the
// hot path pays nothing for the seam. ClockOf runs a Clock on another TimeSource.
// A Clock is a small value, safe to copy and to use from every vCPU at once.
type Clock struct {
	src TimeSource // nil: the real monotonic clock
}

// TimeSource is a time source a Clock can run on instead of the real clock.
// Implementations must be safe for concurrent use by every vCPU and the generator.
type TimeSource interface {
	// Now returns the current time in nanoseconds on a scale every goroutine of the run
	// shares; values never decrease.
	Now() int64
	// Spin spends d of this source's time where the caller is, without blocking or
	// yielding: work done at dispatch level (R6), such as an MMIO read or per-packet
	// miniport work. A real clock busy-waits; a virtual one advances.
	Spin(d time.Duration)
}

// ClockOf returns a Clock that reads src; a nil src gives the real clock.
func ClockOf(src TimeSource) Clock { return Clock{src: src} }

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Now returns the clock's time in nanoseconds. On the real clock it has no relation to
// wall time; values are comparable across CPUs and threads of one process.
func (c Clock) Now() int64 {
	if c.src == nil {
		return nanotime()
	}
	return c.src.Now()
}

// Spin spends d of the clock's time without blocking or yielding: on the real clock, a
// busy-wait.
func (c Clock) Spin(d time.Duration) {
	if c.src != nil {
		c.src.Spin(d)
		return
	}
	if d <= 0 {
		return
	}
	end := nanotime() + int64(d)
	for nanotime() < end {
	}
}

// String names the clock's source, for result files: MonotonicSource for the real
// clock, else the source's String when it has one.
func (c Clock) String() string {
	if c.src == nil {
		return MonotonicSource
	}
	if s, ok := c.src.(interface{ String() string }); ok {
		return s.String()
	}
	return "a custom time source"
}

// MonotonicSource names the real clock, for result files.
const MonotonicSource = "runtime.nanotime (CLOCK_MONOTONIC, vDSO)"
