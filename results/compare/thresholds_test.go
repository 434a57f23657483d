package compare

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // String() of the result; "" for an error
		err  string // in the error
	}{
		{"packet_latency.p99=+10%", "packet_latency.p99=+10%", ""},
		{"achieved=-2%", "achieved_pps=-2%", ""},               // the alias
		{"drop_pct=+0.05pp", "drop_pct=+0.05pp", ""},           // points
		{"packet_latency.*=+15%", "packet_latency.*=+15%", ""}, // one histogram
		{"*.p99.9=+25.50%", "*.p99.9=+25.5%", ""},              // one figure of all
		{"dpc_duration.p99.5=+20%", "dpc_duration.p99.5=+20%", ""},
		{"packet_latency.max=off", "packet_latency.max=off", ""},
		{"behind_max_ns=+50%", "behind_max_ns=+50%", ""},
		{"packet_latency.p99=-10%", "", "better lower"},     // wrong direction
		{"achieved_pps=+2%", "", "better higher"},           // wrong direction
		{"drop_pct=+1%", "", "points (pp)"},                 // wrong unit
		{"packet_latency.p99=+1pp", "", "a percentage (%)"}, // wrong unit
		{"packet_latency.p99=10%", "", "want a sign"},       // no sign
		{"packet_latency.p99=+10", "", "want a sign"},       // no unit
		{"packet_latency.p99=+1e3%", "", "want a sign"},     // no exponents
		{"packet_latency.p99=+.5%", "", "want a sign"},      // digits before the point
		{"packet_latency.p98=+10%", "", `unknown metric "packet_latency.p98"`},
		{"latency.p99=+10%", "", `unknown metric "latency.p99"`},
		{"dpc_batch_size.p99=+10%", "", "never gated"}, // better neither
		{"dpc_batch_size.*=+10%", "", "never gated"},
		{"offered_pps=+1%", "", "never gated"},
		{"*.p98=+10%", "", `unknown figure "p98"`},
		{"*=+10%", "", "name a metric"},
		{"packet_latency.p99", "", "want NAME=VALUE"},
		{"packet_latency.p99=+2000000%", "", "up to"},
	} {
		got, err := ParseThreshold(tt.in)
		switch {
		case tt.want != "" && (err != nil || got.String() != tt.want):
			t.Errorf("ParseThreshold(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		case tt.want == "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in))):
			t.Errorf("ParseThreshold(%q) error %v; want one quoting the input and saying %q", tt.in, err, tt.err)
		}
	}
}

// TestResolve: of the user's thresholds the metric's own name wins, then its
// histogram's pattern, then its figure's; then the defaults; metrics of neither
// direction get none.
func TestResolve(t *testing.T) {
	parse := func(ss ...string) []Threshold {
		var out []Threshold
		for _, s := range ss {
			th, err := ParseThreshold(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, th)
		}
		return out
	}
	user := parse("packet_latency.*=+5%", "*.p99=+7%", "packet_latency.p50=+3%")
	for name, want := range map[string]string{
		"packet_latency.p50":  "+3%",  // own name
		"packet_latency.p99":  "+5%",  // the histogram's pattern before the figure's
		"packet_latency.max":  "+5%",  // a pattern
		"dpc_duration.p99":    "+7%",  // a pattern
		"dpc_duration.p50":    "+15%", // a default
		"dpc_duration.p99.9":  "+50%", // a default
		"irq_delivery.p50":    "off",  // the histogram's default before the figure's
		"packet_service.p50":  "off",  // likewise
		"dpc_duration.p99.99": "off",  // a default
		"generator_lag.p50":   "off",  // the histogram's default before the figure's
		"achieved_pps":        "-2%",
		"drop_pct":            "+0.1pp",
		"dpc_batch_size.p50":  "",
		"behind_max_ns":       "",
		"offered_pps":         "",
	} {
		th, ok := resolve(user, name)
		if got := th.ValueString(); (want == "") == ok || (ok && got != want) {
			t.Errorf("resolve(%s) = %s, %v; want %q", name, got, ok, want)
		}
	}
}

