package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
)

// TestBuildGolden checks every figure of one result set, point by point, against
// testdata/basic.golden.
func TestBuildGolden(t *testing.T) {
	src := writeSample(t, t.TempDir(), "basic", basicRuns)
	figs, errs := Build([]*Source{src}, Kinds())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	golden(t, "basic.golden", dump(t, figs))
}

// TestBuildGoldenBaseNew checks two result sets drawn together, as a comparison draws
// base and new, against testdata/base-new.golden.
func TestBuildGoldenBaseNew(t *testing.T) {
	dir := t.TempDir()
	base := writeSample(t, dir, "base", []sampleRun{
		{name: "msix", scale: 1, throttle: 8, ratePPS: 1_000_000, intervals: 2},
		{name: "line", scale: 3, ratePPS: 1_000_000, intervals: 2},
	})
	nu := writeSample(t, dir, "new", []sampleRun{
		{name: "msix", scale: 2, throttle: 8, ratePPS: 1_000_000, intervals: 2},
		{name: "line", scale: 2, ratePPS: 1_000_000, dropped: 1, intervals: 2},
	})
	srcs := []*Source{base, nu}
	SetLabels(srcs)
	figs, errs := Build(srcs, Kinds())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	golden(t, "base-new.golden", dump(t, figs))
}

// TestBuildGoldenSweep checks latency against offered load for runs that sweep the
// rate, against testdata/sweep.golden.
func TestBuildGoldenSweep(t *testing.T) {
	src := writeSample(t, t.TempDir(), "sweep", []sampleRun{
		{name: "r1", scale: 1, ratePPS: 100_000},
		{name: "r2", scale: 2, ratePPS: 200_000},
		{name: "r2", rep: 1, scale: 3, ratePPS: 200_000},
		{name: "r4", scale: 4, ratePPS: 400_000, dropped: 3}, // 1.5%: p99 and above lost
	})
	figs, errs := Build([]*Source{src}, []Kind{Rate})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if names := figureNames(figs); !slices.Equal(names, []string{"rate.achieved", "rate.drops", "rate.load"}) {
		t.Fatalf("figures %q", names)
	}
	golden(t, "sweep.golden", dump(t, figs))
}

func figureNames(figs []*Figure) []string {
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	return names
}

func figure(t *testing.T, figs []*Figure, name string) *Figure {
	t.Helper()
	for _, f := range figs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figure %s among %q", name, figureNames(figs))
	return nil
}

func series(t *testing.T, f *Figure, label string) Series {
	t.Helper()
	for _, s := range f.Series {
		if s.Label == label {
			return s
		}
	}
	var labels []string
	for _, s := range f.Series {
		labels = append(labels, s.Label)
	}
	t.Fatalf("%s: no series %q among %q", f.Name, label, labels)
	return Series{}
}

