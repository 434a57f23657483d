package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
	"github.com/ndisbench/ndisbench/results/strictjson"
)

// Headline is one line of what a scenario is about: a metric, the figures of it that
// matter, and the runs it compares, either two against each other or a series read in
// order. A file declares its headline as a list of them under the key "headline"; a
// file without one has no headline (it is never guessed from the runs):
//
//	headline:
//	  - {metric: achieved_pps, compare: [msix, line]}
//	  - {metric: packet_latency, stats: [p50, p99], compare: [msix, line]}
//	  - {metric: dpc_batch_size, stats: [p50], series: [throttle=1, throttle=8, throttle=all]}
//
// Keys of an entry: metric (required), stats, compare or series (one of them), label,
// min_vcpus. Names are checked when the file is read: the metric must be a histogram or
// a rate of package results/metric, the stats figures of a histogram
// (results.HistogramStats; default p50 and p99, none for a rate), and the runs must be
// the file's own.
type Headline struct {
	Metric  string   // a histogram or a rate of results/metric ("metric")
	Stats   []string // the histogram's figures, results.HistogramStats; nil for a rate ("stats")
	Compare []string // two runs: the first against the second ("compare")
	Series  []string // or two or more runs, each shown, in order ("series")
	Label   string   // what the runs have in common, shown with the line, e.g. "same CPU" ("label")
	// MinVCPUs is the fewest vCPUs with which the runs differ at all (R5's lock, RSS
	// spreading and cross-CPU DPCs need two); with fewer, the headline says that it
	// compares nothing. 0: any ("min_vcpus").
	MinVCPUs int
}

// Runs returns the runs the headline line is about: Compare's or Series'.
func (h Headline) Runs() []string {
	if h.Compare != nil {
		return h.Compare
	}
	return h.Series
}

// defaultStats are a histogram's figures when an entry names none.
var defaultStats = []string{"p50", "p99"}

