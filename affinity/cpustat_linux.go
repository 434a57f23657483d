package affinity

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// SampleHost reads the host's per-CPU times (/proc/stat) and this process's CPU time
// (getrusage). It costs a few tens of microseconds.
func SampleHost() (HostSample, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return HostSample{}, fmt.Errorf("affinity: getrusage: %w", err)
	}
	data, err := os.ReadFile("/proc/stat")
	at := time.Now()
	if err != nil {
		return HostSample{}, fmt.Errorf("affinity: %w: %w", ErrNoHostStats, err)
	}
	per, err := ParseProcStat(data)
	if err != nil {
		return HostSample{}, err
	}
	self := ru.Utime.Nano() + ru.Stime.Nano()
	return HostSample{At: at, PerCPU: per, Self: self}, nil
}