// TestBuildSemantics checks, beside the golden file, the facts a reader relies on.
func TestBuildSemantics(t *testing.T) {
	src := writeSample(t, t.TempDir(), "basic", basicRuns)
	figs, _ := Build([]*Source{src}, Kinds())

	spec := figure(t, figs, "spectrum.packet_latency")
	// The invalid repetition is drawn faint, not in the median; the median is bold.
	msix := series(t, spec, "msix (1 of 3 invalid)")
	if msix.Weight != Bold || len(msix.Points) == 0 || msix.Points[0].X != 1 {
		t.Errorf("msix median: %+v", msix)
	}
	faint := 0
	for _, s := range spec.Series {
		if s.Weight == Faint {
			faint++
		}
	}
	if faint != 3+2 {
		t.Errorf("%d faint repetitions, want msix's 3 and line's 2", faint)
	}
	// line dropped 4 of 604 packets (0.66%): its line ends at or below 99.34%, and says so.
	line := series(t, spec, "line (1 of 2 invalid), 0.66% dropped: lost above 99.34%, clamped at the ceiling")
	if last := line.Points[len(line.Points)-1].X; last > 1/(1-0.9934) {
		t.Errorf("line's spectrum goes on to 1/(1-p) = %v, past the lost percentiles", last)
	}
	// nohists has no per-packet latencies: not drawn, and the note says so.
	if !slices.ContainsFunc(spec.Notes, func(n string) bool { return strings.Contains(n, "no_packet_hists): nohists") }) {
		t.Errorf("notes %q do not name nohists", spec.Notes)
	}
	if spec.X.Ticks[0].Label != "0%" || spec.X.Ticks[1].Label != "90%" || spec.X.Ticks[3].Label != "99.9%" {
		t.Errorf("percentile ticks %+v", spec.X.Ticks)
	}

	// Over time: the invalid repetitions' intervals are flagged, and the one with the
	// clamped value, at the ceiling (10 ms).
	tm := figure(t, figs, "time.packet_latency")
	var flagged []Point
	for _, s := range tm.Series {
		if s.Style == Marks {
			flagged = append(flagged, s.Points...)
		}
	}
	if len(flagged) != 3+3+1 || !slices.ContainsFunc(flagged, func(p Point) bool { return p.X == 0.1 && p.Y >= 10 }) {
		t.Errorf("flagged intervals %+v, want msix r2's 3, line r1's 3 and line r0's at 0.1s, 10 ms", flagged)
	}
	if !strings.HasSuffix(tm.Y.Label, "(ms)") && !strings.HasSuffix(tm.Y.Label, "(µs)") {
		t.Errorf("y label %q has no unit", tm.Y.Label)
	}
	for _, s := range tm.Series {
		for _, p := range s.Points {
			if p.X < 0 || p.X > 0.3 {
				t.Errorf("%q: an interval at %vs, outside the run", s.Label, p.X)
			}
		}
	}

	// Batch sizes: each run's cap in its legend, reaching 100% at the cap.
	b := figure(t, figs, "batch.dpc_batch_size")
	capped := series(t, b, "msix (1 of 3 invalid), cap 8")
	if last := capped.Points[len(capped.Points)-1]; last.X != 8 || last.Y != 100 {
		t.Errorf("msix's batches end at %+v, want 100%% at 8", last)
	}
	series(t, b, "line (1 of 2 invalid), no cap")

	// Rates: the median and spread of the valid repetitions.
	r := figure(t, figs, "rate.achieved")
	if p := series(t, r, "msix (1 of 3 invalid)").Points[0]; p.Y != 1 || p.Lo != 1 || p.Hi != 1 {
		t.Errorf("msix achieved %+v, want 1 Mpps", p)
	}
	if _, ok := slices.BinarySearch(figureNames(figs), "rate.load"); ok {
		t.Error("a load figure for runs that all had one rate")
	}
}

// TestImagesDecode draws every figure as PNG and SVG: the PNG decodes, the SVG is XML
// with an svg root and names no font without a fallback.
func TestImagesDecode(t *testing.T) {
	dir := t.TempDir()
	a := writeSample(t, dir, "a", basicRuns)
	b := writeSample(t, dir, "b", basicRuns[:2])
	srcs := []*Source{a, b}
	SetLabels(srcs)
	figs, errs := Build(srcs, Kinds())
	if len(errs) > 0 || len(figs) < 8 {
		t.Fatalf("%d figures, errors %v", len(figs), errs)
	}
	for _, f := range figs {
		for _, format := range []Format{PNG, SVG} {
			var buf bytes.Buffer
			n, err := Image{f, format}.WriteTo(&buf)
			if err != nil || n != int64(buf.Len()) || n == 0 {
				t.Fatalf("%s.%s: %d bytes, %v", f.Name, format, n, err)
			}
			if format == PNG {
				img, err := png.Decode(&buf)
				if err != nil || img.Bounds().Dx() != width*pngDPI/72 {
					t.Errorf("%s.png: %v (width %v)", f.Name, err, img)
				}
				continue
			}
			checkSVG(t, f.Name, buf.Bytes())
		}
	}
}

// checkSVG checks that data is well-formed XML whose root is an svg element, and
// that its fonts fall back to sans-serif.
func checkSVG(t *testing.T, name string, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s.svg: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("%s.svg: root element %q", name, root)
	}
	if bytes.Contains(data, []byte("font-family:Liberation Sans;")) || !bytes.Contains(data, []byte("sans-serif")) {
		t.Errorf("%s.svg: a font without a fallback", name)
	}
}

// TestTimeWithoutOrWithBadLog checks that a run without a .hlog is named in a note,
// and that one that does not read is an error naming the file, the other figures
// still built.
func TestTimeWithoutOrWithBadLog(t *testing.T) {
	src := writeSample(t, t.TempDir(), "s", basicRuns[:2])
	if err := os.Remove(filepath.Join(src.Dir, "line.hlog")); err != nil {
		t.Fatal(err)
	}
	figs, errs := Build([]*Source{src}, []Kind{Time})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tm := figure(t, figs, "time.isr_to_dpc")
	if !slices.Contains(tm.Notes, "No interval log: line.hlog.") {
		t.Errorf("notes %q", tm.Notes)
	}
	os.WriteFile(filepath.Join(src.Dir, "line.hlog"), []byte("Tag=x,1,2\n"), 0o644)
	figs, errs = Build([]*Source{src}, []Kind{Time, Rate})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line.hlog:1") {
		t.Errorf("errors %v, want one naming line.hlog:1", errs)
	}
	if len(figs) != 2 { // rate.achieved, rate.drops
		t.Errorf("figures %q", figureNames(figs))
	}
}

