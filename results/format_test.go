package results

import (
	"testing"

	"github.com/ndisbench/ndisbench/results/metric"
)

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{
		{812, metric.Nanoseconds, "812 ns"},
		{1249.6, metric.Nanoseconds, "1.25 µs"},
		{-1500, metric.Nanoseconds, "-1.50 µs"}, // a difference
		{2.5e6, metric.Nanoseconds, "2.50 ms"},
		{3e9, metric.Nanoseconds, "3.00 s"},
		{14.88e6, metric.PPS, "14.880 Mpps"},
		{0.05, metric.Percent, "0.05%"},
		{64, metric.NBLs, "64"},
		{4.5, metric.NBLs, "4.5"},
	} {
		if got := FormatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
