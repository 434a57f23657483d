package scenario_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/costs"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
)

func TestDefaultIsValid(t *testing.T) {
	sc := scenario.Default().WithDefaults()
	if err := sc.Validate(); err != nil {
		t.Fatalf("Default().WithDefaults() is invalid: %v", err)
	}
	if sc.Driver != "reference" || sc.Duration != 3*time.Second || sc.Warmup != 500*time.Millisecond ||
		sc.Schedule.RatePPS != 1e6 || sc.Seed != 1 || sc.VCPUs < 1 || sc.Queues != sc.VCPUs || sc.Buffers != sc.RingSize {
		t.Errorf("defaults: %+v", sc)
	}
}

// TestZeroMeansDefaultOnlyWhereZeroMeansNothing: WithDefaults fills a literal's zero
// duration, ring and rate, and keeps a zero warm-up, seed and throttle, which mean
// something.
func TestZeroMeansDefaultOnlyWhereZeroMeansNothing(t *testing.T) {
	sc := scenario.Scenario{VCPUs: 2}.WithDefaults()
	d := scenario.Default()
	if sc.Duration != d.Duration || sc.RingSize != d.RingSize || sc.Schedule.RatePPS != d.Schedule.RatePPS || sc.Driver != d.Driver {
		t.Errorf("zero fields not filled: %+v", sc)
	}
	if sc.Warmup != 0 || sc.Seed != 0 || sc.Throttle != 0 {
		t.Errorf("warmup %v, seed %d, throttle %d: a zero that means something was replaced", sc.Warmup, sc.Seed, sc.Throttle)
	}
	if sc.Queues != 2 || sc.Buffers != sc.RingSize || sc.Sizes.Fixed != 64 {
		t.Errorf("automatic fields: queues %d buffers %d size %d", sc.Queues, sc.Buffers, sc.Sizes.Fixed)
	}
	if imix := (scenario.Scenario{Sizes: traffic.SizeConfig{Fixed: 64, IMIX: true}}).WithDefaults(); imix.Sizes.Fixed != 0 {
		t.Errorf("imix keeps size %d; want 0", imix.Sizes.Fixed)
	}
	if rss := (scenario.Scenario{VCPUs: 2, RSS: scenario.RSSDriver}).WithDefaults(); rss.Queues != 1 {
		t.Errorf("rss driver: queues %d, want 1", rss.Queues)
	}
}

// TestValidateNamesEveryBadField: every bad field is reported, by its file key.
func TestValidateNamesEveryBadField(t *testing.T) {
	tests := []struct {
		name string
		edit func(*scenario.Scenario)
		key  string
	}{
		{"queues", func(s *scenario.Scenario) { s.Queues = 65 }, "queues"},
		{"vcpus", func(s *scenario.Scenario) { s.VCPUs = 65 }, "vcpus"},
		{"ring", func(s *scenario.Scenario) { s.RingSize = 1000 }, "ring_size"},
		{"buffers", func(s *scenario.Scenario) { s.Buffers = -1 }, "buffers"},
		{"throttle", func(s *scenario.Scenario) { s.Throttle = -1 }, "throttle"},
		{"duration", func(s *scenario.Scenario) { s.Duration = -time.Second }, "duration"},
		{"warmup", func(s *scenario.Scenario) { s.Warmup = -time.Second }, "warmup"},
		{"spin", func(s *scenario.Scenario) { s.Spin = -1 }, "spin"},
		{"drain", func(s *scenario.Scenario) { s.DrainTimeout = -1 }, "drain_timeout"},
		{"noise needs line", func(s *scenario.Scenario) { s.NoiseRate = 10 }, "noise_rate"},
		{"driver rss one queue", func(s *scenario.Scenario) { s.RSS, s.Queues = scenario.RSSDriver, 4 }, "queues"},
		{"rss key", func(s *scenario.Scenario) { s.RSSKey = []byte{1} }, "rss_key"},
		{"indirection", func(s *scenario.Scenario) { s.IndirectionEntries = 3 }, "indirection_entries"},
		{"indicate batch", func(s *scenario.Scenario) { s.IndicateBatch = -1 }, "indicate_batch"},
		{"mode", func(s *scenario.Scenario) { s.Mode = 9 }, "mode"},
		{"idle", func(s *scenario.Scenario) { s.Idle = 9 }, "idle"},
		{"rss", func(s *scenario.Scenario) { s.RSS = 9 }, "rss"},
		{"fan out", func(s *scenario.Scenario) { s.FanOut = 9 }, "fan_out"},
		{"driver", func(s *scenario.Scenario) { s.Driver = "a b" }, "driver"},
		{"rate", func(s *scenario.Scenario) { s.Schedule.RatePPS = 1e9 }, "rate_pps"}, // above MaxRatePPS
		{"schedule", func(s *scenario.Scenario) { s.Schedule.Kind = "sawtooth" }, "schedule"},
		{"flows", func(s *scenario.Scenario) { s.Flows.Dist = "pareto" }, "flow_dist"},
		{"size", func(s *scenario.Scenario) { s.Sizes.Fixed = 10 }, "size"},
		{"trace window", func(s *scenario.Scenario) { s.TraceWindow = time.Microsecond }, "trace_window"},
		{"trace at", func(s *scenario.Scenario) { s.TraceAt = 9 }, "trace_at"},
		{"trace events", func(s *scenario.Scenario) { s.TraceEvents = 10 }, "trace_events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenario.Default().WithDefaults()
			tt.edit(&sc)
			err := sc.Validate()
			if err == nil || !errors.Is(err, scenario.ErrConfig) {
				t.Fatalf("Validate = %v, want an ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q does not name %q", err, tt.key)
			}
		})
	}
	sc := scenario.Default().WithDefaults()
	sc.Queues, sc.Throttle = 0, -5
	err := sc.Validate()
	if err == nil || !strings.Contains(err.Error(), "queues") || !strings.Contains(err.Error(), "throttle") {
		t.Errorf("two bad fields: Validate = %v, want both named", err)
	}
}