func TestParseKindsAndFormats(t *testing.T) {
	tests := []struct {
		in, want string // want: the kinds joined, or "error"
	}{
		{"", "spectrum time batch rate"},        // default: all
		{"all", "spectrum time batch rate"},     // all, spelled out
		{"rate,spectrum,rate", "rate spectrum"}, // in the given order, once each
		{" time , batch", "time batch"},         // spaces around names
		{"spectra", "error"},                    // unknown kind
		{"rate,", "error"},                      // empty name
	}
	for _, tt := range tests {
		ks, err := ParseKinds(tt.in)
		got := "error"
		if err == nil {
			var s []string
			for _, k := range ks {
				s = append(s, string(k))
			}
			got = strings.Join(s, " ")
		}
		if got != tt.want {
			t.Errorf("ParseKinds(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if fs, err := ParseFormats("svg,png,svg"); err != nil || !slices.Equal(fs, []Format{SVG, PNG}) {
		t.Errorf("ParseFormats: %v, %v", fs, err)
	}
	if _, err := ParseFormats("jpeg"); err == nil || !strings.Contains(err.Error(), `"jpeg"`) {
		t.Errorf("ParseFormats(jpeg): %v", err)
	}
}

func TestAxes(t *testing.T) {
	tests := []struct {
		name string
		a    Axis
		want string // min..max and the labelled ticks
	}{
		// Two decades: 1-2-5 steps, every one labelled.
		{"log 2 decades", logAxis("", 3, 420), "2..500: 2 5 10 20 50 100 200 500"},
		// Five decades: only powers of ten labelled.
		{"log 5 decades", logAxis("", 0.7, 31000), "0.5..5e+04: 1 10 100 1000 10000"},
		// Linear from 0 in steps of 1, 2 or 5 times a power of ten.
		{"linear", linearAxis("", 0, 0.93), "0..1: 0 0.2 0.4 0.6 0.8 1"},
		// The spectrum's axis: a tick per decade of 1/(1−p), at least to 99%.
		{"percentile", percentileAxis(3000), "1..1e+04: 0% 90% 99% 99.9% 99.99%"},
		// Batch sizes: powers of two, 0 drawn at 0.5.
		{"batch", batchAxis(100, true), "0.5..128: 0 1 2 4 8 16 32 64 128"},
	}
	for _, tt := range tests {
		var labels []string
		for _, tk := range tt.a.Ticks {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := num(tt.a.Min) + ".." + num(tt.a.Max) + ": " + strings.Join(labels, " "); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestSpectrumGrid checks the spectrum's x values: from 0%, a twentieth of a decade
// apart, ending at the last value's rank.
func TestSpectrumGrid(t *testing.T) {
	g := spectrumGrid(1000)
	if len(g) != 61 || g[0] != 1 || g[len(g)-1] != 1000 || g[len(g)-2] >= 1000 {
		t.Errorf("grid of 1000: %d points, %v .. %v", len(g), g[0], g[len(g)-1])
	}
	if g := spectrumGrid(1); len(g) != 1 || g[0] != 1 {
		t.Errorf("grid of 1: %v", g)
	}
}

// TestOpenErrors checks that a directory without a readable result.json is an error
// naming the file.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), results.ResultFile) {
		t.Errorf("Open(empty dir): %v", err)
	}
	os.WriteFile(filepath.Join(dir, results.ResultFile), []byte("{"), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), results.ResultFile+":1") {
		t.Errorf("Open(bad result.json): %v", err)
	}
}

func TestLostLabel(t *testing.T) {
	for d, want := range map[float64]string{
		4.75:    "4.75% dropped: lost above 95.25%",     // two decimals
		0.35:    "0.35% dropped: lost above 99.65%",     // still two
		0.00213: "0.0021% dropped: lost above 99.9979%", // enough not to read 0.00% and 100.00%
		100:     "100.00% dropped: lost above 0.00%",    // nothing delivered
	} {
		if got := lostLabel(d); got != want {
			t.Errorf("lostLabel(%v) = %q, want %q", d, got, want)
		}
	}
}
