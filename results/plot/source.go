package plot

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ndisbench/ndisbench/results"
)

// Source is one result directory to plot: its result.json, and the directory for the
// runs' .hlog files.
type Source struct {
	// Label tells the source from the others drawn with it ("base", "new"); "" for a
	// source drawn alone. Legends put it before each run's name.
	Label  string
	Dir    string
	Result *results.Result
}

// Open reads the result set in dir (its result.json; the .hlog files are read when
// the over-time plots are drawn). Errors name the file.
func Open(dir string) (*Source, error) {
	res, err := results.ReadFile(filepath.Join(dir, results.ResultFile))
	if err != nil {
		return nil, err
	}
	return &Source{Dir: dir, Result: res}, nil
}

// SetLabels labels srcs, when there are two or more, by their directories' names
// ("base", "new"), or by their paths when two share a name; a lone source keeps no
// label.
func SetLabels(srcs []*Source) {
	if len(srcs) < 2 {
		return
	}
	seen := map[string]int{}
	for _, s := range srcs {
		seen[filepath.Base(filepath.Clean(s.Dir))]++
	}
	for _, s := range srcs {
		if s.Label = filepath.Base(filepath.Clean(s.Dir)); seen[s.Label] > 1 {
			s.Label = filepath.ToSlash(filepath.Clean(s.Dir))
		}
	}
}

// group is one run of one source, as the table names it: its repetitions (never an
// attempt a retry superseded), and those its median is taken over.
type group struct {
	src    *Source
	srcIdx int
	name   string
	color  int
	runs   []*results.Run // every repetition, in order
	median []*results.Run // the valid ones; all of them when none is valid
}

// groups returns the runs of srcs grouped by name, in order of first appearance,
// each run name its own colour across every source.
func groups(srcs []*Source) []*group {
	var names []string
	var out []*group
	for si, s := range srcs {
		byName := map[string]*group{}
		for i := range s.Result.Runs {
			r := &s.Result.Runs[i]
			if r.Validity != nil && r.Validity.Superseded {
				continue
			}
			g := byName[r.Name]
			if g == nil {
				if !slices.Contains(names, r.Name) {
					names = append(names, r.Name)
				}
				g = &group{src: s, srcIdx: si, name: r.Name, color: slices.Index(names, r.Name)}
				byName[r.Name] = g
				out = append(out, g)
			}
			g.runs = append(g.runs, r)
			if r.Valid() {
				g.median = append(g.median, r)
			}
		}
	}
	for _, g := range out {
		if len(g.median) == 0 {
			g.median = g.runs
		}
	}
	return out
}

// label names the group as the run table does ("msix", "line (invalid)"), after its
// source's label: "base msix".
func (g *group) label() string { return g.labelAs(g.name, true) }

// labelAs is label with name for the run's name, and the source's label only when
// withSource: "msix p99 (invalid)".
func (g *group) labelAs(name string, withSource bool) string {
	var marks []string
	invalid, interrupted := 0, false
	for _, r := range g.runs {
		if !r.Valid() {
			invalid++
		}
		interrupted = interrupted || r.Interrupted
	}
	if interrupted {
		marks = append(marks, "interrupted")
	}
	switch {
	case invalid == len(g.runs):
		marks = append(marks, "invalid")
	case invalid > 0:
		marks = append(marks, fmt.Sprintf("%d of %d invalid", invalid, len(g.runs)))
	}
	s := name
	if withSource && g.src.Label != "" {
		s = g.src.Label + " " + s
	}
	if len(marks) > 0 {
		s += " (" + strings.Join(marks, ", ") + ")"
	}
	return s
}

// inMedian reports whether r is one of the runs g's median is taken over.
func (g *group) inMedian(r *results.Run) bool { return slices.Contains(g.median, r) }

// configInt returns the run's resolved config value of key as a number; false when the
// config has no such number.
func configNumber(r *results.Run, key string) (float64, bool) {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(r.Config, &cfg) != nil || cfg[key] == nil {
		return 0, false
	}
	var v float64
	if json.Unmarshal(cfg[key], &v) != nil {
		return 0, false
	}
	return v, true
}

// packetHistsOff reports whether the run recorded no per-packet histograms
// (no_packet_hists).
func packetHistsOff(r *results.Run) bool {
	var cfg struct {
		Off bool `json:"no_packet_hists"`
	}
	return json.Unmarshal(r.Config, &cfg) == nil && cfg.Off
}

// title returns "<scenario>: <what>", the scenarios joined by " vs " when the
// sources ran different ones.
func title(srcs []*Source, what string) string {
	var names []string
	for _, s := range srcs {
		if !slices.Contains(names, s.Result.Scenario) {
			names = append(names, s.Result.Scenario)
		}
	}
	return strings.Join(names, " vs ") + ": " + what
}

// machines describes the machines the sources ran on: "machine: vm, AMD EPYC, 2 CPUs,
// linux/amd64, go1.26.8", each labelled when they differ.
func machines(srcs []*Source) string {
	var descs []string
	for _, s := range srcs {
		e := s.Result.Env
		cpu := e.CPUModel
		if cpu == "" {
			cpu = "unknown CPU"
		}
		d := fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpu, e.NumCPU, e.GOOS, e.GOARCH, e.GoVersion)
		if e.Hostname != "" {
			d = e.Hostname + ", " + d
		}
		descs = append(descs, d)
	}
	same := true
	for _, d := range descs {
		same = same && d == descs[0]
	}
	if same {
		return "machine: " + descs[0]
	}
	for i, s := range srcs {
		descs[i] = s.Label + " on " + descs[i]
	}
	return strings.Join(descs, "; ")
}
