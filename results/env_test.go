package results

import (
	"runtime"
	"strings"
	"testing"
)

func TestParseCPUModel(t *testing.T) {
	tests := []struct {
		name, cpuinfo, want string
	}{
		// x86: the first "model name".
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13"},
		// Raspberry Pi style ARM: no model name, a "Model" line.
		{"arm model", "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"},
		// POWER: "cpu".
		{"power", "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nclock\t\t: 2166.000000MHz\n", "POWER9 (raw), altivec supported"},
		// "model name" wins over a "cpu" line before it.
		{"preference", "cpu\t: other\nmodel name\t: Intel Xeon\n", "Intel Xeon"},
		// Empty values do not count.
		{"empty value", "model name\t:\nModel\t: Board X\n", "Board X"},
		// Nothing known.
		{"none", "processor\t: 0\nflags\t: fpu\n", ""},
	}
	for _, tt := range tests {
		if got := parseCPUModel(strings.NewReader(tt.cpuinfo)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFormatCPUList(t *testing.T) {
	tests := []struct {
		cpus []int
		want string
	}{
		{nil, ""},                         // no CPUs
		{[]int{0}, "0"},                   // one
		{[]int{0, 1}, "0-1"},              // a range of two
		{[]int{0, 1, 2, 3, 6}, "0-3,6"},   // a range and a single
		{[]int{1, 3, 5, 6, 7}, "1,3,5-7"}, // singles then a range
	}
	for _, tt := range tests {
		if got := formatCPUList(tt.cpus); got != tt.want {
			t.Errorf("formatCPUList(%v) = %q, want %q", tt.cpus, got, tt.want)
		}
	}
}

func TestDetectEnvironment(t *testing.T) {
	e := DetectEnvironment()
	t.Logf("%+v", e)
	if e.GoVersion != runtime.Version() || e.GOOS != runtime.GOOS || e.GOARCH != runtime.GOARCH ||
		e.GOMAXPROCS != runtime.GOMAXPROCS(0) || e.NumCPU != runtime.NumCPU() {
		t.Errorf("runtime fields: %+v", e)
	}
	// Every result records which ndisbench wrote it: in a test binary, "devel" and
	// no revision; a stamped build's own values otherwise.
	if b := CurrentBuild(); e.ToolVersion == "" || e.ToolVersion != b.Version || e.Commit != b.Commit {
		t.Errorf("tool_version %q commit %q, want the build's %+v", e.ToolVersion, e.Commit, b)
	}
	if !(e.ClockCostNs > 0) {
		t.Errorf("clock cost %v", e.ClockCostNs)
	}
	if e.Pinned {
		t.Error("DetectEnvironment claims pinning")
	}
	if runtime.GOOS == "linux" && (e.Kernel == "" || e.CPUs == "") {
		t.Errorf("on Linux the kernel and CPU list are known: %+v", e)
	}
	if err := e.validate(); err != nil {
		t.Error(err)
	}
}
