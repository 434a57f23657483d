package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
	"github.com/ndisbench/ndisbench/results/compare"
)

// compareSide writes reps repetitions of runs msix and line as dir/result.json, each
// repetition's latencies at lat ns plus a little, so that repetitions differ; idle
// sets the config's idle strategy ("" for spin-park).
func compareSide(t *testing.T, dir string, reps int, lat int64, idle string) string {
	t.Helper()
	var runs []fakeRun
	for r := range reps {
		for _, name := range []string{"msix", "line"} {
			d := int64(r*7+len(name)) % 20 // 0..19 ns: repetitions of the same code differ
			runs = append(runs, fakeRun{name: name, rep: r, idle: idle,
				lat: append(vals(lat+d, 990), vals(2*lat+d, 10)...), isr: vals(200+d, 500), batch: vals(4, 300)})
		}
	}
	res := fakeResult(t, "msi-vs-line", runs...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteFileAtomic(filepath.Join(dir, results.ResultFile), func(w io.Writer) error {
		_, err := res.WriteTo(w)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareSameCodeExits0(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1003, "")
	out, stderr, code := runCLI("compare", base, new)
	if code != 0 || !strings.HasPrefix(out, "bench compare: no regression\n") {
		t.Fatalf("exit %d, %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"msix: ok (5 base, 5 new repetitions)", "packet_latency.p99", "achieved_pps", "\nnotes:\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestCompareRegressionExits1: latencies 50% higher in NEW exit 1, and both the table
// and the message name the metrics; flags may follow the arguments.
func TestCompareRegressionExits1(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1500, "")
	out, stderr, code := runCLI("compare", base, new, "-color", "never")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s\n%s", code, stderr, out)
	}
	if !strings.Contains(stderr, "bench: compare: 6 regressions (msix: packet_latency.p50 +49.5%") || strings.HasSuffix(strings.TrimSpace(stderr), ": regression") {
		t.Errorf("stderr does not name the regression: %s", stderr)
	}
	if l := linesWith(out, "  packet_latency.p99 "); len(l) != 2 || !strings.HasSuffix(l[0], "regression") {
		t.Errorf("packet_latency.p99 rows: %q", l)
	}
	if strings.Contains(out, "\x1b") {
		t.Error("colour with -color never")
	}
	// A looser threshold than the change: no regression; off: not gated.
	_, _, code = runCLI("compare", "-threshold", "packet_latency.*=+60%", base, new)
	if code != 0 {
		t.Errorf("-threshold packet_latency.*=+60%%: exit %d", code)
	}
}

func TestCompareTooFewExits4(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 3, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 3, 1000, "")
	out, stderr, code := runCLI("compare", base, new)
	if code != 4 || !strings.Contains(stderr, "too few repetitions") || !strings.Contains(out, "undecided") {
		t.Errorf("3 a side: exit %d, %s\n%s", code, stderr, out)
	}
	_, stderr, code = runCLI("compare", "-allow-undecided", base, new)
	if code != 0 || !strings.Contains(stderr, "-allow-undecided") {
		t.Errorf("-allow-undecided: exit %d, %s", code, stderr)
	}
	// A regression outranks undecided: NEW much slower with 3 + 8 repetitions.
	many := compareSide(t, filepath.Join(dir, "many"), 8, 3000, "")
	if _, _, code := runCLI("compare", base, many); code != 1 {
		t.Errorf("3 base, 8 new three times slower: exit %d, want 1", code)
	}
}

// TestCompareMismatchExits4: another idle strategy in NEW is not compared (exit 4);
// -force compares and notes it; -vary idle compares it as an A/B test.
func TestCompareMismatchExits4(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1000, "spin")
	out, stderr, code := runCLI("compare", base, new)
	if code != 4 || !strings.Contains(out, "differs: config idle: base spin-park, new spin") {
		t.Errorf("mismatch: exit %d, %s\n%s", code, stderr, out)
	}
	out, _, code = runCLI("compare", "-force", base, new)
	if code != 0 || !strings.Contains(out, "differs: config idle") || !strings.Contains(out, "compared with -force") {
		t.Errorf("-force: exit %d\n%s", code, out)
	}
	out, _, code = runCLI("compare", "-vary", "idle", base, new)
	if code != 0 || !strings.Contains(out, "varied: idle: base spin-park, new spin") {
		t.Errorf("-vary idle: exit %d\n%s", code, out)
	}
}

// TestCompareOutputFile: -o writes the -format output whole, the table still goes to
// stdout; markdown starts with the verdict; JSON reads back.
func TestCompareOutputFile(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1500, "")
	md := filepath.Join(dir, "compare.md")
	out, _, code := runCLI("compare", "-format", "markdown", "-o", md, base, new)
	b, err := os.ReadFile(md)
	if code != 1 || err != nil || !strings.HasPrefix(string(b), "**ndisbench compare: ") || !strings.Contains(string(b), "| metric | base | new |") {
		t.Errorf("exit %d, %v, compare.md:\n%s", code, err, b)
	}
	if !strings.Contains(out, "wrote "+md) || !strings.Contains(out, "  metric ") {
		t.Errorf("stdout:\n%s", out)
	}
	js, _, code := runCLI("compare", "-format", "json", base+","+new, compareSide(t, filepath.Join(dir, "new2"), 5, 1000, ""))
	rep, err := compare.ReadReport(strings.NewReader(js))
	if code != 0 || err != nil || len(rep.Base.Files) != 2 {
		t.Errorf("-format json: exit %d, %v, %+v", code, err, rep)
	}
}

// TestCompareHTML: -html writes the comparison as one offline page, the table and
// the plots of both sides inline; a path that cannot be written exits 2.
func TestCompareHTML(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1500, "")
	page := filepath.Join(dir, "compare.html")
	out, stderr, code := runCLI("compare", "-html", page, base, new)
	b, err := os.ReadFile(page)
	if code != 1 || err != nil {
		t.Fatalf("exit %d, %v: %s", code, err, stderr)
	}
	for _, want := range []string{"<svg ", "base msix", "new msix", "packet_latency.p99", "Comparison"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("compare.html lacks %q", want)
		}
	}
	if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
		t.Error("compare.html names a network address")
	}
	if !strings.Contains(out, "wrote "+page) {
		t.Errorf("stdout does not say it wrote the page:\n%s", out)
	}
	// An unwritable page is refused before comparing: nothing printed, nothing written.
	md := filepath.Join(dir, "c.md")
	out, stderr, code = runCLI("compare", "-o", md, "-html", filepath.Join(dir, "nosuch", "c.html"), base, new)
	if code != 2 || !strings.Contains(stderr, "-html") || strings.Contains(out, "  metric ") {
		t.Errorf("unwritable -html: exit %d, %s\n%s", code, stderr, out)
	}
	if _, err := os.Stat(md); err == nil {
		t.Error("a refused -html still wrote -o")
	}
}

