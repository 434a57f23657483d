package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/strictjson"
)

// Setting is one key set to one value, its type already checked: a line of a file's
// base or run, or a flag. Whether the value is allowed is Validate's business, once the
// scenario is whole.
type Setting struct {
	Key  string // the field's key
	Text string // the value as text, canonical ("50us", "0-3", "msix")
	raw  json.RawMessage
}

// ParseSetting returns the setting of key to text, as a flag gives it (a flag's '-' may
// stand for the key's '_').
func ParseSetting(key, text string) (Setting, error) {
	f, ok := lookup(key)
	if !ok {
		return Setting{}, fmt.Errorf("unknown key %q", key)
	}
	var s Scenario
	if err := f.ops.parse(&s, text); err != nil {
		return Setting{}, fmt.Errorf("key %q: %v", f.Key, err)
	}
	return settingOf(f, &s), nil
}

// settingOf returns the setting of f to its value in s.
func settingOf(f Field, s *Scenario) Setting {
	raw, err := json.Marshal(f.ops.encode(s))
	if err != nil {
		panic("scenario: a value that decoded does not encode: " + err.Error()) // kinds refuse NaN and Inf
	}
	return Setting{Key: f.Key, Text: f.ops.text(s), raw: raw}
}

// decodeSetting returns the setting of key to a file's raw JSON value.
func decodeSetting(key string, raw json.RawMessage) (Setting, error) {
	f, ok := lookup(key)
	if !ok || f.Key != key {
		return Setting{}, fmt.Errorf("unknown key %q", key)
	}
	var s Scenario
	if err := f.ops.decode(&s, raw); err != nil {
		return Setting{}, fmt.Errorf("key %q: %v", key, err)
	}
	return settingOf(f, &s), nil
}

// Apply sets the setting's field on s. The zero Setting sets nothing.
func (st Setting) Apply(s *Scenario) {
	f, ok := lookup(st.Key)
	if !ok {
		return
	}
	if err := f.ops.decode(s, st.raw); err != nil {
		panic("scenario: a canonical value does not decode: " + err.Error())
	}
}

// String returns "key=value".
func (st Setting) String() string { return st.Key + "=" + st.Text }

// Patch is settings applied in order: a file's base, or one of its runs.
type Patch []Setting

// Apply applies every setting to s, in order.
func (p Patch) Apply(s *Scenario) {
	for _, st := range p {
		st.Apply(s)
	}
}

// Has reports whether the patch sets key.
func (p Patch) Has(key string) bool {
	for _, st := range p {
		if st.Key == key {
			return true
		}
	}
	return false
}

// String returns the settings as "key=value, key=value".
func (p Patch) String() string {
	parts := make([]string, len(p))
	for i, st := range p {
		parts[i] = st.String()
	}
	return strings.Join(parts, ", ")
}

// PatchOf returns the settings that turn Default into s: the fields where s differs from
// Default, in table order. Default's own values give an empty patch.
func PatchOf(s Scenario) Patch {
	d := Default()
	var p Patch
	for _, f := range table {
		if !f.ops.equal(&s, &d) {
			p = append(p, settingOf(f, &s))
		}
	}
	return p
}