// TestDefaultsParse: every default is a threshold ParseThreshold accepts as written.
func TestDefaultsParse(t *testing.T) {
	for _, d := range DefaultThresholds() {
		got, err := ParseThreshold(d.String())
		if err != nil || got != d {
			t.Errorf("default %s: %v, %v", d, got, err)
		}
	}
}

func TestParseThresholdsFile(t *testing.T) {
	for _, tt := range []struct {
		name, data string
		want       string // the thresholds, or the error's text
		ok         bool
	}{
		{"t.yaml", "packet_latency.p99: +10%\nachieved: -1%\ndrop_pct: +0.2pp\n", "achieved_pps=-1% drop_pct=+0.2pp packet_latency.p99=+10%", true},
		{"t.json", `{"packet_latency.*": "+15%", "*.max": "off"}`, "packet_latency.*=+15% *.max=off", true},
		{"t.json", `{}`, "", true},
		{"t.json", `{"drop_pct": "+1pp", "drop_pct": "+2pp"}`, `t.json: key "drop_pct" appears twice`, false},
		{"t.yaml", "drop_pct: +1pp\ndrop_pct: +2pp\n", `t.yaml`, false},
		{"t.json", `{"achieved": "-1%", "achieved_pps": "-2%"}`, `t.json: key "achieved_pps": names the metric of key "achieved" again`, false},
		{"t.json", `{"nosuch.p99": "+1%"}`, `t.json: key "nosuch.p99": unknown metric`, false},
		{"t.json", `{"drop_pct": 0.1}`, `t.json: key "drop_pct": want a string`, false},
		{"t.yaml", "packet_latency.max: off\n", `t.yaml: key "packet_latency.max": want a string such as "+10%", got false (YAML reads off`, false},
		{"t.json", `{"packet_latency.p99": "10%"}`, `t.json: key "packet_latency.p99": value "10%"`, false},
		{"t.json", `["+1%"]`, "t.json: want an object", false},
		{"t.json", `{"drop_pct": "+1pp"} x`, "t.json: ", false},
		{"t.json", `{"drop_pct": `, "t.json: not valid JSON", false},
	} {
		ts, err := ParseThresholdsFile(tt.name, []byte(tt.data))
		var got []string
		for _, th := range ts {
			got = append(got, th.String())
		}
		switch {
		case tt.ok && (err != nil || strings.Join(got, " ") != tt.want):
			t.Errorf("%s %q: %q, %v; want %q", tt.name, tt.data, got, err, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %q: error %v; want %q", tt.name, tt.data, err, tt.want)
		}
	}
}

// FuzzThresholds: ParseThreshold never panics; what it accepts, String writes back in
// a form it reads to the same threshold; every error quotes the input.
func FuzzThresholds(f *testing.F) {
	for _, s := range []string{"packet_latency.p99=+10%", "achieved=-2%", "drop_pct=+0.05pp", "*.p99.9=+20%",
		"packet_latency.*=off", "x", "=", "a.b=+1%", "dpc_duration.max=+0.000001%", "achieved_pps=-0%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("error %q does not quote the input %q", err, s)
			}
			return
		}
		again, err := ParseThreshold(th.String())
		if err != nil || again != th {
			t.Fatalf("%q → %v → %q → %v, %v", s, th, th.String(), again, err)
		}
	})
}

// FuzzThresholdsFile: a thresholds file never panics the parser, and every error
// names the file.
func FuzzThresholdsFile(f *testing.F) {
	f.Add(false, []byte(`{"packet_latency.p99": "+10%"}`))
	f.Add(true, []byte("achieved: -2%\ndrop_pct: +0.1pp\n"))
	f.Add(true, []byte("a: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, yaml bool, data []byte) {
		name := filepath.Join(os.TempDir(), "th.json")
		if yaml {
			name = "th.yaml"
		}
		ts, err := ParseThresholdsFile(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error %q does not name %s", err, name)
			}
			return
		}
		for _, th := range ts {
			if _, err := ParseThreshold(th.String()); err != nil {
				t.Fatalf("%s accepted %v, which does not parse back: %v", name, th, err)
			}
		}
	})
}
