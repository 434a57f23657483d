package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ndisbench/ndisbench/results"
)

// Side is one side of a comparison: the result files read for it, whose runs are
// pooled by name (the repetitions of one run from several invocations).
type Side struct {
	Files   []string // the result.json files, as named (a directory's result.json)
	results []*results.Result
}

// ReadSide reads the result files of one side. Each path is a result.json or a result
// directory, which stands for its result.json. Errors are *results.ParseError values
// that name the file (and the line, where the file does not parse); a file named twice
// is an error too.
func ReadSide(paths []string) (*Side, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("compare: no result files")
	}
	s := &Side{}
	seen := map[string]string{}
	for _, p := range paths {
		file, err := resultFile(p)
		if err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(file)
		if first, ok := seen[abs]; ok {
			return nil, &results.ParseError{File: file, Err: fmt.Errorf("named twice (also as %s): its repetitions would count twice", first)}
		}
		seen[abs] = p
		res, err := results.ReadFile(file)
		if err != nil {
			return nil, err
		}
		s.Files = append(s.Files, file)
		s.results = append(s.results, res)
	}
	return s, nil
}

// SideOf returns a side of results already read, named by files (one per result).
func SideOf(files []string, res []*results.Result) *Side {
	return &Side{Files: slices.Clone(files), results: slices.Clone(res)}
}

// resultFile returns the result.json that path names.
func resultFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", &results.ParseError{File: path, Err: err}
	}
	if fi.IsDir() {
		file := filepath.Join(path, results.ResultFile)
		if _, err := os.Stat(file); err != nil {
			return "", &results.ParseError{File: file, Err: fmt.Errorf("not a result directory: %w", err)}
		}
		return file, nil
	}
	return path, nil
}

// rep is one repetition of a run, with the file and result it came from.
type rep struct {
	run  *results.Run
	res  *results.Result
	file string
}

// Exclusions count the repetitions of a run (or a side) left out, by why.
type Exclusions struct {
	Invalid     int `json:"invalid"`     // the run's verdict: not a valid measurement
	Superseded  int `json:"superseded"`  // invalid attempts a later attempt replaced (bench run -retries)
	Interrupted int `json:"interrupted"` // stopped before their planned end
}

func (e Exclusions) total() int { return e.Invalid + e.Superseded + e.Interrupted }

func (e *Exclusions) add(o Exclusions) {
	e.Invalid += o.Invalid
	e.Superseded += o.Superseded
	e.Interrupted += o.Interrupted
}

// String says what was left out: "2 invalid, 1 interrupted"; "" when nothing.
func (e Exclusions) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{e.Invalid, "invalid"}, {e.Superseded, "superseded"}, {e.Interrupted, "interrupted"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// pool is a side's repetitions of one run: those used and those left out.
type pool struct {
	reps     []rep
	excluded Exclusions
}

// pools returns the side's runs by name, and the names in the order first seen. A
// superseded attempt, an interrupted run and a run that was not a valid measurement
// are left out and counted. An interrupted result's complete, valid runs are kept:
// each is a whole measurement, whatever stopped the ones after it.
func (s *Side) pools() (map[string]*pool, []string) {
	byName := map[string]*pool{}
	var order []string
	for i, res := range s.results {
		for j := range res.Runs {
			run := &res.Runs[j]
			p := byName[run.Name]
			if p == nil {
				p = &pool{}
				byName[run.Name] = p
				order = append(order, run.Name)
			}
			switch {
			case run.Validity != nil && run.Validity.Superseded:
				p.excluded.Superseded++
			case run.Interrupted:
				p.excluded.Interrupted++
			case !run.Valid():
				p.excluded.Invalid++
			default:
				p.reps = append(p.reps, rep{run: run, res: res, file: s.Files[i]})
			}
		}
	}
	return byName, order
}

// envField is one fact of a repetition's environment that a comparison needs to be
// the same on both sides.
type envField struct{ name, value string }

// envOf returns the facts of r's environment that decide whether two repetitions
// measured the same thing: the CPU model and count, GOMAXPROCS, the vCPUs and whether
// they were pinned (the run's platform where it recorded one), and which ndisbench and
// which Go. Not the commit, host name or kernel: comparing two commits is the point,
// and a CI machine's name changes from job to job.
func envOf(r rep) []envField {
	e := r.res.Env
	gomaxprocs, pinned, vcpus := e.GOMAXPROCS, e.Pinned, "unknown"
	if p := r.run.Platform; p != nil {
		gomaxprocs, pinned, vcpus = p.GOMAXPROCS, p.Pinned, strconv.Itoa(p.VCPUs)
	}
	return []envField{
		{"cpu_model", e.CPUModel},
		{"num_cpu", strconv.Itoa(e.NumCPU)},
		{"gomaxprocs", strconv.Itoa(gomaxprocs)},
		{"vcpus", vcpus},
		{"pinned", strconv.FormatBool(pinned)},
		{"tool_version", release(e.ToolVersion)},
		{"go_version", e.GoVersion},
	}
}

// release returns the release an ndisbench version belongs to: a tag as it is, a
// pseudo-version (what go build stamps in a checkout between tags) without its commit
// time and hash, which name a commit, and without "+dirty": two builds of different
// commits on one release line are the same ndisbench to compare.
//
//	v0.0.0-20260102150405-abcdef123456      → v0.0.0 (pseudo-version)
//	v1.2.4-0.20260102150405-abcdef123456    → v1.2.4 (pseudo-version)
//	v1.2.3-pre.0.20260102150405-abcdef12345 → v1.2.3-pre (pseudo-version)
func release(v string) string {
	v, _, _ = strings.Cut(v, "+")
	const tail = 1 + 14 + 1 + 12 // [-.]yyyymmddhhmmss-abcdefabcdef
	if len(v) <= tail {
		return v
	}
	t := v[len(v)-tail:]
	stamp, hash := t[1:15], t[16:]
	if (t[0] != '-' && t[0] != '.') || t[15] != '-' || strings.Trim(stamp, "0123456789") != "" || strings.Trim(hash, "0123456789abcdef") != "" {
		return v
	}
	base := v[:len(v)-tail]
	if t[0] == '.' { // vX.Y.Z-0.stamp-hash or vX.Y.Z-pre.0.stamp-hash
		base = strings.TrimSuffix(strings.TrimSuffix(base, "-0"), ".0")
	}
	return base + " (pseudo-version)"
}

// configOf returns r's resolved config as key → compact JSON value.
func configOf(r rep) map[string]string {
	out := map[string]string{}
	var m map[string]json.RawMessage
	if len(r.run.Config) == 0 || json.Unmarshal(r.run.Config, &m) != nil {
		return out // Read checked it is JSON; a non-object config has no keys to compare
	}
	for k, v := range m {
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			out[k] = b.String()
		} else {
			out[k] = string(v)
		}
	}
	return out
}

