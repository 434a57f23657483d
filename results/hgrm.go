package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/results/metric"
)

// HGRMTicksPerHalfDistance is the number of percentile lines WriteHGRM writes in each
// half of the distance to 100% (0-50%, 50-75%, ...), as HdrHistogram's tools do by default.
const HGRMTicksPerHalfDistance = 5

// HGRMScale returns the scale ndisbench's .hgrm files divide values of unit by: 1000 for
// nanoseconds, so that the spectrum is in microseconds as HdrHistogram's plotter expects
// by convention, and 1 for every other unit (counts are written as they are).
func HGRMScale(unit string) float64 {
	if unit == metric.Nanoseconds {
		return 1000
	}
	return 1
}

// WriteHGRM writes h's percentile spectrum to w in the format of HdrHistogram's
// outputPercentileDistribution (the format its plotter reads): a header
// "Value Percentile TotalCount 1/(1-Percentile)", one line per percentile step
// (HGRMTicksPerHalfDistance per half-distance to 100%, as HdrHistogram's PercentileIterator
// steps), the 100% line without its infinite last column, and the "#[Mean ...]",
// "#[Max ...]" and "#[Buckets ...]" footer. Values are divided by unitScale (see HGRMScale)
// and printed with as many decimals as h has significant digits, rounded as Java rounds: the
// output is byte for byte what HdrHistogram's Java implementation prints. An empty
// histogram gives the header and the footer only.
func WriteHGRM(w io.Writer, h *hdrhistogram.Histogram, unitScale float64) error {
	if h == nil {
		return errors.New("results: write hgrm: nil histogram")
	}
	if !(unitScale > 0) || math.IsInf(unitScale, 1) {
		return fmt.Errorf("results: write hgrm: unit scale %v is not a positive number", unitScale)
	}
	bw := bufio.NewWriter(w)
	digits := int(h.SignificantFigures())
	fmt.Fprintf(bw, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")

	total := h.TotalCount()
	if total > 0 {
		err := percentileSteps(h, HGRMTicksPerHalfDistance, func(value int64, level float64, count int64) {
			p := level / 100
			fmt.Fprintf(bw, "%12s %2s %10d", javaFixed(float64(value)/unitScale, digits), javaFixed(p, 12), count)
			if level != 100 {
				fmt.Fprintf(bw, " %14s", javaFixed(1/(1-p), 2))
			}
			bw.WriteByte('\n')
		})
		if err != nil {
			return fmt.Errorf("results: write hgrm: %w", err)
		}
	}

	var maxValue int64
	if total > 0 {
		maxValue = h.Max()
	}
	buckets, subBuckets := hdrGeometry(h)
	fmt.Fprintf(bw, "#[Mean    = %12s, StdDeviation   = %12s]\n", javaFixed(h.Mean()/unitScale, digits), javaFixed(h.StdDev()/unitScale, digits))
	fmt.Fprintf(bw, "#[Max     = %12s, Total count    = %12d]\n", javaFixed(float64(maxValue)/unitScale, digits), total)
	fmt.Fprintf(bw, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("results: write hgrm: %w", err)
	}
	return nil
}

// javaFixed formats v with prec decimals as Java's Formatter does for "%.<prec>f": it
// rounds the shortest decimal that identifies v half up, where Go's %f rounds v's exact
// binary value half to even (0.9997802734375 is "0.999780273438" in Java, "...437" in Go).
func javaFixed(v float64, prec int) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'f', prec, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) <= prec {
		frac += strings.Repeat("0", prec-len(frac))
	} else {
		up := frac[prec] >= '5'
		digits := []byte(intPart + frac[:prec])
		for i := len(digits) - 1; up && i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
			} else {
				digits[i]++
				up = false
			}
		}
		if up {
			digits = append([]byte{'1'}, digits...)
		}
		intPart, frac = string(digits[:len(digits)-prec]), string(digits[len(digits)-prec:])
	}
	if prec == 0 {
		return sign + intPart
	}
	return sign + intPart + "." + frac
}

// percentileSteps calls emit for each step of HdrHistogram's PercentileIterator over h
// (which must not be empty): the value reached (the highest equivalent value of its
// bucket), the percentile level iterated to, and the count up to and including the value.
// The last step is at level 100.
func percentileSteps(h *hdrhistogram.Histogram, ticksPerHalfDistance int64, emit func(value int64, level float64, count int64)) error {
	bars := h.Distribution() // every bucket up to the last one with a count, in order
	total := float64(h.TotalCount())
	var (
		level       float64 // the percentile level to reach next
		cum         int64   // count up to and including bars[i]
		i           int
		fresh       = true // bars[i]'s count is not yet in cum
		reachedLast bool
	)
	for {
		if cum >= h.TotalCount() { // all values seen: one last step, to 100%
			if reachedLast {
				return nil
			}
			reachedLast = true
			level = 100
		}
		for {
			if i >= len(bars) {
				return errors.New("percentile iteration ran past the last bucket")
			}
			c := bars[i].Count
			if fresh {
				cum += c
				fresh = false
			}
			if c != 0 && 100*float64(cum)/total >= level {
				emit(bars[i].To, level, cum)
				if level < 100 {
					halves := int64(math.Log(100/(100-level))/math.Log(2)) + 1
					level += 100 / float64(ticksPerHalfDistance*int64(math.Pow(2, float64(halves))))
				}
				break
			}
			i++
			fresh = true
		}
	}
}

// hdrGeometry returns h's bucket and sub-bucket counts, as HdrHistogram computes them
// from its lowest and highest trackable values and significant digits.
func hdrGeometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	largest := 2 * math.Pow10(int(h.SignificantFigures()))
	halfMagnitude := max(int(math.Ceil(math.Log2(largest))), 1) - 1
	subBuckets = int64(1) << (halfMagnitude + 1)
	unitMagnitude := max(int(math.Floor(math.Log2(float64(max(h.LowestTrackableValue(), 1))))), 0)
	smallestUntrackable := subBuckets << unitMagnitude
	buckets = 1
	for smallestUntrackable <= h.HighestTrackableValue() {
		if smallestUntrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
