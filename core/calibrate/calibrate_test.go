package calibrate

import (
	"errors"
	"testing"

	"github.com/ndisbench/ndisbench/affinity"
)

func TestCachelineRTT(t *testing.T) {
	if _, err := CachelineRTT(0, 0, 10); err == nil {
		t.Error("one CPU: want an error")
	}
	allowed, err := affinity.Allowed()
	if err != nil || len(allowed) < 2 {
		t.Skip("needs two CPUs")
	}
	ns, err := CachelineRTT(allowed[0], allowed[1], 200)
	if errors.Is(err, affinity.ErrPinRefused) {
		t.Skipf("pinning refused: %v", err)
	}
	if err != nil || ns <= 0 {
		t.Errorf("rtt %v ns, %v: want a positive figure", ns, err)
	}
}
