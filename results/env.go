package results

import (
	"bufio"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
)

// DetectEnvironment describes the running process and machine with what it can find
// portably: Go version, GOOS, GOARCH, GOMAXPROCS, NumCPU, the host name and which
// ndisbench this is (ToolVersion and Commit, from CurrentBuild) everywhere;
// on Linux also the CPU model (/proc/cpuinfo), the kernel release (uname), the CPUs the
// process may run on (its affinity mask) and the kernel clock source. It measures
// ClockCostNs as the cost of reading Go's monotonic clock (time.Since), which takes about
// a millisecond. Pinned is left false: the caller that pins threads sets it, and may
// replace CPUs with the list it actually used and ClockCostNs with its own clock's cost.
func DetectEnvironment() Environment {
	e := Environment{
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
	}
	b := CurrentBuild()
	e.ToolVersion, e.Commit = b.Version, b.Commit
	if h, err := os.Hostname(); err == nil {
		e.Hostname = h
	}
	detectPlatform(&e)
	base := time.Now()
	e.ClockCostNs = MeasureClockCost(func() int64 { return int64(time.Since(base)) })
	return e
}

// MeasureClockCost returns the cost in nanoseconds of one call to clock, the best of a
// few batches of calls timed with Go's monotonic clock. clock must be safe to call many
// thousands of times; its results are discarded.
func MeasureClockCost(clock func() int64) float64 {
	const batches, perBatch = 5, 20000
	best := -1.0
	var sink int64
	for range batches {
		t0 := time.Now()
		for range perBatch {
			sink += clock()
		}
		ns := float64(time.Since(t0)) / perBatch
		if best < 0 || ns < best {
			best = ns
		}
	}
	clockSink = sink
	return best
}

// clockSink keeps MeasureClockCost's calls from being optimised away.
var clockSink int64

// cpuModelKeys are /proc/cpuinfo keys naming the CPU model, by preference: x86 and most
// others use "model name"; some ARM kernels give "Model" or "Processor", MIPS "cpu model",
// POWER "cpu".
var cpuModelKeys = []string{"model name", "Model", "Processor", "cpu model", "cpu"}

// parseCPUModel returns the CPU model named in a /proc/cpuinfo listing, "" if none is.
func parseCPUModel(r io.Reader) string {
	found := make(map[string]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if _, dup := found[key]; !dup && val != "" {
			found[key] = val
		}
	}
	for _, k := range cpuModelKeys {
		if v, ok := found[k]; ok {
			return v
		}
	}
	return ""
}

// formatCPUList formats ascending CPU numbers as a list of ranges: "0-3,6".
func formatCPUList(cpus []int) string { return affinity.CPUList(cpus).String() }
