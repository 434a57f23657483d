package compare

import (
	"math"
	"slices"
	"sync"

	moremath "github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"
)

// Statistics over repetitions.
//
// Invariants:
//   - A sample is one value per repetition (one run), never per packet: the repetition
//     is the unit of replication. Values are finite or +Inf (a loss-aware percentile
//     beyond the delivered packets: worse than any latency); never NaN.
//   - The test is benchmath's (benchstat's) two-sided Mann–Whitney U, exact below 50
//     values a side (25 with ties). It assumes only that, with no difference, the
//     repetitions of both sides are exchangeable.
//   - The interval is for a shift of location, Hodges–Lehmann style: the k-th smallest
//     and k-th largest of the m·n differences new_j − base_i, k from the exact U
//     distribution without ties (go-moremath's UDist, the one benchmath's test uses).
//     Its level holds when both sides have the same shape up to that shift. On log
//     values the shift is a ratio, read as a change in %.
//   - A comparison that cannot reach p ≤ α whatever the data (too few repetitions) is
//     undecided, never "no change".

// minP returns the smallest p-value the exact two-sided U test can give for samples of
// m and n values: both orderings of the fully separated samples, 2/C(m+n, m).
func minP(m, n int) float64 {
	if m == 0 || n == 0 {
		return 1
	}
	return min(1, 2*moremath.UDist{N1: m, N2: n}.CDF(0))
}

// needReps returns the fewest repetitions a side, equal on both sides, for which the U
// test can reach p ≤ alpha with g tests corrected together (Holm: the first step needs
// p ≤ alpha/g); 0 beyond 50.
func needReps(alpha float64, g int) int {
	for n := 1; n <= 50; n++ {
		if minP(n, n) <= alpha/float64(g) {
			return n
		}
	}
	return 0
}

// uTest returns the two-sided Mann–Whitney p-value of base against new, as benchstat
// computes it (benchmath.AssumeNothing): 1 when every value is the same.
func uTest(base, new []float64, alpha float64) float64 {
	th := benchmath.Thresholds{CompareAlpha: alpha}
	c := benchmath.AssumeNothing.Compare(benchmath.NewSample(slices.Clone(base), &th), benchmath.NewSample(slices.Clone(new), &th))
	return min(c.P, 1)
}

// medianInterval returns a distribution-free confidence interval for the median of vs
// at level conf, benchmath's (the order statistics that bracket the median); ±Inf where
// there are too few values for one.
func medianInterval(vs []float64, conf float64) (lo, hi float64) {
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(vs), &benchmath.DefaultThresholds), conf)
	return s.Lo, s.Hi
}

// exactLimit is the largest sample size for which shiftK uses the exact U
// distribution, as the U test does (go-moremath's MannWhitneyExactLimit); beyond it the
// normal approximation is within a count of it.
const exactLimit = 50

type kKey struct {
	m, n int
	conf float64
}

// kCache holds shiftK's answers: the grid asks the same sizes many times.
var kCache sync.Map // kKey → [2]float64{k, level}

// shiftK returns k for the shift interval of samples of m and n values at level conf:
// the largest k with P(U ≤ k−1) ≤ (1−conf)/2 under no difference, and the interval's
// actual level, 1 − 2·P(U ≤ k−1). k is 0 when no interval reaches conf.
func shiftK(m, n int, conf float64) (k int, level float64) {
	key := kKey{m, n, conf}
	if v, ok := kCache.Load(key); ok {
		a := v.([2]float64)
		return int(a[0]), a[1]
	}
	tail := (1 - conf) / 2 * (1 + 1e-12)
	if m > exactLimit || n > exactLimit {
		z := moremath.StdNormal.InvCDF(1 - (1-conf)/2)
		mn := float64(m * n)
		k = int(math.Floor(mn/2 - z*math.Sqrt(mn*float64(m+n+1)/12)))
		k = max(k, 0)
		level = conf
	} else {
		d := moremath.UDist{N1: m, N2: n}
		// P(U ≤ c) rises with c: find the largest c with P(U ≤ c) ≤ tail; k = c+1.
		lo, hi := -1, m*n/2 // P(U ≤ lo) ≤ tail (lo = −1: vacuous), P(U ≤ hi+1) > tail
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if d.CDF(float64(mid)) <= tail {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		k = lo + 1
		if k > 0 {
			level = 1 - 2*d.CDF(float64(lo))
		}
	}
	kCache.Store(key, [2]float64{float64(k), level})
	return k, level
}

// diff returns b − a with +Inf − +Inf taken as 0: two lost percentiles do not differ.
func diff(a, b float64) float64 {
	if math.IsInf(a, 1) && math.IsInf(b, 1) {
		return 0
	}
	return b - a
}

// shiftInterval returns the interval for the shift from base to new at level conf, from
// the sorted pairwise differences new_j − base_i, with its actual level. ok is false when
// the samples are too small for an interval at conf (then lo and hi are ∓Inf).
func shiftInterval(base, new []float64, conf float64) (lo, hi, level float64, ok bool) {
	m, n := len(base), len(new)
	k, level := shiftK(m, n, conf)
	if k == 0 {
		return math.Inf(-1), math.Inf(1), 0, false
	}
	d := make([]float64, 0, m*n)
	for _, a := range base {
		for _, b := range new {
			d = append(d, diff(a, b))
		}
	}
	slices.Sort(d)
	return d[k-1], d[len(d)-k], level, true
}

// holm returns Holm's step-down adjusted p-values of ps (in their order): the i-th
// smallest p times the number of p-values not smaller, made non-decreasing, at most 1.
// A p-value whose adjusted value is at most α is significant with the family-wise
// error rate of all of them held at α.
func holm(ps []float64) []float64 {
	g := len(ps)
	idx := make([]int, g)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	adj := make([]float64, g)
	run := 0.0
	for rank, i := range idx {
		run = max(run, min(1, float64(g-rank)*ps[i]))
		adj[i] = run
	}
	return adj
}
