package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/results/plot"
)

// warnings lists what makes a run less than a measurement, run by run: not valid and
// why, superseded by a retry, interrupted, and the verdict's warnings.
func warnings(srcs []*plot.Source) []string {
	var out []string
	for _, s := range srcs {
		prefix := ""
		if s.Label != "" {
			prefix = s.Label + ": "
		}
		if s.Result.Interrupted {
			out = append(out, prefix+"the scenario was interrupted: these are partial results")
		}
		for _, r := range s.Result.Runs {
			who := fmt.Sprintf("%s%s rep %d", prefix, r.Name, r.Repetition)
			if r.Attempt > 0 {
				who += fmt.Sprintf(" attempt %d", r.Attempt)
			}
			if r.Interrupted {
				out = append(out, who+": interrupted before its planned end")
			}
			v := r.Validity
			if v == nil {
				continue
			}
			switch {
			case v.Superseded:
				out = append(out, who+": superseded by a retry; not valid: "+strings.Join(v.Reasons, "; "))
			case !v.Valid:
				out = append(out, who+": not valid: "+strings.Join(v.Reasons, "; "))
			}
			for _, w := range v.Warnings {
				out = append(out, who+": warning: "+w)
			}
		}
	}
	return out
}

// envTable is one source's environment, as rows of name and value.
type envTable struct {
	Label string
	Rows  [][2]string
}

// envTables returns each source's environment.
func envTables(srcs []*plot.Source) []envTable {
	var out []envTable
	for _, s := range srcs {
		e, res := s.Result.Env, s.Result
		t := envTable{Label: s.Label}
		add := func(name, value string) {
			if value != "" {
				t.Rows = append(t.Rows, [2]string{name, value})
			}
		}
		add("scenario", res.Scenario)
		add("started", res.Started.Format(time.RFC3339))
		add("finished", res.Finished.Format(time.RFC3339))
		add("host", e.Hostname)
		add("CPU", e.CPUModel)
		add("CPUs usable", fmt.Sprint(e.NumCPU))
		add("CPUs used", e.CPUs)
		add("pinned", yesNo(e.Pinned))
		add("GOMAXPROCS", fmt.Sprint(e.GOMAXPROCS))
		add("OS/arch", e.GOOS+"/"+e.GOARCH)
		add("kernel", e.Kernel)
		add("Go", e.GoVersion)
		add("clock source", e.ClockSource)
		add("clock read", fmt.Sprintf("%.1f ns", e.ClockCostNs))
		add("ndisbench", strings.TrimSpace(e.ToolVersion+" "+e.Commit))
		add("result schema", res.Version)
		out = append(out, t)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// configTable is one source's resolved configs: a row per key, a column per run.
type configTable struct {
	Label string
	Runs  []string
	Rows  []configRow
}

// configRow is one key's values, run by run; Differs when they are not all the same.
type configRow struct {
	Key     string
	Values  []string
	Differs bool
}

// configTables returns each source's runs' configs, one column per run name (its
// first repetition's config: the repetitions of a run share it).
func configTables(srcs []*plot.Source) []configTable {
	var out []configTable
	for _, s := range srcs {
		t := configTable{Label: s.Label}
		var cfgs []map[string]json.RawMessage
		var keys []string
		for _, r := range s.Result.Runs {
			if slices.Contains(t.Runs, r.Name) {
				continue
			}
			var cfg map[string]json.RawMessage
			if json.Unmarshal(r.Config, &cfg) != nil {
				cfg = nil // Read checked it is JSON; not an object, it shows as empty
			}
			t.Runs = append(t.Runs, r.Name)
			cfgs = append(cfgs, cfg)
			for k := range cfg {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			row := configRow{Key: k}
			for _, cfg := range cfgs {
				v := strings.Trim(string(cfg[k]), `"`)
				row.Differs = row.Differs || len(row.Values) > 0 && v != row.Values[0]
				row.Values = append(row.Values, v)
			}
			t.Rows = append(t.Rows, row)
		}
		out = append(out, t)
	}
	return out
}