// showValue writes a config value for people: a JSON string without its quotes.
func showValue(v string, ok bool) string {
	if !ok {
		return "(unset)"
	}
	var s string
	if json.Unmarshal([]byte(v), &s) == nil {
		return s
	}
	return v
}

// differences returns, for each key where a and b differ, "key: A vs B" (A and B
// labelled by la and lb), skipping the keys in skip.
func differences(a, b map[string]string, la, lb string, skip []string) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if slices.Contains(skip, k) {
			continue
		}
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			out = append(out, fmt.Sprintf("%s: %s %s, %s %s", k, la, showValue(va, oka), lb, showValue(vb, okb)))
		}
	}
	return out
}

func envMap(r rep) map[string]string {
	m := map[string]string{}
	for _, f := range envOf(r) {
		m[f.name] = strconv.Quote(f.value)
	}
	return m
}

// mismatches returns what differs within each side and between the sides for one
// run: configuration keys (less vary, which may differ between the sides) and
// environment facts; and, apart, the vary keys that do differ between the sides.
func mismatches(base, new []rep, vary []string) (diffs, varied []string) {
	within := func(side string, reps []rep) {
		for _, r := range reps[1:] {
			la, lb := shortFile(reps[0].file), shortFile(r.file)
			if la == lb {
				la, lb = la+" rep "+strconv.Itoa(reps[0].run.Repetition), lb+" rep "+strconv.Itoa(r.run.Repetition)
			}
			d := differences(configOf(reps[0]), configOf(r), la, lb, nil)
			e := differences(envMap(reps[0]), envMap(r), la, lb, nil)
			for _, x := range d {
				diffs = append(diffs, side+": config "+x)
			}
			for _, x := range e {
				diffs = append(diffs, side+": environment "+x)
			}
			if len(d)+len(e) > 0 {
				return // one pair is enough to say so
			}
		}
	}
	if len(base) > 0 {
		within("base", base)
	}
	if len(new) > 0 {
		within("new", new)
	}
	if len(base) == 0 || len(new) == 0 {
		return diffs, nil
	}
	cb, cn := configOf(base[0]), configOf(new[0])
	for _, x := range differences(cb, cn, "base", "new", vary) {
		diffs = append(diffs, "config "+x)
	}
	for _, x := range differences(envMap(base[0]), envMap(new[0]), "base", "new", nil) {
		diffs = append(diffs, "environment "+x)
	}
	if p := placement(base, new); p != "" {
		diffs = append(diffs, p)
	}
	for _, k := range vary {
		vb, okb := cb[k]
		vn, okn := cn[k]
		if okb != okn || vb != vn {
			varied = append(varied, fmt.Sprintf("%s: base %s, new %s", k, showValue(vb, okb), showValue(vn, okn)))
		}
	}
	return diffs, varied
}

// shortFile names a result file by its directory when it is a directory's result.json.
func shortFile(file string) string {
	if filepath.Base(file) == results.ResultFile {
		return filepath.Dir(file)
	}
	return file
}

// Merged returns the side as one result: every run of its files in order, each run's
// repetitions numbered again across the files (0, 1, ...) so that repetitions from
// several invocations read as one set, and the environment and scenario of the first
// file. It is for drawing a side as one (plots, report.html); the files are not changed.
func (s *Side) Merged() *results.Result {
	if len(s.results) == 0 {
		return nil
	}
	out := *s.results[0]
	out.Runs = nil
	next := map[string]int{}
	for _, res := range s.results {
		out.Interrupted = out.Interrupted || res.Interrupted
		for _, run := range res.Runs {
			run.Repetition = next[run.Name]
			next[run.Name]++
			out.Runs = append(out.Runs, run)
		}
	}
	return &out
}