// TestCompareBadInputExits2: each bad input exits 2 naming the file, flag or key, and
// writes no -o file.
func TestCompareBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	base := compareSide(t, filepath.Join(dir, "base"), 5, 1000, "")
	new := compareSide(t, filepath.Join(dir, "new"), 5, 1000, "")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"schema\": \"ndisbench/result\",\n  \"version\": \"1.2\",\n  \"tool\": 3\n}\n"), 0o644)
	th := filepath.Join(dir, "th.yaml")
	os.WriteFile(th, []byte("packet_latency.p99: +10%\nlatency.p99: +5%\n"), 0o644)
	out := filepath.Join(dir, "never.md")
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{base}, []string{"want BASE and NEW"}},
		{[]string{base, new, new}, []string{"got 3 arguments"}},
		{[]string{filepath.Join(dir, "nosuch"), new}, []string{"BASE", "nosuch"}},
		{[]string{base, bad}, []string{"NEW", bad + ":4:"}},
		{[]string{base + ",", new}, []string{"empty path"}},
		{[]string{base + "," + base, new}, []string{"named twice"}},
		{[]string{"-threshold", "packet_latency.p99=-10%", base, new}, []string{"-threshold", "packet_latency.p99", "better lower"}},
		{[]string{"-threshold", "nosuch=+1%", base, new}, []string{"-threshold", `"nosuch"`}},
		{[]string{"-thresholds", th, base, new}, []string{"-thresholds", th, `"latency.p99"`}},
		{[]string{"-thresholds", filepath.Join(dir, "none.yaml"), base, new}, []string{"-thresholds", "none.yaml"}},
		{[]string{"-vary", "per_packet,nosuch", base, new}, []string{"-vary", `"nosuch"`}},
		{[]string{"-alpha", "0.7", base, new}, []string{"-alpha"}},
		{[]string{"-alpha", "x", base, new}, []string{"-alpha", "not a number"}},
		{[]string{"-format", "html", base, new}, []string{"-format", "html"}},
		{[]string{"-color", "sometimes", base, new}, []string{"-color"}},
		{[]string{"-o", filepath.Join(dir, "nodir", "c.md"), base, new}, []string{"-o", "nodir"}},
	} {
		args := append([]string{"compare"}, tt.args...)
		if !slices.Contains(tt.args, "-o") {
			args = append(args, "-o", out)
		}
		_, stderr, code := runCLI(args...)
		if code != 2 {
			t.Errorf("bench %q: exit %d, want 2; %s", args, code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("bench %q: stderr %q does not name %q", args, stderr, w)
			}
		}
		if m := goTypeName.FindString(stderr); m != "" {
			t.Errorf("bench %q: stderr shows a Go name %q: %s", args, m, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused compare wrote its -o file")
	}
}

func TestCompareHelp(t *testing.T) {
	out, _, code := runCLI("help", "compare")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, status := range []string{"\n  0 ", "\n  1 ", "\n  2 ", "\n  4 "} {
		if !strings.Contains(out, status) {
			t.Errorf("bench help compare does not document exit status %q", status)
		}
	}
	if out, _, _ := runCLI("help"); !strings.Contains(out, "compare ") {
		t.Errorf("bench help does not list compare")
	}
}
