// Package plot draws result directories: percentile spectra of the latency histograms
// (HdrHistogram plotter style, x the percentile on a 1/(1−p) log axis), the latency
// histograms over time from the .hlog interval logs, the DPC batch-size distribution,
// and the achieved rate and drops per run (with latency against the offered load when
// the runs sweep the rate). Several directories are drawn together, base and new
// overlaid, each run named as the run table names it.
//
// Drawing has two layers. Build turns sources into Figures: data only, the series with
// their points, labels, axes, ticks and notes, computed from each run's full
// HdrHistogram (package results) in the units and vocabulary of the metric registry
// (results/metric). Image draws a Figure as PNG or SVG with gonum.org/v1/plot. The
// tests check the first layer against golden files and the second only for images
// that decode.
//
// Repetitions are drawn faint behind their median (taken point by point over the
// valid repetitions); packet latency is loss-aware (results.LossAware): a line ends
// where the dropped packets begin. Runs without per-packet histograms (no_packet_hists)
// are left out of the per-packet plots, and said to be.
//
// The package reads result directories; it does not write them (the CLI writes its
// images, package results/report the page that inlines them).
package plot
