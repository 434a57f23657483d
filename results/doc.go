// Package results writes and reads ndisbench's result files: the versioned result.json,
// HdrHistogram percentile spectra (.hgrm), HdrHistogram interval logs (.hlog, format 1.3)
// and Go benchmark-format lines (bench.txt) that benchstat reads.
//
// The files a run leaves in its output directory are:
//
//	result.json                 Result: scenario, environment, every run's resolved config,
//	                            counters, rates and histograms (summary plus the full
//	                            HdrHistogram, base64 of its compressed V2 encoding);
//	                            see SCHEMA.md
//	<run>.<histogram>.hgrm      WriteHGRM: the percentile spectrum in the format of
//	                            HdrHistogram's outputPercentileDistribution (the plotter's input)
//	<run>.hlog                  IntervalLogWriter: one tagged interval histogram per
//	                            histogram per interval (one second by convention)
//	bench.txt                   WriteBench: one Go benchmark line per run and repetition
//	report.html                 package results/report, through Output.Extra: the offline
//	                            page of the set, its plots inline
//
// WriteDir writes all of them at once and atomically: into a temporary directory beside
// the destination, each file synced, then renamed into place, so a reader never finds a
// half-written result set. WriteFileAtomic does the same for a single file.
//
// Readers are strict: Read refuses unknown fields, other schemas and unknown major versions,
// and validates what it reads (ordered percentiles, histograms that decode to their count);
// IntervalLogReader is shaped like bufio.Scanner and reports errors as *ParseError values
// carrying the file and line.
//
// The names, units and better directions of the counters, histograms and rates it writes
// come from package results/metric, the registry of ndisbench's metrics.
//
// The package does not record anything: histograms are recorded per vCPU and merged by
// their owners (core, nicmodel) and handed to Summarize after the run. It does not compare
// results or draw plots either: package results/compare (bench compare) and the plots read
// what this package writes.
package results
