package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"sigs.k8s.io/yaml"
)

// scenarioFile is a scenario file: a name, a base every run starts from, and the runs.
//
//	{"name": "my-throttle", "base": {"mode": "msix", "duration": "2s"},
//	 "runs": [{"name": "t8", "throttle": 8}, {"name": "t64", "throttle": 64}]}
type scenarioFile struct {
	Name string            `json:"name"`
	Base json.RawMessage   `json:"base"`
	Runs []json.RawMessage `json:"runs"`
}

// fileFields are the keys a base or a run may set; absent keys leave the field alone.
type fileFields struct {
	Name               *string   `json:"name"` // runs only
	Mode               *string   `json:"mode"`
	Queues             *int      `json:"queues"`
	VCPUs              *int      `json:"vcpus"`
	CPUs               *string   `json:"cpus"`
	Idle               *string   `json:"idle"`
	RingSize           *int      `json:"ring_size"`
	Buffers            *int      `json:"buffers"`
	Throttle           *int      `json:"throttle"`
	Budget             *duration `json:"budget"`
	ModerationInterval *duration `json:"moderation_interval"`
	ModerationPackets  *int      `json:"moderation_packets"`
	RSS                *string   `json:"rss"`
	FanOut             *string   `json:"fan_out"`
	IndicateBatch      *int      `json:"indicate_batch"`
	MSISync            *bool     `json:"msi_sync"`
	Schedule           *string   `json:"schedule"`
	RatePPS            *float64  `json:"rate_pps"`
	RampToPPS          *float64  `json:"ramp_to_pps"`
	Ramp               *duration `json:"ramp"`
	On                 *duration `json:"on"`
	Off                *duration `json:"off"`
	Flows              *int      `json:"flows"`
	FlowDist           *string   `json:"flow_dist"`
	ZipfS              *float64  `json:"zipf_s"`
	Size               *int      `json:"size"`
	IMIX               *bool     `json:"imix"`
	MMIORead           *duration `json:"mmio_read"`
	PerPacket          *duration `json:"per_packet"`
	PerIndication      *duration `json:"per_indication"`
	NoiseRate          *float64  `json:"noise_rate"`
	Duration           *duration `json:"duration"`
	Warmup             *duration `json:"warmup"`
	Seed               *uint64   `json:"seed"`
}

// duration is a time.Duration written as a Go duration string ("2s", "50us"); apply
// parses it, so that an error can name its key.
type duration string

// maxConfigSize bounds a scenario file.
const maxConfigSize = 1 << 20

// loadScenarioFile reads and checks a scenario file. Every error names the file and,
// where there is one, the key.
func loadScenarioFile(path string) (name string, base fileFields, runs []fileFields, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", base, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return "", base, nil, fmt.Errorf("%s: %w", path, err)
	}
	return parseScenarioFile(path, data)
}

func parseScenarioFile(path string, data []byte) (name string, base fileFields, runs []fileFields, err error) {
	if len(data) > maxConfigSize {
		return "", base, nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	if isYAML(path) {
		// YAML becomes JSON first, so both forms go through one strict decoder and
		// name keys alike. Duplicate keys are refused.
		j, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			return "", base, nil, fmt.Errorf("%s: %w", path, err)
		}
		data = j
	}
	name, base, runs, err = decodeScenarioFile(path, data)
	if err != nil && isYAML(path) && strings.Contains(err.Error(), "want string, got bool") {
		err = fmt.Errorf("%w (YAML reads yes, no, on and off as booleans: quote the value)", err)
	}
	return name, base, runs, err
}

func decodeScenarioFile(path string, data []byte) (name string, base fileFields, runs []fileFields, err error) {
	var sf scenarioFile
	if err := strictDecode(data, &sf); err != nil {
		return "", base, nil, fmt.Errorf("%s: %w", path, err)
	}
	if sf.Base != nil {
		if err := strictDecode(sf.Base, &base); err != nil {
			return "", base, nil, fmt.Errorf("%s: base: %w", path, err)
		}
		if base.Name != nil {
			return "", base, nil, fmt.Errorf("%s: base: key \"name\" belongs to a run", path)
		}
	}
	if len(sf.Runs) == 0 {
		return "", base, nil, fmt.Errorf("%s: key \"runs\": want at least one run", path)
	}
	seen := map[string]bool{}
	for i, raw := range sf.Runs {
		var r fileFields
		if err := strictDecode(raw, &r); err != nil {
			return "", base, nil, fmt.Errorf("%s: runs[%d]: %w", path, i, err)
		}
		if r.Name == nil || *r.Name == "" || strings.ContainsAny(*r.Name, " /\\\t\n") {
			return "", base, nil, fmt.Errorf("%s: runs[%d]: key \"name\": want a name without spaces or slashes", path, i)
		}
		if seen[*r.Name] {
			return "", base, nil, fmt.Errorf("%s: runs[%d]: key \"name\": %q is used twice", path, i, *r.Name)
		}
		seen[*r.Name] = true
		runs = append(runs, r)
	}
	name = sf.Name
	if name == "" {
		name = "file"
	}
	return name, base, runs, nil
}

