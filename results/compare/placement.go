package compare

import (
	"fmt"

	"github.com/montanaflynn/stats"
)

// PlacementRatio is how far apart the two sides' median cache-line round trips may be
// before their runs count as measured on different machines. A host that moves a
// VM's vCPUs between near and far placement moves every latency and rate of a run
// with them (on ndisbench's 2-vCPU dev VM the round trip flips between about 130 and
// about 500 ns, and dpc_duration's p50 between 480 ns and 1.7 µs with it, because the
// batches grow), so a comparison of a side measured near with one measured far finds
// the host, not the code. Between 200 A/A comparisons there (README), such pairs
// raised twice as many false alarms as the rest.
const PlacementRatio = 1.5

// placement returns a mismatch when the sides' median cache-line round trips (each
// repetition's larger one, before or after it) are more than PlacementRatio apart,
// and "" when they are not or either side did not measure it.
func placement(base, new []rep) string {
	mb, okb := medianRTT(base)
	mn, okn := medianRTT(new)
	if !okb || !okn || max(mb, mn) <= PlacementRatio*min(mb, mn) {
		return ""
	}
	return fmt.Sprintf("machine state: median cache-line round trip base %.0f ns, new %.0f ns (more than %.1f× apart): the host placed the CPUs differently", mb, mn, PlacementRatio)
}

// medianRTT returns the median over reps of each one's larger round trip, and false
// when none recorded one.
func medianRTT(reps []rep) (float64, bool) {
	var v []float64
	for _, r := range reps {
		if r.run.Validity == nil {
			continue
		}
		if rtt := r.run.Validity.Interference.CacheLineRTTNs; max(rtt[0], rtt[1]) > 0 {
			v = append(v, max(rtt[0], rtt[1]))
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	m, err := stats.Median(v)
	return m, err == nil
}
