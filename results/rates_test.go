package results

import (
	"encoding/json"
	"testing"

	"github.com/ndisbench/ndisbench/results/metric"
)

// TestRatesValueIsTheJSONField: for every rate of the registry, Rates.Value returns the
// field that result.json writes under the rate's name, and an unknown name is refused.
func TestRatesValueIsTheJSONField(t *testing.T) {
	r := Rates{OfferedPPS: 1, GeneratedPPS: 2, AchievedPPS: 3, DropPct: 4, BehindMaxNs: 5}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]float64
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, m := range metric.OfKind(metric.Rate) {
		v, ok := r.Value(m.Name)
		if !ok || v != fields[m.Name] {
			t.Errorf("Value(%q) = %v, %v; result.json has %v", m.Name, v, ok, fields[m.Name])
		}
	}
	if len(fields) != len(metric.OfKind(metric.Rate)) {
		t.Errorf("Rates has %d fields, the registry %d rates", len(fields), len(metric.OfKind(metric.Rate)))
	}
	if _, ok := r.Value("dropped"); ok {
		t.Error("Value accepted a counter's name")
	}
}