// everything returns a scenario whose every field differs from Default.
func everything() scenario.Scenario {
	s := scenario.Scenario{
		Driver: "minimal", Mode: nicmodel.ModeLine, VCPUs: 3, Queues: 5, CPUs: affinity.CPUList{0, 2, 3},
		NoPin: true, Idle: core.IdleSpin, Spin: 7 * time.Microsecond, RingSize: 256, Buffers: 100, Throttle: 8,
		Budget: time.Millisecond, ModerationInterval: 50 * time.Microsecond, ModerationPackets: 16,
		RSS: scenario.RSSDriver, RSSKey: []byte{1, 2, 3, 4, 5}, IndirectionEntries: 64, FanOut: scenario.FanOutTargets,
		IndicateBatch: 32, MSISync: true, NoPacketHists: true,
		Schedule: traffic.ScheduleConfig{Kind: traffic.KindRamp, RatePPS: 1e5, RampToPPS: 2e6, Ramp: time.Second, On: 3, Off: 4},
		Flows:    traffic.FlowConfig{Count: 99, Dist: traffic.DistZipf, ZipfS: 1.5, NonRSSPct: 12.5},
		Sizes:    traffic.SizeConfig{Fixed: 128, IMIX: true},
		Costs:    "x86-25g", MMIORead: time.Microsecond, IRQEntry: 1, IRQEOI: 2, IPISend: 3, IPIWake: 4,
		PerPacket: 70 * time.Nanosecond, RSSHash: 5, PerIndication: time.Microsecond, NoiseRate: 5e4,
		Duration: 2 * time.Second, Warmup: 0, DrainTimeout: time.Second,
		TraceWindow: time.Second, TraceAt: trace.AtWorst, TraceEvents: 5000,
	}
	s.Seed = 1<<64 - 1
	s.Schedule.Seed, s.Flows.Seed, s.Sizes.Seed = s.Seed, s.Seed, s.Seed // the traffic follows the scenario's seed
	return s
}

// TestMarshalRoundTrip: a scenario written as result.json's config reads back to the
// same scenario, onto Default or onto nothing: every field is a key.
func TestMarshalRoundTrip(t *testing.T) {
	for _, sc := range []scenario.Scenario{scenario.Default(), scenario.Default().WithDefaults(), everything()} {
		data, err := json.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		for _, onto := range []scenario.Scenario{scenario.Default(), everything(), {}} {
			got := onto
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if !reflect.DeepEqual(got, sc) {
				t.Errorf("round trip through %s:\n got %+v\nwant %+v", data, got, sc)
			}
		}
	}
}

