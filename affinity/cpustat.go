package affinity

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Host CPU accounting: how much of a set of CPUs something other than this process
// used over a window. A run reads it before and after its measured window to tell a
// measurement of the model from a measurement of a busy host.

// CPUTime is what the kernel says one CPU spent, in nanoseconds since boot.
type CPUTime struct {
	// Busy is time spent running anything: user, nice, system, hard and soft
	// interrupts (guest time is inside user).
	Busy int64
	// Steal is time the hypervisor ran something else while this CPU wanted to run.
	Steal int64
	// Idle is idle and iowait time.
	Idle int64
}

// HostSample is the host's CPU accounting at one instant.
type HostSample struct {
	At     time.Time
	PerCPU map[int]CPUTime // by CPU number
	Self   int64           // CPU time this process used since it started, ns (user + system)
}

// ErrNoHostStats is the errors.Is target of SampleHost where the OS does not say (outside
// Linux, or /proc not mounted).
var ErrNoHostStats = errors.New("host CPU accounting not available")

// Interference is what other work did to a set of CPUs between two samples.
type Interference struct {
	Window  time.Duration
	CPUs    int   // CPUs the figures cover
	OtherNs int64 // CPU time used on them by other processes and the kernel's interrupts
	StealNs int64 // CPU time the hypervisor took from them
}

// Pct returns ns as a percentage of the CPUs' combined time over the window; 0 for an
// empty window.
func (in Interference) Pct(ns int64) float64 {
	capacity := float64(in.Window) * float64(in.CPUs)
	if capacity <= 0 {
		return 0
	}
	return 100 * float64(ns) / capacity
}

// Between returns what happened on cpus between before and after. Other is the CPUs'
// busy time less this process's own CPU time and less two ticks per CPU of rounding,
// clamped at 0: where this process also ran
// on CPUs outside the set (an unpinned goroutine), Other is an underestimate. A CPU
// missing from either sample is left out of the figures.
func Between(before, after HostSample, cpus CPUList) Interference {
	in := Interference{Window: after.At.Sub(before.At)}
	var busy int64
	for _, c := range cpus {
		b, ok1 := before.PerCPU[c]
		a, ok2 := after.PerCPU[c]
		if !ok1 || !ok2 {
			continue
		}
		in.CPUs++
		busy += max(0, a.Busy-b.Busy)
		in.StealNs += max(0, a.Steal-b.Steal)
	}
	// /proc/stat counts in ticks, so each CPU's busy time may read up to a tick high at
	// each end; getrusage is exact. Other is given the benefit of that doubt, so that a
	// short window does not read rounding as interference.
	slack := 2 * int64(time.Second/userHz) * int64(in.CPUs)
	in.OtherNs = max(0, busy-(after.Self-before.Self)-slack)
	return in
}

// userHz is the unit of /proc/stat's times: USER_HZ, 100 on every Linux architecture Go
// supports (the kernel's ABI fixes it, whatever CONFIG_HZ is).
const userHz = 100

// ParseProcStat reads the per-CPU lines ("cpuN user nice system idle iowait irq softirq
// steal ...") of a /proc/stat text. Lines it does not know are skipped; a per-CPU line
// with fewer than four times, a time that is not a non-negative integer, or a CPU listed
// twice is an error.
func ParseProcStat(data []byte) (map[int]CPUTime, error) {
	out := map[int]CPUTime{}
	for line := range bytes.Lines(data) {
		f := bytes.Fields(line)
		if len(f) == 0 || !bytes.HasPrefix(f[0], []byte("cpu")) || len(f[0]) == 3 {
			continue // the "cpu" total line, intr, ctxt, ...
		}
		cpu, err := strconv.Atoi(string(f[0][3:]))
		if err != nil || cpu < 0 {
			return nil, fmt.Errorf("affinity: /proc/stat: bad CPU %q", f[0])
		}
		if _, dup := out[cpu]; dup {
			return nil, fmt.Errorf("affinity: /proc/stat: cpu%d listed twice", cpu)
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("affinity: /proc/stat: cpu%d: %d times, want at least 4", cpu, len(f)-1)
		}
		var t [8]int64 // user nice system idle iowait irq softirq steal
		for i := 0; i < len(t) && i+1 < len(f); i++ {
			v, err := strconv.ParseInt(string(f[i+1]), 10, 64)
			if err != nil || v < 0 || v > maxTicks {
				return nil, fmt.Errorf("affinity: /proc/stat: cpu%d: bad time %q", cpu, f[i+1])
			}
			t[i] = v
		}
		const tick = int64(time.Second / userHz)
		out[cpu] = CPUTime{
			Busy:  (t[0] + t[1] + t[2] + t[5] + t[6]) * tick,
			Idle:  (t[3] + t[4]) * tick,
			Steal: t[7] * tick,
		}
	}
	return out, nil
}

// maxTicks keeps every sum of ParseProcStat within int64 nanoseconds (about 29 years
// of one CPU, per field).
const maxTicks = 1 << 36
