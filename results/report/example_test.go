package report_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/ndisbench/ndisbench/results/plot"
	"github.com/ndisbench/ndisbench/results/report"
)

// A comparison's page: two result directories drawn together, base and new overlaid,
// with the comparison's own summary above the plots.
func ExamplePage() {
	dir, err := os.MkdirTemp("", "report-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	var srcs []*plot.Source
	for _, name := range []string{"base", "new"} {
		// What bench run -o base (and -o new) writes; then plot.Open(path).
		src, err := report.SampleSet(dir, name)
		if err != nil {
			fmt.Println(err)
			return
		}
		srcs = append(srcs, src)
	}
	plot.SetLabels(srcs) // "base msix", "new msix" in the legends
	page := &report.Page{
		Title:    "base vs new",
		Sources:  srcs,
		Sections: []report.Section{{Heading: "Comparison", Text: "packet_latency p99: 1.20× [1.10×–1.31×]"}},
		Kinds:    []plot.Kind{plot.Spectrum, plot.Rate},
	}
	var b bytes.Buffer
	if _, err := page.WriteTo(&b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bytes.Count(b.Bytes(), []byte("<svg ")), "plots inline; new msix drawn:", bytes.Contains(b.Bytes(), []byte("new msix")))
	// Output: 4 plots inline; new msix drawn: true
}