// TestTableCoversScenario: each key sets exactly one field of Scenario, and every field
// (but the traffic seeds, which are the scenario's one seed) has its key: the table and
// the struct cannot drift apart.
func TestTableCoversScenario(t *testing.T) {
	all := everything()
	full, _ := json.Marshal(all)
	var values map[string]json.RawMessage
	json.Unmarshal(full, &values)
	reached := map[string]string{}
	for _, f := range scenario.Fields() {
		sc := scenario.Default()
		one, _ := json.Marshal(map[string]json.RawMessage{f.Key: values[f.Key]})
		if err := json.Unmarshal(one, &sc); err != nil {
			t.Fatalf("%s: %v", f.Key, err)
		}
		var changed []string
		for _, c := range diff(reflect.ValueOf(scenario.Default()), reflect.ValueOf(sc), "") {
			if f.Key != "seed" || !strings.HasSuffix(c, ".Seed") || c == ".Seed" { // seed also seeds the traffic
				changed = append(changed, c)
			}
		}
		if len(changed) != 1 {
			t.Errorf("key %s changes fields %v, want exactly one", f.Key, changed)
			continue
		}
		if other, ok := reached[changed[0]]; ok {
			t.Errorf("keys %s and %s both set %s", other, f.Key, changed[0])
		}
		reached[changed[0]] = f.Key
		if f.Doc == "" || f.Type == "" {
			t.Errorf("key %s has no doc or type", f.Key)
		}
	}
	for _, leaf := range leaves(reflect.TypeOf(scenario.Scenario{}), "") {
		if _, ok := reached[leaf]; !ok && !strings.HasSuffix(leaf, ".Seed") {
			t.Errorf("field %s has no key in the table", leaf)
		}
	}
}

// diff returns the paths of the leaf fields where a and b differ.
func diff(a, b reflect.Value, path string) []string {
	if a.Kind() == reflect.Struct {
		var out []string
		for i := 0; i < a.NumField(); i++ {
			out = append(out, diff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
		}
		return out
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return []string{path}
	}
	return nil
}

func leaves(t reflect.Type, path string) []string {
	if t.Kind() != reflect.Struct {
		return []string{path}
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		out = append(out, leaves(t.Field(i).Type, path+"."+t.Field(i).Name)...)
	}
	return out
}

func TestFieldsDescribeEveryKey(t *testing.T) {
	seen := map[string]bool{}
	var recording []string
	for _, f := range scenario.Fields() {
		if f.Recording {
			recording = append(recording, f.Key)
		}
		if seen[f.Key] || f.Key == "" || f.Key == "name" {
			t.Errorf("key %q empty, reserved or twice", f.Key)
		}
		seen[f.Key] = true
	}
	// Only the trace's keys change what a run records rather than what it runs.
	if got := strings.Join(recording, " "); got != "trace_window trace_at trace_events" {
		t.Errorf("recording keys %q", got)
	}
	if got := strings.Join(scenario.Keys(), " "); !strings.HasPrefix(got, "driver mode vcpus") {
		t.Errorf("Keys() = %s", got)
	}
}

func TestParseSetting(t *testing.T) {
	tests := []struct {
		key, text, canon, err string
	}{
		{"moderation-interval", "50µs", "50us", ""}, // a flag's '-' for '_'; canonical ASCII
		{"cpus", "3,1,2", "1-3", ""},
		{"cpus", "", "", ""},
		{"throttle", "8", "8", ""},
		{"throttle", "8.5", "", `"throttle"`},
		{"mode", "pci", "", "one of msix, msi, line"},
		{"rate_pps", "NaN", "", "finite"},
		{"seed", "-1", "", `"seed"`},
		{"nosuch", "1", "", `unknown key "nosuch"`},
		{"rss_key", "6d5a", "6d5a", ""},
		{"rss_key", "6d5", "", "hex"},
		{"imix", "true", "true", ""},
	}
	for _, tt := range tests {
		st, err := scenario.ParseSetting(tt.key, tt.text)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseSetting(%q, %q) = %v, want an error containing %s", tt.key, tt.text, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("ParseSetting(%q, %q): %v", tt.key, tt.text, err)
		case tt.err == "" && st.Text != tt.canon:
			t.Errorf("ParseSetting(%q, %q).Text = %q, want %q", tt.key, tt.text, st.Text, tt.canon)
		}
	}
}

