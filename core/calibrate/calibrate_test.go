package calibrate

import (
	"errors"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
)

func TestCachelineRTT(t *testing.T) {
	if _, err := CachelineRTT(0, 0, 10, time.Second); err == nil {
		t.Error("one CPU: want an error")
	}
	allowed, err := affinity.Allowed()
	if err != nil || len(allowed) < 2 {
		t.Skip("needs two CPUs")
	}
	ns, err := CachelineRTT(allowed[0], allowed[1], 200, time.Minute)
	if errors.Is(err, affinity.ErrPinRefused) {
		t.Skipf("pinning refused: %v", err)
	}
	if err != nil || ns <= 0 {
		t.Errorf("rtt %v ns, %v: want a positive figure", ns, err)
	}
}

// TestCachelineRTTGivesUp: a limit that has passed before the first round trip gives an
// error, never a figure.
func TestCachelineRTTGivesUp(t *testing.T) {
	allowed, err := affinity.Allowed()
	if err != nil || len(allowed) < 2 {
		t.Skip("needs two CPUs")
	}
	if ns, err := CachelineRTT(allowed[0], allowed[1], 1<<30, time.Nanosecond); err == nil {
		t.Errorf("got %v ns within 1 ns for 2^30 round trips, want an error", ns)
	}
}
