package affinity

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

const tick = int64(time.Second / userHz)

func TestParseProcStat(t *testing.T) {
	text := "cpu  346642 19 95144 1374266 1658 0 3196 0 0 0\n" +
		"cpu0 190972 8 50354 666865 633 0 1129 7 0 0\n" +
		"cpu1 155670 11 44789 707400 1025 2 2067 0\n" +
		"intr 12121283 0 0\nctxt 1\nbtime 1\nprocs_running 3\n"
	got, err := ParseProcStat([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]CPUTime{
		0: {Busy: (190972 + 8 + 50354 + 0 + 1129) * tick, Idle: (666865 + 633) * tick, Steal: 7 * tick},
		1: {Busy: (155670 + 11 + 44789 + 2 + 2067) * tick, Idle: (707400 + 1025) * tick},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Old kernels list only four times.
	if got, err := ParseProcStat([]byte("cpu3 1 2 3 4\n")); err != nil || got[3] != (CPUTime{Busy: 6 * tick, Idle: 4 * tick}) {
		t.Errorf("four fields: %+v, %v", got, err)
	}
	for _, bad := range []string{"cpu0 1 2 3\n", "cpuX 1 2 3 4\n", "cpu0 1 2 -3 4\n", "cpu0 1 2 3 4\ncpu0 1 2 3 4\n", "cpu0 1 2 x 4\n", "cpu-1 1 2 3 4\n"} {
		if _, err := ParseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBetween(t *testing.T) {
	t0 := time.Unix(100, 0)
	before := HostSample{At: t0, Self: 1e9, PerCPU: map[int]CPUTime{0: {Busy: 10e9, Steal: 1e9}, 1: {Busy: 20e9}, 2: {Busy: 5e9}}}
	after := HostSample{At: t0.Add(2 * time.Second), Self: 3.5e9, PerCPU: map[int]CPUTime{
		0: {Busy: 12e9, Steal: 1.2e9}, // 2 s busy, 0.2 s stolen
		1: {Busy: 21.5e9},             // 1.5 s busy
		2: {Busy: 7e9},                // not in the set
	}}
	in := Between(before, after, CPUList{0, 1, 5}) // CPU 5 is in neither sample
	if in.Window != 2*time.Second || in.CPUs != 2 {
		t.Fatalf("window %v, cpus %d", in.Window, in.CPUs)
	}
	// 3.5 s busy on CPUs 0 and 1, of which 2.5 s was this process's, less 2 ticks
	// (20 ms) per CPU of rounding.
	if in.OtherNs != 0.96e9 || in.StealNs != 0.2e9 {
		t.Errorf("other %d, steal %d; want 0.96e9, 0.2e9", in.OtherNs, in.StealNs)
	}
	if p := in.Pct(in.OtherNs); p != 24 {
		t.Errorf("other %% = %v, want 24", p)
	}
	// This process busier than the set (it ran elsewhere too): never negative.
	after.Self = 10e9
	if in := Between(before, after, CPUList{0, 1}); in.OtherNs != 0 {
		t.Errorf("other %d, want 0", in.OtherNs)
	}
	if (Interference{}).Pct(5) != 0 {
		t.Error("empty window: want 0")
	}
}

func TestSampleHost(t *testing.T) {
	s, err := SampleHost()
	if runtime.GOOS != "linux" {
		if err == nil {
			t.Fatal("want ErrNoHostStats outside Linux")
		}
		return
	}
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if len(s.PerCPU) == 0 || s.Self <= 0 {
		t.Errorf("sample %+v: want CPUs and this process's time", s)
	}
}

// FuzzParseProcStat: times written in /proc/stat's format read back exactly, and
// whatever the input, what parses is non-negative and whole ticks.
func FuzzParseProcStat(f *testing.F) {
	f.Add(uint16(3), uint32(190972), uint32(8), uint32(50354), uint32(666865), uint32(7), "intr 1 2\n")
	f.Add(uint16(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), "cpu0 1 2 3 4\n")
	f.Fuzz(func(t *testing.T, cpu uint16, user, system, idle, irq, steal uint32, extra string) {
		text := fmt.Sprintf("cpu  1 1 1 1\ncpu%d %d 0 %d %d 0 %d 0 %d 0 0\n", cpu, user, system, idle, irq, steal)
		got, err := ParseProcStat([]byte(text))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		want := CPUTime{Busy: (int64(user) + int64(system) + int64(irq)) * tick, Idle: int64(idle) * tick, Steal: int64(steal) * tick}
		if len(got) != 1 || got[int(cpu)] != want {
			t.Fatalf("%q: got %+v, want cpu%d %+v", text, got, cpu, want)
		}
		any, err := ParseProcStat([]byte(extra + "\n" + strings.ReplaceAll(text, "cpu ", "cpux")))
		if err != nil {
			return
		}
		for c, v := range any {
			if c < 0 || v.Busy < 0 || v.Idle < 0 || v.Steal < 0 || v.Busy%tick != 0 || v.Idle%tick != 0 || v.Steal%tick != 0 {
				t.Fatalf("cpu%d: %+v", c, v)
			}
		}
	})
}