func TestPatchOf(t *testing.T) {
	if p := scenario.PatchOf(scenario.Default()); len(p) != 0 {
		t.Errorf("PatchOf(Default()) = %v, want nothing", p)
	}
	sc := scenario.Default()
	sc.Mode, sc.Throttle = nicmodel.ModeLine, 8
	p := scenario.PatchOf(sc)
	if p.String() != "mode=line, throttle=8" {
		t.Errorf("PatchOf = %v", p)
	}
	back := scenario.Default()
	p.Apply(&back)
	if !reflect.DeepEqual(back, sc) {
		t.Errorf("applying PatchOf gives %+v", back)
	}
}

func TestParseFileErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"unknown key", `{"runs":[{"name":"a","throtle":3}]}`, `runs[0]: unknown key "throtle"`},
		{"wrong type", `{"runs":[{"name":"a","throttle":"3"}]}`, `runs[0]: key "throttle": want an integer, got string`},
		{"bad duration", `{"base":{"duration":"2 parsecs"},"runs":[{"name":"a"}]}`, `base: key "duration"`},
		{"bare number duration", `{"base":{"duration":2},"runs":[{"name":"a"}]}`, `want a duration string`},
		{"bad mode", `{"runs":[{"name":"a","mode":"pci"}]}`, `key "mode": "pci" is not one of msix, msi, line`},
		{"no runs", `{"base":{}}`, `"runs"`},
		{"runs not a list", `{"runs":{}}`, `"runs"`},
		{"unnamed", `{"runs":[{}]}`, `runs[0]: key "name"`},
		{"slash in name", `{"runs":[{"name":"a/b"}]}`, `runs[0]: key "name"`},
		{"name twice", `{"runs":[{"name":"a"},{"name":"a"}]}`, "used twice"},
		{"key twice", `{"runs":[{"name":"a","mode":"line","mode":"msix"}]}`, `key "mode" appears twice`},
		{"top level", `{"runz":[]}`, `unknown key "runz"`},
		{"name in base", `{"base":{"name":"x"},"runs":[{"name":"a"}]}`, `base: key "name" belongs to a run`},
		{"syntax", `{"runs":[`, "JSON"},
		{"trailing", `{"runs":[{"name":"a"}]} {}`, "after the JSON"},
		{"not an object", `[]`, "want an object"},
		{"min_vcpus zero", `{"min_vcpus":0,"runs":[{"name":"a"}]}`, `key "min_vcpus": must be 1..64, got 0`},
		{"min_vcpus text", `{"min_vcpus":"2","runs":[{"name":"a"}]}`, `key "min_vcpus": want an integer`},
	}
	for _, tt := range tests {
		_, err := scenario.ParseFile("f.json", []byte(tt.body))
		if err == nil || !strings.HasPrefix(err.Error(), "f.json: ") || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, scenario.ErrConfig) {
			t.Errorf("%s: %v; want an ErrConfig naming f.json and %q", tt.name, err, tt.want)
		}
	}
}

