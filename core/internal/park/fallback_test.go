package park

import (
	"runtime"
	"strings"
	"testing"
)

// TestFallbacks: Linux has the futex and sched_yield paths; elsewhere the text says what
// runs instead, naming the OS. It runs on Linux and checks the other systems' text.
func TestFallbacks(t *testing.T) {
	if ParkFallback("linux") != "" || YieldFallback("linux") != "" {
		t.Errorf("linux has a fallback: %q, %q", ParkFallback("linux"), YieldFallback("linux"))
	}
	for _, goos := range []string{"darwin", "windows", "freebsd"} {
		p, y := ParkFallback(goos), YieldFallback(goos)
		if !strings.Contains(p, "no futex on "+goos) || !strings.Contains(p, "polls") {
			t.Errorf("ParkFallback(%s) = %q", goos, p)
		}
		if !strings.Contains(y, "no sched_yield on "+goos) {
			t.Errorf("YieldFallback(%s) = %q", goos, y)
		}
	}
	// The build this test runs in agrees with the text: futex_linux.go is built only on
	// Linux, futex_other.go everywhere else.
	if (ParkFallback(runtime.GOOS) == "") != (runtime.GOOS == "linux") {
		t.Errorf("%s: fallback %q", runtime.GOOS, ParkFallback(runtime.GOOS))
	}
}