// MarshalJSON writes s as a scenario object: every key of the table, in table order, as
// a file writes it. It is what result.json's config of a run holds; UnmarshalJSON reads
// it back to the same Scenario.
func (s Scenario) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range table {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		v, err := json.Marshal(f.ops.encode(&s))
		if err != nil {
			return nil, fmt.Errorf("scenario: key %q: %w", f.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON sets on s every key of the JSON object data, leaving the others as they
// are: decode onto Default to read a whole scenario. Unknown keys, duplicate keys and
// values of the wrong type are errors naming the key. Values are not range-checked
// (Validate does that).
func (s *Scenario) UnmarshalJSON(data []byte) error {
	p, err := decodePatch(data, false)
	if err != nil {
		return err
	}
	p.Apply(s)
	return nil
}

// decodePatch reads a JSON object of scenario keys; with runName, "name" is allowed too
// (and left to the caller).
func decodePatch(data []byte, runName bool) (Patch, error) {
	members, err := readObject(data)
	if err != nil {
		return nil, err
	}
	var p Patch
	for _, m := range members {
		if runName && m.Key == "name" {
			continue
		}
		st, err := decodeSetting(m.Key, m.Value)
		if err != nil {
			return nil, err
		}
		p = append(p, st)
	}
	p.sort()
	return p, nil
}

// sort puts the settings in table order, which is how they are shown and written: a
// patch sets each key at most once, so the order does not change what it does.
func (p Patch) sort() {
	rank := func(key string) int {
		for i, f := range table {
			if f.Key == key {
				return i
			}
		}
		return len(table)
	}
	slices.SortStableFunc(p, func(a, b Setting) int { return rank(a.Key) - rank(b.Key) })
}

// readObject reads one JSON object, keeping its members in order, refusing duplicate
// keys and anything after the object (strictjson.Object).
func readObject(data []byte) ([]strictjson.Member, error) { return strictjson.Object(data) }

// File is a scenario file: a name, a summary, a base every run starts from (over
// Default), the runs, each a name and what it changes, what the comparison needs of the
// machine (min_vcpus), and the headline: what the runs are about (see Headline).
//
//	name: moderation
//	summary: interrupt moderation off and at 50us
//	min_vcpus: 2
//	base: {mode: msix, duration: 2s}
//	runs:
//	  - name: off
//	  - name: itr50
//	    moderation_interval: 50us
//	headline:
//	  - {metric: packet_latency, stats: [p99], compare: [itr50, off]}
type File struct {
	Name    string
	Summary string
	// MinVCPUs is the fewest vCPUs a run of the file means anything with ("min_vcpus";
	// 0: no minimum): a scenario about more than one CPU (serialized MSI handlers, RSS,
	// a cross-CPU handoff) compares nothing on one. Resolve holds every run to it.
	MinVCPUs int
	Base     Patch
	Runs     []Run
	Headline []Headline // none: the file declares no headline
}

// Resolve returns s, one of f's runs, resolved (Scenario.Resolved) and held to
// f.MinVCPUs: automatic vcpus (0) resolve to at least MinVCPUs, even where that is more
// than the machine has CPUs for (the vCPUs then share CPUs: the run says it is
// oversubscribed); vcpus set below it is refused with a *KeyError naming "vcpus"
// (errors.Is ErrConfig), as such a run would measure nothing the file is about.
func (f *File) Resolve(s Scenario) (Scenario, error) {
	if f.MinVCPUs > 0 {
		if s.VCPUs == 0 && s.Resolved().VCPUs < f.MinVCPUs {
			s.VCPUs = f.MinVCPUs // the automatic queues follow it
		}
		if s.VCPUs < f.MinVCPUs {
			return s, configErr("vcpus", "scenario %s is about more than one CPU: it needs at least %d vCPUs (min_vcpus), got %d", f.Name, f.MinVCPUs, s.VCPUs)
		}
	}
	return s.Resolved(), nil
}

// Run is one run of a file: its name in tables and file names, and its settings.
type Run struct {
	Name string
	Set  Patch
}

// MaxFileSize bounds a scenario file.
const MaxFileSize = 1 << 20

// ReadFile reads the scenario file at path; see ParseFile.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ParseFile(path, data)
}

// ParseFile parses data as the scenario file path: YAML when path ends in .yaml or
// .yml, JSON otherwise. Every error names the file and, where there is one, the key;
// errors.Is(err, ErrConfig) holds. A run's name must be usable in file names (letters,
// digits and "._=+-") and unique.
func ParseFile(path string, data []byte) (*File, error) {
	f, err := parseFile(path, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%w)", path, err, ErrConfig)
	}
	return f, nil
}

func parseFile(path string, data []byte) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileSize)
	}
	yamlFile := isYAML(path)
	if yamlFile {
		// YAML becomes JSON first, so both forms go through one strict decoder and
		// name keys alike. Duplicate keys are refused.
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			return nil, err
		}
		data = j
	}
	f, err := decodeFile(data)
	if err != nil && yamlFile && strings.Contains(err.Error(), "got bool") {
		err = fmt.Errorf("%w (YAML reads yes, no, on and off as booleans: quote the value)", err)
	}
	return f, err
}

