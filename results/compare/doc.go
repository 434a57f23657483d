// Package compare compares two sets of ndisbench results, BASE and NEW, run by run and
// metric by metric, and decides whether NEW regressed: bench compare's library.
//
// Each side is one or more result.json files; the repetitions of a run (by name) are
// pooled across a side's files. The repetition — one run — is the unit of replication,
// never the packet: for every metric of the registry (package results/metric) that
// both sides have — the rates, and each histogram's p50, p90, p99, p99.9, p99.99 and
// max (packet_latency loss-aware) — it takes each side's median over repetitions, the
// change, a confidence interval for the change and a Mann–Whitney U test (benchmath's,
// benchstat's). A regression is a change in the metric's worse direction that is
// significant at α and beyond the metric's threshold. It also compares each latency
// histogram's distribution percentile by percentile, from the full HDR histograms, so
// that a regression confined to the tail is found at the percentile where it starts.
//
// What it refuses to guess: runs whose configuration or environment differ between
// or within the sides, or whose machine state differs between them (PlacementRatio),
// are not compared (unless forced, or the keys are declared varied); runs that were not valid measurements, superseded attempts and interrupted
// runs are left out and counted; and a metric with too few repetitions for the test
// to ever reach α is undecided, not unchanged.
//
// The package reads results; it does not run anything, and it does not know about
// exit statuses or flags: bench compare (cmd/bench) maps a Report's Verdict to them.
package compare