// TestParseFileYAMLIsItsJSONTwin: a .yaml file gives the same File as its JSON twin.
func TestParseFileYAMLIsItsJSONTwin(t *testing.T) {
	y, err := scenario.ParseFile("s.yaml", []byte(`# a comment
name: mine
summary: two runs
base:
  mode: line
  duration: 1s
  rate_pps: 100000
  imix: true
  cpus: 1
runs:
  - name: a
    throttle: 4
  - {name: b, fan_out: queue-dpc, queues: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := scenario.ParseFile("s.json", []byte(`{"name":"mine","summary":"two runs","base":{"mode":"line","duration":"1s","rate_pps":100000,"imix":true,"cpus":"1"},
		"runs":[{"name":"a","throttle":4},{"name":"b","fan_out":"queue-dpc","queues":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y) != fmt.Sprint(j) {
		t.Errorf("YAML and JSON differ:\n%v\n%v", y, j)
	}
	if y.Base.String() != "mode=line, cpus=1, rate_pps=100000, imix=true, duration=1s" {
		t.Errorf("base = %v", y.Base)
	}
	// Bursts in YAML: YAML 1.1 reads bare on and off as booleans, so the keys are
	// burst_on and burst_off.
	b, err := scenario.ParseFile("b.yaml", []byte("runs:\n  - {name: b, schedule: bursts, burst_on: 100us, burst_off: 400us}\n"))
	if err != nil || b.Runs[0].Set.String() != "schedule=bursts, burst_on=100us, burst_off=400us" {
		t.Errorf("bursts in YAML: %v, %v", b, err)
	}
	for _, tt := range []struct{ body, want string }{
		{"runs:\n  - name: a\n    mode: line\n    mode: msix\n", "mode"},
		{"runs: [\n", "yaml"},
		{"runs:\n  - name: off\n", "quote the value"},
	} {
		if _, err := scenario.ParseFile("f.yml", []byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error containing %q", tt.body, err, tt.want)
		}
	}
}

// TestFileMinVCPUs: a file's min_vcpus is read (YAML and JSON) and written back, and
// Resolve holds its runs to it: automatic vcpus resolve to at least that many (queues
// following), vcpus set higher stay, and vcpus set lower are refused naming the key.
func TestFileMinVCPUs(t *testing.T) {
	f, err := scenario.ParseFile("m.yaml", []byte("name: multi\nmin_vcpus: 3\nruns:\n  - name: a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.MinVCPUs != 3 {
		t.Fatalf("MinVCPUs = %d, want 3", f.MinVCPUs)
	}
	enc, _ := json.Marshal(f)
	if back, err := scenario.ParseFile("m.json", enc); err != nil || back.MinVCPUs != 3 {
		t.Errorf("round trip through %s: %v, %v", enc, back, err)
	}
	one := scenario.Default()
	one.CPUs = affinity.CPUList{0} // one CPU: automatic vcpus would be 1
	if one.Resolved().VCPUs != 1 {
		t.Fatalf("automatic vcpus on one CPU = %d, the test assumes 1", one.Resolved().VCPUs)
	}
	sc, err := f.Resolve(one)
	if err != nil || sc.VCPUs != 3 || sc.Queues != 3 {
		t.Errorf("Resolve(auto) = vcpus %d, queues %d, %v; want 3, 3 and no error", sc.VCPUs, sc.Queues, err)
	}
	more := one
	more.VCPUs = 5
	if sc, err := f.Resolve(more); err != nil || sc.VCPUs != 5 {
		t.Errorf("Resolve(vcpus 5) = %d, %v; want 5 kept", sc.VCPUs, err)
	}
	few := one
	few.VCPUs = 2
	_, err = f.Resolve(few)
	if !errors.Is(err, scenario.ErrConfig) || fmt.Sprint(scenario.ErrKeys(err)) != "[vcpus]" || !strings.Contains(err.Error(), "min_vcpus") {
		t.Errorf("Resolve(vcpus 2) = %v; want an ErrConfig naming vcpus and min_vcpus", err)
	}
	none := &scenario.File{Name: "any"}
	if sc, err := none.Resolve(one); err != nil || sc.VCPUs != 1 {
		t.Errorf("a file without min_vcpus: vcpus %d, %v; want the automatic 1", sc.VCPUs, err)
	}
}

// FuzzScenarioFile: any input is refused with an error naming the file, or it is a file
// that encodes and decodes back to itself, whose every run is a scenario that encodes
// and decodes back to itself.
func FuzzScenarioFile(f *testing.F) {
	f.Add([]byte(`{"name":"m","base":{"mode":"msix","duration":"2s"},"runs":[{"name":"a","throttle":8}]}`))
	f.Add([]byte(`{"runs":[{"name":"a","cpus":"0-3","moderation_interval":"50us","imix":true,"rss_key":"00112233"}]}`))
	f.Add([]byte(`{"runs":[{"name":"a","seed":18446744073709551615,"rate_pps":1.5e6,"warmup":0}]}`))
	f.Add([]byte(`{"runs":[{"name":"a","seed":-1}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"runs":[{"name":"a"},{"name":"b"}],"headline":[{"metric":"achieved_pps","compare":["a","b"]},` +
		`{"metric":"packet_latency","stats":["p99.9"],"series":["b","a"],"label":"x","min_vcpus":2}]}`))
	f.Add([]byte(`{"runs":[{"name":"a"}],"headline":[{"metric":"isr_to_dpc"}]}`))
	f.Add([]byte(`{"name":"x","min_vcpus":2,"runs":[{"name":"a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkRoundTrip(t, "f.json", data) })
}

// FuzzScenarioFileYAML: as FuzzScenarioFile, for a .yaml file.
func FuzzScenarioFileYAML(f *testing.F) {
	f.Add([]byte("name: m\nbase: {mode: msix, duration: 2s}\nruns:\n  - {name: a, throttle: 8}\n"))
	f.Add([]byte("runs:\n- name: a\n  cpus: 0-3\n  moderation_interval: 50us\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("runs: [{name: a}, {name: b}]\nheadline:\n  - {metric: dpc_batch_size, stats: [p50, max], series: [a, b]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRoundTrip(t, "f.yaml", data) })
}

func checkRoundTrip(t *testing.T, path string, data []byte) {
	file, err := scenario.ParseFile(path, data)
	if err != nil {
		if !strings.HasPrefix(err.Error(), path+": ") || !errors.Is(err, scenario.ErrConfig) {
			t.Errorf("error does not name the file or is no ErrConfig: %v", err)
		}
		return
	}
	enc, err := json.Marshal(file)
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	again, err := scenario.ParseFile("again.json", enc)
	if err != nil {
		t.Fatalf("the file's encoding %s does not parse: %v", enc, err)
	}
	if fmt.Sprint(again) != fmt.Sprint(file) {
		t.Errorf("file round trip:\n got %v\nwant %v", again, file)
	}
	for _, r := range file.Runs {
		sc := scenario.Default()
		file.Base.Apply(&sc)
		r.Set.Apply(&sc)
		cfg, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("run %s: Marshal: %v", r.Name, err)
		}
		back := scenario.Default()
		if err := json.Unmarshal(cfg, &back); err != nil {
			t.Fatalf("run %s: its config %s does not decode: %v", r.Name, cfg, err)
		}
		if !reflect.DeepEqual(back, sc) {
			t.Errorf("run %s: scenario round trip:\n got %+v\nwant %+v", r.Name, back, sc)
		}
		_ = sc.WithDefaults().Validate() // must not panic
	}
}

// FuzzParseSetting: a value either is refused or has a canonical text that parses to
// itself.
func FuzzParseSetting(f *testing.F) {
	for _, k := range scenario.Keys() {
		f.Add(k, "1")
	}
	f.Add("moderation_interval", "1h2m3.5s")
	f.Add("cpus", "0-3,7")
	f.Add("rate_pps", "1e6")
	f.Fuzz(func(t *testing.T, key, text string) {
		st, err := scenario.ParseSetting(key, text)
		if err != nil {
			return
		}
		again, err := scenario.ParseSetting(key, st.Text)
		if err != nil || again.Text != st.Text {
			t.Errorf("ParseSetting(%q, %q) = %q, which parses to %q, %v", key, text, st.Text, again.Text, err)
		}
	})
}

// TestTrafficErrorsNameTableKeys: every key traffic's validation names is a key of the
// table, so that an error in a file or a flag points at something the user can set.
func TestTrafficErrorsNameTableKeys(t *testing.T) {
	const ms = time.Millisecond
	var errs []error
	for _, c := range []traffic.ScheduleConfig{
		{Kind: "sawtooth", RatePPS: 1},
		{Kind: traffic.KindConstant, RatePPS: -1},
		{Kind: traffic.KindRamp, RatePPS: 1, Ramp: ms},
		{Kind: traffic.KindRamp, RatePPS: 1, RampToPPS: 2},
		{Kind: traffic.KindConstant, RatePPS: 1, RampToPPS: 2},
		{Kind: traffic.KindConstant, RatePPS: 1, Ramp: ms},
		{Kind: traffic.KindBursts, RatePPS: 1},
		{Kind: traffic.KindBursts, RatePPS: 1, On: ms, Off: -1},
		{Kind: traffic.KindBursts, RatePPS: 1, On: 1<<63 - 1, Off: 1},
		{Kind: traffic.KindConstant, RatePPS: 1, On: ms},
		{Kind: traffic.KindConstant, RatePPS: 1, Off: ms},
	} {
		errs = append(errs, c.Validate())
	}
	for _, c := range []traffic.FlowConfig{{Count: 0}, {Count: 1, ZipfS: 2}, {Count: 1, Dist: traffic.DistZipf}, {Count: 1, Dist: "x"}} {
		errs = append(errs, c.Validate())
	}
	for _, c := range []traffic.SizeConfig{{Fixed: 1}, {Fixed: 64, IMIX: true}} {
		errs = append(errs, c.Validate())
	}
	_, err := traffic.NewFlows(traffic.FlowConfig{Count: 1}, mustToeplitz(t, make([]byte, 8)))
	errs = append(errs, err)
	keys := scenario.Keys()
	for _, err := range errs {
		var ce *traffic.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%v is not a traffic.ConfigError", err)
			continue
		}
		if !slices.Contains(keys, ce.Key) {
			t.Errorf("traffic error %q names %q, which is no scenario key", err, ce.Key)
		}
	}
}

func mustToeplitz(t *testing.T, key []byte) *nicmodel.Toeplitz {
	t.Helper()
	tz, err := nicmodel.NewToeplitz(key)
	if err != nil {
		t.Fatal(err)
	}
	return tz
}

// FuzzParseNames: the enum parsers accept exactly the names their String methods print,
// and so do the scenario keys that hold them; anything else is an error, never a panic.
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"msix", "msi", "line", "nic", "driver", "targets", "queue-dpc", "spin-park", "", "MSIX", "line "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := nicmodel.ParseMode(s); err == nil && m.String() != s {
			t.Errorf("ParseMode(%q) = %v", s, m)
		}
		if m, err := scenario.ParseRSSMode(s); err == nil && m.String() != s {
			t.Errorf("ParseRSSMode(%q) = %v", s, m)
		}
		if m, err := scenario.ParseFanOut(s); err == nil && m.String() != s {
			t.Errorf("ParseFanOut(%q) = %v", s, m)
		}
		if m, err := core.ParseIdleStrategy(s); err == nil && m.String() != s {
			t.Errorf("ParseIdleStrategy(%q) = %v", s, m)
		}
		for _, key := range []string{"mode", "rss", "fan_out", "idle", "schedule", "flow_dist"} {
			if st, err := scenario.ParseSetting(key, s); err == nil && st.Text != s {
				t.Errorf("ParseSetting(%s, %q) = %q", key, s, st.Text)
			}
		}
	})
}

// TestCostProfile: the cost keys start from the profile "costs" names, whatever order a
// file gives them in; an explicit key, 0 included, overrides its profile value; a
// Scenario literal's unset cost is 0 (the zero profile's).
func TestCostProfile(t *testing.T) {
	prof, err := costs.Lookup(costs.Default)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       map[string]time.Duration // by key; others as the profile
		profile    string
	}{
		// the table's default: the zero profile
		{"default", `{}`, nil, costs.Zero},
		// the profile alone gives every value
		{"profile", `{"costs":"x86-25g"}`, nil, costs.Default},
		// an explicit key wins, before or after the profile in the file
		{"override after", `{"costs":"x86-25g","per_packet":"7ns"}`, map[string]time.Duration{"per_packet": 7}, costs.Default},
		{"override before", `{"mmio_read":"0s","costs":"x86-25g"}`, map[string]time.Duration{"mmio_read": 0}, costs.Default},
	}
	for _, tt := range tests {
		sc := scenario.Default()
		if err := json.Unmarshal([]byte(tt.file), &sc); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		sc = sc.Resolved()
		if err := sc.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", tt.name, err)
		}
		p, _ := costs.Lookup(tt.profile)
		got := map[string]time.Duration{}
		data, _ := json.Marshal(sc)
		var cfg map[string]any
		json.Unmarshal(data, &cfg)
		for _, k := range costs.Keys() {
			d, err := time.ParseDuration(cfg[k].(string))
			if err != nil {
				t.Fatalf("%s: %s: %v", tt.name, k, err)
			}
			got[k] = d
			want, ok := tt.want[k]
			if !ok {
				want = p.Cost(k)
			}
			if d != want {
				t.Errorf("%s: %s = %v, want %v", tt.name, k, d, want)
			}
		}
	}
	lit := scenario.Scenario{}.WithDefaults()
	if lit.Costs != costs.Zero || lit.MMIORead != 0 || lit.PerPacket != 0 {
		t.Errorf("literal: costs %q mmio %v per_packet %v, want zero, 0, 0", lit.Costs, lit.MMIORead, lit.PerPacket)
	}
	if prof.Cost(costs.MMIORead) == 0 {
		t.Error("the default profile has no MMIO read")
	}
	bad := scenario.Default()
	bad.Costs = "nope"
	if err := bad.Resolved().Validate(); err == nil || !strings.Contains(err.Error(), "costs") {
		t.Errorf("unknown profile: Validate = %v, want an error naming costs", err)
	}
	neg := scenario.Default().Resolved()
	neg.IPIWake = -2
	if err := neg.Validate(); err == nil || !strings.Contains(err.Error(), "ipi_wake") {
		t.Errorf("negative cost: Validate = %v, want an error naming ipi_wake", err)
	}
}
