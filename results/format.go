package results

import (
	"fmt"
	"math"
	"time"

	"github.com/ndisbench/ndisbench/results/metric"
)

// FormatValue writes v, a figure in unit, for people: durations in ns, µs, ms or s
// with two decimals past the nanoseconds ("812 ns", "1.25 µs"), rates in Mpps with
// three ("1.488 Mpps"), percentages with two ("0.05%"), counts as integers when whole.
// The run table, the headline and bench compare all write figures through it.
func FormatValue(v float64, unit string) string {
	switch unit {
	case metric.Nanoseconds:
		return FormatDuration(time.Duration(math.Round(v)))
	case metric.PPS:
		return fmt.Sprintf("%.3f Mpps", v/1e6)
	case metric.Percent:
		return fmt.Sprintf("%.2f%%", v)
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// FormatDuration writes d as FormatValue writes nanoseconds.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond && d > -time.Microsecond:
		return fmt.Sprintf("%d ns", int64(d))
	case d < time.Millisecond && d > -time.Millisecond:
		return fmt.Sprintf("%.2f µs", float64(d)/1e3)
	case d < time.Second && d > -time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}
