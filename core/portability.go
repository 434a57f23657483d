package core

import "github.com/ndisbench/ndisbench/core/internal/park"

// IdleFallback says how idle strategy s runs on goos when that OS lacks what it is
// built on, for a run to record and print: spin-park parks on a futex and spin-yield
// calls sched_yield on Linux, the measured path; elsewhere both poll the Go scheduler
// instead (correct, but not what DESIGN.md measures). "" when s runs as designed.
func IdleFallback(s IdleStrategy, goos string) string {
	switch s {
	case IdleSpinPark:
		return park.ParkFallback(goos)
	case IdleSpinYield:
		return park.YieldFallback(goos)
	}
	return ""
}
