package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
)

// lenient returns limits under which a loaded test machine's trials are still valid:
// these tests check the command, not the machine.
func lenient() *harness.Limits {
	l := harness.DefaultLimits()
	l.OtherCPUPct, l.StealPct, l.UnsentPct = 1000, 1000, 100
	l.VCPUGap, l.GeneratorLag = 1<<62, 1<<62
	return &l
}

// bench ndr on a system whose DPC costs 20 µs a packet (50 kpps at most, on one vCPU)
// finds an NDR at or below that (a ring of 32 descriptors: a short trial hides little
// overload in it), writes the search into result.json with its trials,
// bounds and latency points, and prints the table.
func TestNDRFindsTheCapacity(t *testing.T) {
	verdictLimits = lenient()
	defer func() { verdictLimits = nil }()
	dir := filepath.Join(t.TempDir(), "out")
	stdout, stderr, code := runCLI("ndr", "-o", dir, "-runs", "msix", "-vcpus", "1", "-trial", "40ms", "-warmup", "10ms",
		"-set", "per_packet=20us", "-set", "ring_size=32", "-min-rate", "5000", "-max-rate", "200000", "-precision", "0.1", "-max-time", "20s")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	res := readResult(t, dir)
	if len(res.Runs) != 1 || res.Runs[0].NDR == nil {
		t.Fatalf("runs %+v, want one with an ndr section", res.Runs)
	}
	n := res.Runs[0].NDR
	nd := n.Goals[0]
	if nd.Name != "ndr" || nd.LowerPPS <= 0 || nd.LowerPPS > 50000*1.02 || nd.UpperPPS < nd.LowerPPS {
		t.Errorf("NDR %+v, want 0 < lower <= 50 kpps (1 / 20 µs) <= upper", nd)
	}
	if len(n.Trials) < 3 || n.Trials[0].OfferedPPS != 200000 || len(n.Latency) != 3 {
		t.Errorf("%d trials (first at %v), %d latency points; want >= 3, 200000, 3", len(n.Trials), n.Trials[0].OfferedPPS, len(n.Latency))
	}
	if res.Runs[0].CPU == nil || res.Runs[0].CPU.DPCNsPerPacket < 20000*0.9 {
		t.Errorf("CPU at the NDR %+v, want >= 20 µs of DPC per packet", res.Runs[0].CPU)
	}
	for _, want := range []string{"NDR bounds", "latency under load", "msix"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

// bench ndr refuses -rate (the search picks it) and a bad search flag, exit 2.
func TestNDRBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"ndr", "-rate", "1000"},
		{"ndr", "-min-rate", "0"},
		{"ndr", "-pdr-loss", "2"},
		{"ndr", "-trial", "1ms"},
	} {
		if _, stderr, code := runCLI(args...); code != 2 || !strings.Contains(stderr, args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", args, code, stderr, args[1])
		}
	}
}
