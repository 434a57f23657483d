package park

import "fmt"

// ParkFallback says how Park works on goos when it cannot sleep on a futex, for a run to
// record and print; "" on Linux, where it does. Outside Linux a parked thread polls,
// yielding to the Go scheduler: the model stays correct, but the wake-up it measures is
// not a futex wake.
func ParkFallback(goos string) string {
	if goos == "linux" {
		return ""
	}
	return fmt.Sprintf("no futex on %s: a parked thread polls, yielding to the Go scheduler, instead of sleeping", goos)
}

// YieldFallback says how Yield works on goos when it has no sched_yield to call; "" on
// Linux, where it calls sched_yield.
func YieldFallback(goos string) string {
	if goos == "linux" {
		return ""
	}
	return fmt.Sprintf("no sched_yield on %s: yields to the Go scheduler, not to the OS", goos)
}
