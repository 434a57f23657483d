package metric_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/ndisbench/ndisbench/results/metric"
)

// usableName is the rule results applies to run, histogram and counter names (its
// checkName): they become parts of file names, interval-log tags and benchmark names.
// results' own tests check the registry against checkName itself.
var usableName = regexp.MustCompile(`^[A-Za-z0-9_=+-][A-Za-z0-9._=+-]{0,99}$`)

func TestNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range metric.All() {
		if seen[m.Name] {
			t.Errorf("%q is in the registry twice", m.Name)
		}
		seen[m.Name] = true
	}
}

func TestNamesUsable(t *testing.T) {
	for _, m := range metric.All() {
		if !usableName.MatchString(m.Name) {
			t.Errorf("%q: want 1-100 bytes of ASCII letters, digits and \"._=+-\", not starting with '.'", m.Name)
		}
	}
}

func TestEveryMetricDescribed(t *testing.T) {
	for _, m := range metric.All() {
		if m.Meaning == "" || m.Unit == "" {
			t.Errorf("%s: meaning %q, unit %q: want both", m.Name, m.Meaning, m.Unit)
		}
		if m.Kind.String() == "Kind(?)" || m.Window.String() == "Window(?)" {
			t.Errorf("%s: kind %v, window %v", m.Name, m.Kind, m.Window)
		}
		if m.Better != metric.Neither && m.Better.String() == "" {
			t.Errorf("%s: better %d is no direction", m.Name, m.Better)
		}
		switch {
		case m.Kind == metric.Histogram && m.Unit == metric.Nanoseconds && (m.From == "" || m.To == ""):
			// DESIGN.md §3: every duration names its two instants.
			t.Errorf("%s: a duration needs From and To, has %q and %q", m.Name, m.From, m.To)
		case (m.From == "") != (m.To == ""):
			t.Errorf("%s: From %q and To %q: both or neither", m.Name, m.From, m.To)
		case m.Kind != metric.Histogram && m.From != "":
			t.Errorf("%s: a %v with From and To", m.Name, m.Kind)
		}
	}
}

func TestAllReturnsACopy(t *testing.T) {
	all := metric.All()
	want := all[0]
	all[0].Name, all[0].Unit = "changed", "changed"
	all = append(all[:1], all[2:]...) // also shifts the elements after the first
	if got := metric.All(); got[0] != want || len(got) != len(all)+1 {
		t.Errorf("changing All's slice changed the registry: first %+v, %d metrics", got[0], len(got))
	}
	if _, ok := metric.Lookup("changed"); ok {
		t.Error("Lookup finds a name written into All's slice")
	}
	hs := metric.OfKind(metric.Histogram)
	hs[0].Unit = "changed"
	if metric.Unit(hs[0].Name) == "changed" {
		t.Error("changing OfKind's slice changed the registry")
	}
}

func TestOfKindPartitionsAll(t *testing.T) {
	var joined []metric.Metric
	for _, k := range []metric.Kind{metric.Histogram, metric.Counter, metric.Rate} {
		ms := metric.OfKind(k)
		if len(ms) == 0 {
			t.Errorf("no %v", k)
		}
		for _, m := range ms {
			if m.Kind != k {
				t.Errorf("OfKind(%v) returned %s, a %v", k, m.Name, m.Kind)
			}
		}
		joined = append(joined, ms...)
	}
	// All lists histograms, then counters, then rates, each in table order.
	if !slices.Equal(joined, metric.All()) {
		t.Error("OfKind(Histogram), OfKind(Counter), OfKind(Rate) is not All()")
	}
	if got := metric.OfKind(0); got != nil {
		t.Errorf("OfKind(0) = %v, want nil", got)
	}
}

func TestLookup(t *testing.T) {
	for _, m := range metric.All() {
		got, ok := metric.Lookup(m.Name)
		if !ok || got != m {
			t.Errorf("Lookup(%q) = %+v, %v", m.Name, got, ok)
		}
		if u := metric.Unit(m.Name); u != m.Unit {
			t.Errorf("Unit(%q) = %q, want %q", m.Name, u, m.Unit)
		}
	}
	for _, name := range []string{
		"",             // no name
		"offered",      // the 1.0 counter that 1.1 removed
		"ISR_DURATION", // names are case-sensitive
		"isr-duration", // and spelled with '_'
	} {
		if m, ok := metric.Lookup(name); ok || m != (metric.Metric{}) {
			t.Errorf("Lookup(%q) = %+v, %v, want nothing", name, m, ok)
		}
		if u := metric.Unit(name); u != "" {
			t.Errorf("Unit(%q) = %q, want \"\"", name, u)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{metric.Histogram.String(), "histogram"},
		{metric.Counter.String(), "counter"},
		{metric.Rate.String(), "rate"},
		{metric.Kind(0).String(), "Kind(?)"}, // the zero Kind is none
		{metric.Lower.String(), "lower"},
		{metric.Higher.String(), "higher"},
		{metric.Neither.String(), ""}, // as bench.txt spells it: no better=
		{metric.Measured.String(), "measured"},
		{metric.Run.String(), "run"},
		{metric.Window(0).String(), "Window(?)"}, // the zero Window is none
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}

func TestBenchUnit(t *testing.T) {
	for name, want := range map[string]string{
		metric.AchievedPPS:       "achieved-pps",        // a rate
		metric.BatchesOverBudget: "batches-over-budget", // a counter
		metric.Dropped:           "dropped",             // no '_' to turn
	} {
		m, _ := metric.Lookup(name)
		if got := m.BenchUnit(); got != want {
			t.Errorf("%s: BenchUnit %q, want %q", name, got, want)
		}
	}
}

func ExampleLookup() {
	m, ok := metric.Lookup(metric.ISRToDPC)
	fmt.Println(ok, m.Kind, m.Unit, m.Better, m.Window)
	fmt.Println(m.From, "→", m.To)
	_, ok = metric.Lookup("offered")
	fmt.Println(ok)
	// Output:
	// true histogram ns lower measured
	// an ISR (or queue-DPC) inserts the DPC → that DPC starts
	// false
}