func decodeFile(data []byte) (*File, error) {
	members, err := readObject(data)
	if err != nil {
		return nil, err
	}
	f := &File{}
	var runs, headline json.RawMessage
	for _, m := range members {
		switch m.Key {
		case "name", "summary":
			s, err := jsonString(m.Value, "a string")
			if err != nil {
				return nil, fmt.Errorf("key %q: %v", m.Key, err)
			}
			if m.Key == "name" {
				f.Name = s
			} else {
				f.Summary = s
			}
		case "min_vcpus":
			if f.MinVCPUs, err = intKind.fromJSON(m.Value); err != nil {
				return nil, fmt.Errorf("key %q: %v", m.Key, err)
			}
			if f.MinVCPUs < 1 || f.MinVCPUs > core.MaxVCPUs {
				return nil, fmt.Errorf("key %q: must be 1..%d, got %d", m.Key, core.MaxVCPUs, f.MinVCPUs)
			}
		case "base":
			if f.Base, err = decodePatch(m.Value, false); err != nil {
				if strings.Contains(err.Error(), `unknown key "name"`) {
					err = errors.New(`key "name" belongs to a run`)
				}
				return nil, fmt.Errorf("base: %w", err)
			}
		case "runs":
			runs = m.Value
		case "headline":
			headline = m.Value // its runs must be the file's: read once they are
		default:
			return nil, fmt.Errorf("unknown key %q", m.Key)
		}
	}
	var list []json.RawMessage
	if runs != nil && jsonKind(runs) == "array" {
		if err := json.Unmarshal(runs, &list); err != nil {
			return nil, strictjson.Error(err)
		}
	}
	if len(list) == 0 {
		return nil, errors.New(`key "runs": want a list of at least one run`)
	}
	seen := map[string]bool{}
	for i, raw := range list {
		r, err := decodeRun(raw)
		if err != nil {
			return nil, fmt.Errorf("runs[%d]: %w", i, err)
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("runs[%d]: key \"name\": %q is used twice", i, r.Name)
		}
		seen[r.Name] = true
		f.Runs = append(f.Runs, r)
	}
	if headline != nil {
		if f.Headline, err = decodeHeadline(headline, f.Runs); err != nil {
			return nil, err
		}
	}
	if f.Name == "" {
		f.Name = "file"
	}
	if err := results.CheckName("scenario", f.Name); err != nil {
		return nil, fmt.Errorf("key \"name\": %v", err)
	}
	return f, nil
}

func decodeRun(raw json.RawMessage) (Run, error) {
	members, err := readObject(raw)
	if err != nil {
		return Run{}, err
	}
	var r Run
	for _, m := range members {
		if m.Key == "name" {
			if r.Name, err = jsonString(m.Value, "a string"); err != nil {
				return Run{}, fmt.Errorf("key \"name\": %v", err)
			}
		}
	}
	if err := results.CheckName("run", r.Name); err != nil {
		return Run{}, fmt.Errorf("key \"name\": %v", err)
	}
	if r.Set, err = decodePatch(raw, true); err != nil {
		return Run{}, err
	}
	return r, nil
}

// isYAML reports whether a scenario file is YAML, by its extension (.yaml or .yml); any
// other file is JSON.
func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// MarshalJSON writes f as a scenario file that ParseFile reads back to the same File.
func (f *File) MarshalJSON() ([]byte, error) {
	patch := func(p Patch, name string) json.RawMessage {
		var b bytes.Buffer
		b.WriteByte('{')
		if name != "" {
			n, _ := json.Marshal(name)
			b.WriteString(`"name":`)
			b.Write(n)
		}
		for i, st := range p {
			if i > 0 || name != "" {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(st.Key)
			b.Write(k)
			b.WriteByte(':')
			b.Write(st.raw)
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	out := struct {
		Name     string            `json:"name"`
		Summary  string            `json:"summary,omitempty"`
		MinVCPUs int               `json:"min_vcpus,omitempty"`
		Base     json.RawMessage   `json:"base"`
		Runs     []json.RawMessage `json:"runs"`
		Headline []Headline        `json:"headline,omitempty"`
	}{Name: f.Name, Summary: f.Summary, MinVCPUs: f.MinVCPUs, Base: patch(f.Base, ""), Headline: f.Headline}
	for _, r := range f.Runs {
		out.Runs = append(out.Runs, patch(r.Set, r.Name))
	}
	return json.Marshal(out)
}

// Varies returns the keys f's runs set, in table order: what the runs compare, which a
// caller's overrides of the base must not touch.
func (f *File) Varies() []string {
	var keys []string
	for _, fd := range table {
		for _, r := range f.Runs {
			if r.Set.Has(fd.Key) {
				keys = append(keys, fd.Key)
				break
			}
		}
	}
	return keys
}

// FromResult returns the file that reruns the runs recorded in res exactly: one run per
// run name (its first repetition), in the order they ran, each setting every key of its
// recorded config; only, when not empty, keeps that run alone. source names res in errors.
// A config that is not a scenario (result.json before schema 1.1 kept another layout) is
// an error naming the run.
func FromResult(res *results.Result, source, only string) (*File, error) {
	f := &File{Name: res.Scenario, Summary: "a replay of " + source}
	seen := map[string]bool{}
	for _, r := range res.Runs {
		if seen[r.Name] || (only != "" && r.Name != only) {
			continue
		}
		seen[r.Name] = true
		sc := Default()
		if err := json.Unmarshal(r.Config, &sc); err != nil {
			return nil, fmt.Errorf("%s: run %s: its config is not a scenario this ndisbench can replay (result.json before schema 1.1 kept another layout): %w", source, r.Name, err)
		}
		f.Runs = append(f.Runs, Run{Name: r.Name, Set: PatchOf(sc)})
	}
	if len(f.Runs) == 0 {
		if only != "" {
			return nil, fmt.Errorf("%s has no run %q", source, only)
		}
		return nil, fmt.Errorf("%s has no runs", source)
	}
	return f, nil
}
