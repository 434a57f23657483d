package hist

import "math"

// Schedule says where a run's histogram intervals begin and end, on the run's clock: the
// cuts are fixed times, not moments someone happened to act. Interval k, for 0 <= k <
// Last, is [Start + k·Length, Start + (k+1)·Length); interval Last begins at Start +
// Last·Length and has no end (the run's end closes it). A time before Start is in
// interval -1, the warm-up, whose records are discarded.
type Schedule struct {
	Start  int64 // the end of the warm-up: the first interval's start
	Length int64 // the intervals' length; only the last may differ
	Last   int   // the last interval's number
}

// Always is the schedule of a platform nobody cut: no warm-up and one interval.
var Always = Schedule{Start: math.MinInt64}

// NewSchedule returns the schedule of intervals of length from start, for a run whose
// traffic ends at end: no interval begins in the last tenth of a length before end, so
// the last one, which takes in the end and what follows it (the drain), is never a
// sliver. length <= 0 means one interval.
func NewSchedule(start, length, end int64) Schedule {
	s := Schedule{Start: start, Length: length}
	if avail := end - length/10 - start; length > 0 && avail > 0 {
		s.Last = int((avail - 1) / length)
	}
	return s
}

// Index returns the number of the interval t falls in: -1 in the warm-up.
func (s Schedule) Index(t int64) int {
	if t < s.Start {
		return -1
	}
	if s.Last <= 0 || s.Length <= 0 {
		return 0
	}
	if k := (uint64(t) - uint64(s.Start)) / uint64(s.Length); k < uint64(s.Last) {
		return int(k)
	}
	return s.Last
}

// Begin returns when interval k begins (math.MinInt64 for the warm-up).
func (s Schedule) Begin(k int) int64 {
	if k < 0 {
		return math.MinInt64
	}
	return s.Start + int64(min(k, s.Last))*s.Length
}

// End returns when interval k ends: the next one's beginning; math.MaxInt64 for the last.
func (s Schedule) End(k int) int64 {
	if k < 0 {
		return s.Start
	}
	if k >= s.Last {
		return math.MaxInt64
	}
	return s.Start + int64(k+1)*s.Length
}
