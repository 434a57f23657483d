package trace

import "fmt"

// At says where a trace's window lies in the run.
type At int

const (
	// AtStart is the first Config.Window of the measured run: from the end of the
	// warm-up (Recorder.Begin).
	AtStart At = iota
	// AtWorst is a window of Config.Window around the longest interrupt DPC batch of the
	// measured run (batch_duration, from an ISR's start to the device's re-enable: the
	// worst sample the observer seam sees; packet_latency is the stack's, not an event).
	// The run is cut into chunks of a third of the window; the trace is the chunk in which
	// that batch ended and its two neighbours, so the batch lies in the middle third, with
	// at least a third of the window before and after it (less at the run's ends).
	AtWorst
)

var atNames = []string{AtStart: "start", AtWorst: "worst"}

func (a At) String() string {
	if a >= 0 && int(a) < len(atNames) {
		return atNames[a]
	}
	return fmt.Sprintf("At(%d)", int(a))
}

// ParseAt parses "start" or "worst".
func ParseAt(s string) (At, error) {
	for a, n := range atNames {
		if n == s {
			return At(a), nil
		}
	}
	return 0, fmt.Errorf("trace: %q is not start or worst", s)
}
