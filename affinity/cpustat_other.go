//go:build !linux

package affinity

import (
	"fmt"
	"runtime"
)

// SampleHost is not available outside Linux: it fails with ErrNoHostStats, and a run
// records its host interference as unknown.
func SampleHost() (HostSample, error) {
	return HostSample{}, fmt.Errorf("affinity: %w on %s", ErrNoHostStats, runtime.GOOS)
}
