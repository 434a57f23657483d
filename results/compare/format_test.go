package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results"
)

// goldenReport is a comparison with something of everything: a run that regressed
// (DPCs 30% slower), one whose config differs (undecided), a run on one side only, an
// invalid repetition left out, a threshold of the user's.
func goldenReport(t *testing.T) *Report {
	t.Helper()
	slower := baseModel
	slower.scale = 1.3
	other := baseModel
	other.config = map[string]any{"queues": 4}
	b := fakeResult(t, 1, 6, map[string]model{"msix": baseModel, "line": baseModel, "msi": baseModel}, "msix", "line", "msi")
	n := fakeResult(t, 1000, 6, map[string]model{"msix": slower, "line": other}, "msix", "line")
	n.Runs[0].Validity = &results.Validity{Reasons: []string{"steal 12%"}}
	th, err := ParseThreshold("achieved=-1%")
	if err != nil {
		t.Fatal(err)
	}
	return mustCompare(t, SideOf([]string{"base/result.json"}, []*results.Result{b}),
		SideOf([]string{"new/result.json"}, []*results.Result{n}), Options{Thresholds: []Threshold{th}})
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := goldenReport(t).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	golden(t, "compare.md", md)
	if !strings.HasPrefix(md, "**ndisbench compare: ") {
		t.Errorf("the first line is not the verdict: %q", strings.SplitN(md, "\n", 2)[0])
	}
	// Every row of a table has the header's number of cells: no pipe got through.
	cells := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cells = 0
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("a table row with %d pipes, its header %d: %q", n, cells, line)
		}
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	rep := goldenReport(t)
	if err := rep.WriteText(&b, false, true); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", b.String())
	if strings.Contains(b.String(), "\x1b") {
		t.Error("colour without asking for it")
	}
	b.Reset()
	rep.WriteText(&b, true, true)
	if !strings.Contains(b.String(), red+"regression"+reset) || !strings.Contains(b.String(), yellow+"undecided"+reset) {
		t.Errorf("no colour on the verdicts:\n%s", b.String())
	}
	// Without all, the rows not gated are counted, not listed; every other row stays.
	b.Reset()
	rep.WriteText(&b, false, false)
	for _, run := range rep.Runs {
		hidden := 0
		for _, row := range run.Metrics {
			listed := strings.Contains(b.String(), "\n  "+row.Metric+" ")
			if row.Verdict == NotGated {
				hidden++
			}
			if listed != (row.Verdict != NotGated) && !strings.Contains(run.Name, " ") {
				t.Errorf("%s %s (%s): listed %v", run.Name, row.Metric, row.Verdict, listed)
			}
		}
		if hidden > 0 && !strings.Contains(b.String(), fmt.Sprintf("(%d figures not gated: -all lists them)", hidden)) {
			t.Errorf("%s: no line counting its %d rows not gated", run.Name, hidden)
		}
	}
}

// TestJSONRoundTrip: what WriteJSON writes, ReadReport reads back to the same report
// (+Inf, -Inf and undefined figures included), and it refuses other documents.
func TestJSONRoundTrip(t *testing.T) {
	lossy := baseModel
	lossy.dropEvery = 50
	rep := goldenReport(t)
	rep.Runs = append(rep.Runs, mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix")), side(fakeResult(t, 1000, 5, two(lossy), "msix")), Options{}).Runs...)
	var a bytes.Buffer
	if err := rep.WriteJSON(&a); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema": "ndisbench-compare"`, `"version": "1.0"`, `"median": "+Inf"`, `"change_pct": null`, `"verdict": "regression"`} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	back, err := ReadReport(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	back.WriteJSON(&b)
	if a.String() != b.String() {
		t.Errorf("the report read back writes differently")
	}
	if back.Verdict != rep.Verdict || len(back.Runs) != len(rep.Runs) || back.Regressions() != rep.Regressions() {
		t.Errorf("read back: %s, %d runs, %d regressions", back.Verdict, len(back.Runs), back.Regressions())
	}
	for _, bad := range []string{
		`{"schema": "ndisbench/result", "version": "1.0"}`,
		`{"schema": "ndisbench-compare", "version": "2.0"}`,
		`{"schema": "ndisbench-compare", "version": "1.0", "surprise": 1}`,
	} {
		if _, err := ReadReport(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadReport accepted %s", bad)
		}
	}
	if _, err := ReadReport(strings.NewReader(`{"schema": "ndisbench-compare", "version": "1.1", "surprise": 1}`)); err != nil {
		t.Errorf("a newer minor version's field refused: %v", err)
	}
}

func TestHeadline(t *testing.T) {
	if got := goldenReport(t).Headline(); !strings.HasPrefix(got, "") || !strings.Contains(got, "msix: ") {
		t.Errorf("headline %q", got)
	}
	ok := mustCompare(t, side(fakeResult(t, 1, 5, two(baseModel), "msix")), side(fakeResult(t, 1000, 5, two(baseModel), "msix")), Options{})
	if got := ok.Headline(); got != "no regression" {
		t.Errorf("headline %q", got)
	}
	few := mustCompare(t, side(fakeResult(t, 1, 3, two(baseModel), "msix")), side(fakeResult(t, 1000, 3, two(baseModel), "msix")), Options{})
	if got := few.Headline(); !strings.HasPrefix(got, "undecided (msix: ") || !strings.Contains(got, "too few repetitions") {
		t.Errorf("headline %q", got)
	}
}

func TestMdEscape(t *testing.T) {
	if got := mdEscape("a|b *c* `d` <e>\nf_g"); got != `a\|b \*c\* \`+"`"+`d\`+"`"+` \<e\> f_g` {
		t.Errorf("mdEscape = %q", got)
	}
}

// TestSchemaDocumentsEveryField: every key the JSON report has is in SCHEMA.md.
func TestSchemaDocumentsEveryField(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	goldenReport(t).WriteJSON(&b)
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				keys[k] = true
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("SCHEMA.md does not document %q", k)
		}
	}
}
