package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/metric"
	"github.com/ndisbench/ndisbench/results/plot"
)

// writeSet writes a small result set into dir/name (sampleSet).
func writeSet(t testing.TB, dir, name string) *plot.Source {
	t.Helper()
	src, err := sampleSet(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// sampleSet writes a small result set into dir/name: runs msix and line, the second
// not valid, each with three histograms and two intervals.
func sampleSet(dir, name string) (*plot.Source, error) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res := results.New("sample", results.Environment{GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64", NumCPU: 2, CPUModel: "Test <CPU> & co"})
	res.Started, res.Finished = t0, t0.Add(time.Minute)
	out := &results.Output{Result: res}
	for i, mode := range []string{"msix", "line"} {
		run := results.Run{Name: mode, Started: t0.Add(time.Duration(i) * time.Second), DurationNs: 1e9,
			Config:     json.RawMessage(fmt.Sprintf(`{"mode":%q,"rate_pps":1000000,"throttle":8}`, mode)),
			Counters:   map[string]uint64{metric.MeasuredDropped: uint64(i)},
			Rates:      results.Rates{OfferedPPS: 1e6, GeneratedPPS: 1e6, AchievedPPS: 0.9e6},
			Histograms: map[string]results.Histogram{},
			Validity:   &results.Validity{Valid: i == 0, Interference: results.Interference{StealNs: -1, OtherCPUNs: -1, OtherCPUPct: -1}},
		}
		if i == 1 {
			run.Validity.Reasons = []string{"the host stalled it"}
		}
		var sets []results.IntervalSet
		whole := map[string]*hdrhistogram.Histogram{}
		for k := 0; k < 2; k++ {
			set := results.IntervalSet{Start: time.Duration(k) * time.Second, Length: time.Second, Histograms: map[string]*hdrhistogram.Histogram{}}
			for _, h := range []string{metric.PacketLatency, metric.ISRToDPC, metric.DPCBatchSize} {
				ih := hdrhistogram.New(1, 1e9, 3)
				for j := int64(1); j <= 100; j++ {
					ih.RecordValue(j*int64(i+1)*(int64(k)+1)%8 + j*j*int64(i+1))
				}
				set.Histograms[h] = ih
				if whole[h] == nil {
					whole[h] = hdrhistogram.New(1, 1e9, 3)
				}
				whole[h].Merge(ih)
			}
			sets = append(sets, set)
		}
		for h, hh := range whole {
			s, err := results.Summarize(hh, metric.Unit(h))
			if err != nil {
				return nil, err
			}
			run.Histograms[h] = s
		}
		res.Runs = append(res.Runs, run)
		out.Intervals = append(out.Intervals, sets)
	}
	path := filepath.Join(dir, name)
	if err := results.WriteDir(path, out); err != nil {
		return nil, err
	}
	return plot.Open(path)
}

// offPage returns every reference of page to something off it: URLs, src attributes,
// links not to an anchor of the page, CSS url() and @import. An empty list is a page
// that loads nothing.
func offPage(page []byte) []string {
	var found []string
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)(https?|ftp|wss?):`),            // any URL scheme that fetches
		regexp.MustCompile(`(?i)\ssrc\s*=`),                     // scripts, images, frames
		regexp.MustCompile(`(?i)\shref\s*=\s*["']?[^"'#\s>]`),   // a link that is not #anchor
		regexp.MustCompile(`(?i)url\(\s*["']?[^"'#\s)]`),        // CSS that loads a file
		regexp.MustCompile(`(?i)@import|<script|<link|<iframe`), // style sheets, scripts, frames
		regexp.MustCompile(`(?i)(^|[\s"'(=])//[a-z0-9]`),        // a protocol-relative address
	} {
		for _, m := range re.FindAll(page, -1) {
			found = append(found, string(m))
		}
	}
	return found
}

func TestPageIsOfflineAndComplete(t *testing.T) {
	src := writeSet(t, t.TempDir(), "out")
	p := &Page{Sources: []*plot.Source{src}, Sections: []Section{{"Headline", "msix <fast> & line"}, {"Runs", "the table"}}}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	if refs := offPage(page); len(refs) > 0 {
		t.Errorf("the page refers off itself: %q", refs)
	}
	figs, errs := plot.Build([]*plot.Source{src}, plot.Kinds())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := bytes.Count(page, []byte("<svg ")); n != len(figs) {
		t.Errorf("%d inline SVGs, want one per figure (%d)", n, len(figs))
	}
	for _, f := range figs {
		if !bytes.Contains(page, []byte(`data-plot="`+f.Name+`"`)) {
			t.Errorf("no figure %s", f.Name)
		}
	}
	// Every link is to an anchor of the page.
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllSubmatch(page, -1) {
		ids[string(m[1])] = true
	}
	for _, m := range regexp.MustCompile(`href="#([^"]*)"`).FindAllSubmatch(page, -1) {
		if !ids[string(m[1])] {
			t.Errorf("a link to #%s, which the page lacks", m[1])
		}
	}
	for _, want := range []string{
		"Content-Security-Policy", "default-src 'none'", // nothing may be fetched, even online
		"msix &lt;fast&gt; &amp; line",               // the caller's text, escaped
		"line rep 0: not valid: the host stalled it", // the validity warnings
		"Test &lt;CPU&gt; &amp; co",                  // the environment, escaped
		"<th>throttle</th>", "<th>mode</th>",         // the config
		`<tr class="differs"><th>mode</th><td>msix</td>`, // and what differs between runs
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if bytes.Contains(page, []byte("<?xml")) || bytes.Contains(page, []byte("xmlns")) {
		t.Error("an inline SVG kept its XML prelude or namespaces")
	}
}

// TestPageNamesWhatItCannotDraw checks that an unreadable .hlog costs the over-time
// plots only: the page says so and has every other plot.
func TestPageNamesWhatItCannotDraw(t *testing.T) {
	src := writeSet(t, t.TempDir(), "out")
	if err := os.WriteFile(filepath.Join(src.Dir, "line.hlog"), []byte("not a log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := (&Page{Sources: []*plot.Source{src}}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if !strings.Contains(page, "A plot could not be drawn: plot: over time:") || !strings.Contains(page, "line.hlog:1") {
		t.Errorf("the page does not say which plots failed and why")
	}
	if !strings.Contains(page, `data-plot="spectrum.packet_latency"`) || strings.Contains(page, `data-plot="time.`) {
		t.Error("want the spectra without the over-time plots")
	}
}

// TestPageOfTwoSources is a comparison's page: base and new drawn together.
func TestPageOfTwoSources(t *testing.T) {
	dir := t.TempDir()
	srcs := []*plot.Source{writeSet(t, dir, "base"), writeSet(t, dir, "new")}
	plot.SetLabels(srcs)
	var buf bytes.Buffer
	if _, err := (&Page{Sources: srcs, Kinds: []plot.Kind{plot.Spectrum}}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"base msix", "new line (invalid)", "<h3>base</h3>", "base: run 2026-01-02", "new: line rep 0: not valid"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `data-plot="rate.`) {
		t.Error("a rate plot, though only spectra were asked for")
	}
}

func TestInlineSVG(t *testing.T) {
	in := "<?xml version=\"1.0\"?>\n<!-- Generated -->\n<svg width=\"1pt\"\n\txmlns=\"http://www.w3.org/2000/svg\"\n\txmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<text>xmlns=\"x\"</text></svg>\n"
	want := "<svg width=\"1pt\">\n<text>xmlns=\"x\"</text></svg>\n"
	if got := inlineSVG([]byte(in)); got != want {
		t.Errorf("inlineSVG:\n%q\nwant\n%q", got, want)
	}
}

// TestOffPageFinds checks the checker in the failing direction: each of these pages
// refers off itself, and is caught; the last ones do not.
func TestOffPageFinds(t *testing.T) {
	tests := []struct {
		page string
		bad  bool
	}{
		{`<img src="plot.png">`, true},                                // an image to fetch
		{`<a href="https://example.org/">x</a>`, true},                // a link off the page
		{`<a href=report2.html>x</a>`, true},                          // a relative link, unquoted
		{`<style>@font-face{src:url(f.woff)}</style>`, true},          // a font file
		{`<style>@import "x.css";</style>`, true},                     // a style sheet
		{`<script>fetch("/x")</script>`, true},                        // a script at all
		{`<div style="background:url('//cdn.example/x.png')">`, true}, // protocol-relative
		{`<meta http-equiv="Content-Security-Policy">`, false},        // http-equiv is no URL
		{`<a href="#plots-rate">rates</a>`, false},                    // an anchor of the page
		{`<svg viewBox="0 0 1 1"><path d="M0,0L1,1"/></svg>`, false},  // an inline drawing
	}
	for _, tt := range tests {
		if got := offPage([]byte(tt.page)); (len(got) > 0) != tt.bad {
			t.Errorf("offPage(%s) = %q, want bad %v", tt.page, got, tt.bad)
		}
	}
}

// TestPageSurvivesAPanic checks that a page whose data makes the report panic (here a
// source without a result, which no caller makes) is still written, with the caller's
// sections and what went wrong.
func TestPageSurvivesAPanic(t *testing.T) {
	var buf bytes.Buffer
	p := &Page{Sources: []*plot.Source{{Dir: t.TempDir()}}, Sections: []Section{{"Headline", "kept"}}}
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if page := buf.String(); !strings.Contains(page, "The report could not be built:") || !strings.Contains(page, "kept") {
		t.Errorf("page:\n%s", page)
	}
}