// isYAML reports whether a scenario file is YAML, by its extension (.yaml or .yml); any
// other file is JSON.
func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// strictDecode decodes one JSON object into v, refusing unknown keys, wrong types and
// trailing data, with errors that name the key.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return fmt.Errorf("key %q: want %v, got %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return errors.New("not valid JSON: it ends too soon")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("unknown key %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		default:
			return err
		}
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// parseEnum parses *v into *dst when the file has the key, reporting a bad value by key.
func parseEnum[T any](dst *T, key string, v *string, parse func(string) (T, error), report func(string, error)) {
	if v == nil {
		return
	}
	x, err := parse(*v)
	report(key, err)
	*dst = x
}

// apply sets on s every field ff has; errors name the key.
func (ff *fileFields) apply(s *nicmodel.Scenario) error {
	var err error
	set := func(key string, e error) {
		if e != nil && err == nil {
			err = fmt.Errorf("key %q: %v", key, e)
		}
	}
	parseEnum(&s.Mode, "mode", ff.Mode, nicmodel.ParseMode, set)
	parseEnum(&s.Idle, "idle", ff.Idle, core.ParseIdleStrategy, set)
	parseEnum(&s.RSS, "rss", ff.RSS, nicmodel.ParseRSSMode, set)
	parseEnum(&s.FanOut, "fan_out", ff.FanOut, nicmodel.ParseFanOut, set)
	parseEnum(&s.CPUs, "cpus", ff.CPUs, affinity.ParseCPUList, set)
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setDur := func(dst *time.Duration, key string, v *duration) {
		if v != nil {
			d, e := time.ParseDuration(string(*v))
			set(key, e)
			*dst = d
		}
	}
	setInt(&s.Queues, ff.Queues)
	setInt(&s.VCPUs, ff.VCPUs)
	setInt(&s.RingSize, ff.RingSize)
	setInt(&s.Buffers, ff.Buffers)
	setInt(&s.Throttle, ff.Throttle)
	setInt(&s.ModerationPackets, ff.ModerationPackets)
	setInt(&s.IndicateBatch, ff.IndicateBatch)
	setInt(&s.Flows.Count, ff.Flows)
	setInt(&s.Sizes.Fixed, ff.Size)
	setDur(&s.Budget, "budget", ff.Budget)
	setDur(&s.ModerationInterval, "moderation_interval", ff.ModerationInterval)
	setDur(&s.MMIORead, "mmio_read", ff.MMIORead)
	setDur(&s.PerPacket, "per_packet", ff.PerPacket)
	setDur(&s.PerIndication, "per_indication", ff.PerIndication)
	setDur(&s.Duration, "duration", ff.Duration)
	setDur(&s.Warmup, "warmup", ff.Warmup)
	if ff.MSISync != nil {
		s.MSISync = *ff.MSISync
	}
	if ff.Schedule != nil {
		s.Schedule.Kind = *ff.Schedule
	}
	if ff.RatePPS != nil {
		s.Schedule.RatePPS = *ff.RatePPS
	}
	if ff.RampToPPS != nil {
		s.Schedule.RampToPPS = *ff.RampToPPS
	}
	var ramp, on, off time.Duration
	setDur(&ramp, "ramp", ff.Ramp)
	setDur(&on, "on", ff.On)
	setDur(&off, "off", ff.Off)
	if ff.Ramp != nil {
		s.Schedule.RampNs = int64(ramp)
	}
	if ff.On != nil {
		s.Schedule.OnNs = int64(on)
	}
	if ff.Off != nil {
		s.Schedule.OffNs = int64(off)
	}
	if ff.FlowDist != nil {
		s.Flows.Dist = *ff.FlowDist
	}
	if ff.ZipfS != nil {
		s.Flows.ZipfS = *ff.ZipfS
	}
	if ff.IMIX != nil {
		s.Sizes.IMIX = *ff.IMIX
		if *ff.IMIX && ff.Size == nil {
			s.Sizes.Fixed = 0
		}
	}
	if ff.NoiseRate != nil {
		s.NoiseRate = *ff.NoiseRate
	}
	if ff.Seed != nil {
		s.Seed = *ff.Seed
	}
	return err
}

// fileScenario turns a scenario file into a scenario definition with one variant per run.
func fileScenario(path string) (*scenarioDef, error) {
	name, base, runs, err := loadScenarioFile(path)
	if err != nil {
		return nil, err
	}
	def := &scenarioDef{name: name, summary: "from " + path, file: path}
	var probe nicmodel.Scenario
	if err := base.apply(&probe); err != nil {
		return nil, fmt.Errorf("%s: base: %w", path, err)
	}
	def.base = func(s *nicmodel.Scenario) { _ = base.apply(s) }
	for i := range runs {
		r := runs[i]
		if err := r.apply(&probe); err != nil {
			return nil, fmt.Errorf("%s: runs[%d] (%s): %w", path, i, *r.Name, err)
		}
		def.variants = append(def.variants, variant{*r.Name, func(s *nicmodel.Scenario) { _ = r.apply(s) }})
	}
	return def, nil
}