// decodeHeadline reads the value of a file's "headline" key: a list of entries whose
// runs are among runs.
func decodeHeadline(raw json.RawMessage, runs []Run) ([]Headline, error) {
	if jsonKind(raw) != "array" {
		return nil, fmt.Errorf("key \"headline\": %w", wantErr("a list of lines (metric, and compare or series)", raw))
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, strictjson.Error(err)
	}
	names := make([]string, len(runs))
	for i, r := range runs {
		names[i] = r.Name
	}
	var hs []Headline
	for i, raw := range list {
		h, err := decodeHeadlineEntry(raw, names)
		if err != nil {
			return nil, fmt.Errorf("headline[%d]: %w", i, err)
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func decodeHeadlineEntry(raw json.RawMessage, runs []string) (Headline, error) {
	members, err := readObject(raw)
	if err != nil {
		return Headline{}, err
	}
	var h Headline
	var stats json.RawMessage
	for _, m := range members {
		err := error(nil)
		switch m.Key {
		case "metric":
			h.Metric, err = jsonString(m.Value, "a metric name")
		case "stats":
			stats = m.Value
		case "compare":
			h.Compare, err = runList(m.Value, runs, 2, 2)
		case "series":
			h.Series, err = runList(m.Value, runs, 2, max(2, len(runs)))
		case "label":
			h.Label, err = jsonString(m.Value, "a string")
			if err == nil && (len(h.Label) > 100 || strings.ContainsFunc(h.Label, isControl)) {
				err = errors.New("a line of at most 100 bytes")
			}
		case "min_vcpus":
			h.MinVCPUs, err = jsonInt(m.Value, 1, core.MaxVCPUs)
		default:
			return Headline{}, fmt.Errorf("unknown key %q (want metric, stats, compare, series, label, min_vcpus)", m.Key)
		}
		if err != nil {
			return Headline{}, fmt.Errorf("key %q: %w", m.Key, err)
		}
	}
	if h.Metric == "" {
		return Headline{}, errors.New(`key "metric": missing (a histogram or a rate of results/metric)`)
	}
	m, ok := metric.Lookup(h.Metric)
	switch {
	case !ok:
		return Headline{}, fmt.Errorf("key \"metric\": unknown metric %q (want one of %s)", h.Metric, strings.Join(headlineMetrics(), ", "))
	case m.Kind != metric.Histogram && m.Kind != metric.Rate:
		return Headline{}, fmt.Errorf("key \"metric\": %s is a %s; a headline names a histogram or a rate", h.Metric, m.Kind)
	case m.Kind == metric.Rate && stats != nil:
		return Headline{}, fmt.Errorf("key \"stats\": %s is a rate, a single figure; stats belong to histograms", h.Metric)
	case m.Kind == metric.Histogram && stats == nil:
		h.Stats = slices.Clone(defaultStats)
	case m.Kind == metric.Histogram:
		all := results.HistogramStats()
		h.Stats, err = nameList(stats, "a figure", all, 1, func(s string) error {
			return fmt.Errorf("unknown figure %q (want one of %s)", s, strings.Join(all, ", "))
		})
		if err != nil {
			return Headline{}, fmt.Errorf("key \"stats\": %w", err)
		}
	}
	if (h.Compare == nil) == (h.Series == nil) {
		return Headline{}, errors.New(`want one of key "compare" (two runs) and key "series" (two or more runs)`)
	}
	return h, nil
}

// headlineMetrics are the metrics a headline may name.
func headlineMetrics() []string {
	var names []string
	for _, m := range metric.All() {
		if m.Kind == metric.Histogram || m.Kind == metric.Rate {
			names = append(names, m.Name)
		}
	}
	return names
}

// runList reads a list of lo to hi distinct names of the file's runs.
func runList(raw json.RawMessage, runs []string, lo, hi int) ([]string, error) {
	names, err := nameList(raw, "a run name", runs, lo, func(s string) error {
		return fmt.Errorf("no run %q in this file (its runs: %s)", s, strings.Join(runs, ", "))
	})
	if err != nil {
		return nil, err
	}
	if len(names) > hi {
		return nil, fmt.Errorf("want %d runs, got %d", hi, len(names))
	}
	return names, nil
}

// nameList reads a list of at least lo distinct strings, each one of allowed; unknown
// says what is wrong with another.
func nameList(raw json.RawMessage, what string, allowed []string, lo int, unknown func(string) error) ([]string, error) {
	if jsonKind(raw) != "array" {
		return nil, wantErr("a list", raw)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, strictjson.Error(err)
	}
	if len(list) < lo {
		return nil, fmt.Errorf("want at least %d, got %d", lo, len(list))
	}
	names := make([]string, 0, len(list))
	for _, raw := range list {
		s, err := jsonString(raw, what)
		if err != nil {
			return nil, err
		}
		switch {
		case !slices.Contains(allowed, s):
			return nil, unknown(s)
		case slices.Contains(names, s):
			return nil, fmt.Errorf("%q appears twice", s)
		}
		names = append(names, s)
	}
	return names, nil
}

// jsonInt reads an integer in [lo, hi].
func jsonInt(raw json.RawMessage, lo, hi int) (int, error) {
	text, err := jsonNumber(raw, "an integer")
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("want an integer from %d to %d, got %s", lo, hi, text)
	}
	return v, nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// MarshalJSON writes h as a file's headline entry, which decodeHeadline reads back.
func (h Headline) MarshalJSON() ([]byte, error) {
	out := struct {
		Metric   string   `json:"metric"`
		Stats    []string `json:"stats,omitempty"`
		Compare  []string `json:"compare,omitempty"`
		Series   []string `json:"series,omitempty"`
		Label    string   `json:"label,omitempty"`
		MinVCPUs int      `json:"min_vcpus,omitempty"`
	}{h.Metric, h.Stats, h.Compare, h.Series, h.Label, h.MinVCPUs}
	return json.Marshal(out)
}
