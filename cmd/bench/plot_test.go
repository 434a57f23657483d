package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
)

// writeFakeDir writes fakeResult's runs as a result set in dir/name (no .hlog files).
func writeFakeDir(t *testing.T, dir, name, scenario string, runs ...fakeRun) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := results.WriteDir(path, &results.Output{Result: fakeResult(t, scenario, runs...)}); err != nil {
		t.Fatal(err)
	}
	return path
}

// fakeRuns are two runs of msi-vs-line, one with drops.
var fakeRuns = []fakeRun{
	{name: "msix", lat: []int64{500, 600, 700, 900, 4000}, isr: []int64{80, 90, 120}, batch: []int64{1, 2, 2, 5}},
	{name: "line", lat: []int64{700, 800, 2000}, dropped: 1, isr: []int64{100, 300}, batch: []int64{1, 1, 3}},
}

// checkImages checks that every file in dir decodes: PNGs as PNG, SVGs as XML with an
// svg root. It returns the files' names.
func checkImages(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(e.Name()) {
		case ".png":
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			}
		case ".svg":
			d, root := xml.NewDecoder(bytes.NewReader(data)), ""
			for {
				tok, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("%s: %v", e.Name(), err)
					break
				}
				if se, ok := tok.(xml.StartElement); ok && root == "" {
					root = se.Name.Local
				}
			}
			if root != "svg" {
				t.Errorf("%s: root %q", e.Name(), root)
			}
		default:
			t.Errorf("%s: not an image bench plot writes", e.Name())
		}
	}
	return names
}

func TestPlotTwoDirectories(t *testing.T) {
	dir := t.TempDir()
	base := writeFakeDir(t, dir, "base", "msi-vs-line", fakeRuns...)
	nu := writeFakeDir(t, dir, "new", "msi-vs-line", fakeRuns...)
	out := filepath.Join(dir, "plots")
	stdout, stderr, code := runCLI("plot", "-o", out, base, nu)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	names := checkImages(t, out)
	for _, want := range []string{"spectrum.packet_latency.png", "spectrum.isr_to_dpc.svg", "batch.dpc_batch_size.png", "rate.achieved.svg", "rate.drops.png"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s among %q", want, names)
		}
	}
	if n := strings.Count(stdout, "wrote "); n != len(names) {
		t.Errorf("stdout names %d files, %d written:\n%s", n, len(names), stdout)
	}
	svg, _ := os.ReadFile(filepath.Join(out, "spectrum.packet_latency.svg"))
	for _, want := range []string{"base msix", "new line, 25.00% dropped: lost above 75.00%", "msi-vs-line: packet_latency, percentile spectrum"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("spectrum.packet_latency.svg lacks %q", want)
		}
	}
	// One format, one kind: only those.
	out2 := filepath.Join(dir, "svg")
	if _, stderr, code := runCLI("plot", "-format", "svg", "-kind", "rate", "-o", out2, base); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if names := checkImages(t, out2); !slices.Equal(names, []string{"rate.achieved.svg", "rate.drops.svg"}) {
		t.Errorf("-format svg -kind rate wrote %q", names)
	}
}

// TestPlotBadInputExits2: each kind of bad input exits 2 naming the flag or the file,
// and writes no image.
func TestPlotBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	good := writeFakeDir(t, dir, "good", "msi-vs-line", fakeRuns...)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	broken := filepath.Join(dir, "broken")
	os.Mkdir(broken, 0o755)
	os.WriteFile(filepath.Join(broken, results.ResultFile), []byte(`{"schema": "ndisbench/result",`), 0o644)
	aFile := filepath.Join(dir, "a-file")
	os.WriteFile(aFile, []byte("x"), 0o644)
	out := filepath.Join(dir, "out")
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"plot", "-o", out}, "no result directory"},                                   // no directory
		{[]string{"plot", "-o", out, filepath.Join(dir, "nosuch")}, "nosuch: not a result"},    // missing directory
		{[]string{"plot", "-o", out, aFile}, "a-file: not a result directory"},                 // a file
		{[]string{"plot", "-o", out, empty}, filepath.Join(empty, results.ResultFile)},         // no result.json
		{[]string{"plot", "-o", out, broken}, filepath.Join(broken, results.ResultFile) + ":"}, // unreadable result.json
		{[]string{"plot", "-o", out, "-format", "gif", good}, `flag -format: unknown format "gif"`},
		{[]string{"plot", "-o", out, "-kind", "spectra", good}, `flag -kind: unknown kind "spectra"`},
		{[]string{"plot", good, "-o", out}, "flag -o after the directories"},         // flags go first
		{[]string{"plot", "-o", aFile, good}, "-o: " + aFile + " exists and is not"}, // -o a file
		{[]string{"plot", "-o", out, "-kind", "time", good}, "nothing to draw"},      // no .hlog: no over-time plot
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("bench %q: exit %d, stderr %q; want exit 2 naming %q", tt.args, code, stderr, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused bench plot created %s", out)
	}
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	d := writeFakeDir(t, dir, "out", "msi-vs-line", fakeRuns...)
	stdout, stderr, code := runCLI("report", d)
	if code != 0 || !strings.Contains(stdout, "wrote "+filepath.Join(d, results.ReportFile)) {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	page, err := os.ReadFile(filepath.Join(d, results.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h2>Headline</h2>", "achieved_pps: ", // the built-in scenario's headline
		"<h2>Runs</h2>", "scenario msi-vs-line: the same seeded traffic", // the run table
		`data-plot="spectrum.packet_latency"`, `data-plot="rate.achieved"`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("http://")) || bytes.Contains(page, []byte("https://")) {
		t.Error("report.html holds a URL")
	}
	// A scenario of one's own: no headline unless its file is given.
	own := writeFakeDir(t, dir, "own", "mine", fakeRuns...)
	if _, stderr, code := runCLI("report", own); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	page, _ = os.ReadFile(filepath.Join(own, results.ReportFile))
	if !bytes.Contains(page, []byte("headline: none: result.json does not record its scenario file&#39;s headline")) {
		t.Error("report.html of a scenario of one's own does not say why it has no headline")
	}
	cfg := filepath.Join(dir, "mine.yaml")
	os.WriteFile(cfg, []byte("name: mine\nruns:\n  - {name: msix}\n  - {name: line}\nheadline:\n  - {metric: achieved_pps, compare: [msix, line]}\n"), 0o644)
	if _, stderr, code := runCLI("report", "-config", cfg, own); code != 0 {
		t.Fatalf("-config: exit %d: %s", code, stderr)
	}
	page, _ = os.ReadFile(filepath.Join(own, results.ReportFile))
	if !bytes.Contains(page, []byte("achieved_pps: msix")) {
		t.Error("report -config does not show the file's headline")
	}
}

func TestReportBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	good := writeFakeDir(t, dir, "good", "msi-vs-line", fakeRuns...)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report"}, "want one result directory, got 0"},
		{[]string{"report", good, empty}, "want one result directory, got 2"},
		{[]string{"report", empty}, filepath.Join(empty, results.ResultFile)},
		{[]string{"report", "-config", filepath.Join(dir, "nosuch.yaml"), good}, "-config"},
		{[]string{"report", good, "-config", "x"}, "flag -config after the directories"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("bench %q: exit %d, stderr %q; want exit 2 naming %q", tt.args, code, stderr, tt.want)
		}
	}
	for _, d := range []string{good, empty} {
		if _, err := os.Stat(filepath.Join(d, results.ReportFile)); err == nil {
			t.Errorf("a refused bench report wrote %s", filepath.Join(d, results.ReportFile))
		}
	}
}
