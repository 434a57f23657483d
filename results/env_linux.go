//go:build linux

package results

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// detectPlatform fills the Linux-only parts of e.
func detectPlatform(e *Environment) {
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		e.CPUModel = parseCPUModel(f)
		f.Close()
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		var cpus []int
		for c, n := 0, set.Count(); len(cpus) < n; c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
		e.CPUs = formatCPUList(cpus)
	}
	if b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"); err == nil {
		e.ClockSource = strings.TrimSpace(string(b))
	}
}
