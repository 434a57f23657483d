package results

// NDR is one run's throughput search (bench ndr, RFC 2544 §26.1 and RFC 9971
// MLRsearch): for each goal, the largest offered rate whose trials lost at most the
// goal's loss ratio, with the trials that decided it and latency measured at fractions
// of the NDR. SCHEMA.md documents every field.
type NDR struct {
	TrialNs      int64   `json:"trial_ns"`       // measured traffic per trial, ns
	Precision    float64 `json:"precision"`      // the goal width: upper/lower - 1 at which a bound pair is final
	MinPPS       float64 `json:"min_pps"`        // the search's range of offered rates, pkts/s
	MaxPPS       float64 `json:"max_pps"`        //
	MaxTimeNs    int64   `json:"max_time_ns"`    // the search's time limit, ns
	ElapsedNs    int64   `json:"elapsed_ns"`     // what it took
	TimedOut     bool    `json:"timed_out"`      // stopped by the time limit: bounds wider than precision
	Interrupted  bool    `json:"interrupted"`    // stopped by the user
	Goals        []Goal  `json:"goals"`          // one per loss goal: NDR first, then PDR
	Trials       []Trial `json:"trials"`         // every trial, in the order run, invalid ones included
	InvalidCount int     `json:"invalid_trials"` // of those, not valid measurements (repeated, never counted)
	// Latency holds the trials run at fractions of the NDR (10%, 50%, 90%) for latency.
	Latency []LoadPoint `json:"latency,omitempty"`
}

// Goal is one loss goal's answer: the largest rate found to meet it (the lower bound)
// and the smallest found not to (the upper bound).
type Goal struct {
	Name      string  `json:"name"`       // "ndr", "pdr"
	LossRatio float64 `json:"loss_ratio"` // the most lost packets / offered packets a trial may have, 0 to 1
	// LowerPPS is the largest offered rate whose trials met the goal (the answer);
	// 0 when even MinPPS did not. UpperPPS is the smallest that did not; MaxPPS when
	// every rate tried met it (Capped).
	LowerPPS float64 `json:"lower_pps"`
	UpperPPS float64 `json:"upper_pps"`
	Capped   bool    `json:"capped"` // MaxPPS met the goal: the answer is at least MaxPPS
	Final    bool    `json:"final"`  // the bounds are within precision (else: the time ran out)
	// CPUNsPerPacket is vCPU time per delivered packet in the trial at LowerPPS (cpu.ns_per_packet).
	CPUNsPerPacket float64 `json:"cpu_ns_per_packet,omitempty"`
}

// Trial is one trial of a search: a fixed-rate run of the search's trial length.
type Trial struct {
	OfferedPPS  float64  `json:"offered_pps"`
	AchievedPPS float64  `json:"achieved_pps"`
	LossRatio   float64  `json:"loss_ratio"` // measured_dropped / measured_generated
	Valid       bool     `json:"valid"`      // the run's validity verdict
	Reasons     []string `json:"reasons,omitempty"`
	// CPUNsPerPacket, ISRToDPCP99Ns and LatencyP50Ns/P99Ns are the trial's figures
	// (cpu.ns_per_packet, isr_to_dpc p99, packet_latency p50 and p99), ns.
	CPUNsPerPacket float64 `json:"cpu_ns_per_packet"`
	ISRToDPCP99Ns  int64   `json:"isr_to_dpc_p99_ns"`
	LatencyP50Ns   int64   `json:"packet_latency_p50_ns"`
	LatencyP99Ns   int64   `json:"packet_latency_p99_ns"`
}

// LoadPoint is latency at a fraction of the NDR, from one valid trial there.
type LoadPoint struct {
	Fraction float64 `json:"fraction"` // of the NDR's lower bound: 0.1, 0.5, 0.9
	Trial
}
