package harness_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/nicmodel"
	"github.com/ndisbench/ndisbench/nicmodel/harness"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
	"github.com/ndisbench/ndisbench/nicmodel/traffic"
	"github.com/ndisbench/ndisbench/results/metric"
)

// These tests run whole scenarios on real threads. They assert behaviour, counts and
// invariants, never speed: on one oversubscribed CPU under -race the generator falls
// far behind its schedule, which changes latencies and drop counts but must not break
// any invariant.

// testScenario is a short run that behaves on one CPU: vCPUs park when idle, and no
// real CPU is spent spinning for nothing.
func testScenario(mode nicmodel.Mode) scenario.Scenario {
	d := 150 * time.Millisecond
	if testing.Short() {
		d = 60 * time.Millisecond
	}
	sc := scenario.Scenario{
		Mode: mode, VCPUs: 2, Queues: 4, Idle: core.IdleSpinPark, Spin: 5 * time.Microsecond,
		Duration: d, Warmup: 10 * time.Millisecond, Seed: 42, NoPin: true,
	}
	sc.Schedule.RatePPS = 200e3
	return sc
}

// run runs sc and fails the test on a config error or a broken invariant. It sends the
// whole schedule however far behind a loaded machine puts the generator, so that tests
// comparing two runs' traffic compare the seed's, not the machine's.
func run(t *testing.T, sc scenario.Scenario) *harness.Report {
	t.Helper()
	rep, err := harness.Run(context.Background(), sc, harness.Options{SendAll: true})
	if rep == nil {
		t.Fatalf("Run: %v", err)
	}
	if err != nil {
		t.Fatalf("Run: %v\ncounters: %v", err, rep.Counters)
	}
	return rep
}

// checkConservation re-asserts DESIGN.md §5 from the counters, independently of Run's
// own check.
func checkConservation(t *testing.T, rep *harness.Report) {
	t.Helper()
	c := rep.Counters
	if c["generated"] == 0 {
		t.Fatalf("no traffic generated: %v", c)
	}
	if c["generated"] != c["written"]+c["dropped"] {
		t.Errorf("generated %d != written %d + dropped %d", c["generated"], c["written"], c["dropped"])
	}
	if c["indicated"] != c["written"] {
		t.Errorf("indicated %d != written %d", c["indicated"], c["written"])
	}
	var perQueue, perCPU uint64
	for _, n := range rep.PerQueue {
		perQueue += n
	}
	for _, n := range rep.PerCPU {
		perCPU += n
	}
	if perQueue != c["written"] || perCPU != c["indicated"] {
		t.Errorf("per-queue sum %d / per-CPU sum %d, want written %d / indicated %d", perQueue, perCPU, c["written"], c["indicated"])
	}
	if c["violations"] != 0 {
		t.Errorf("violations: %v", rep.Violations)
	}
	if rep.Hists[metric.PacketLatency].TotalCount() == 0 && !rep.Scenario.NoPacketHists {
		t.Errorf("packet_latency is empty")
	}
}

// TestRunConservationEveryMode: every delivery mode and fan-out keeps every packet,
// once, in order per queue, and drains (DESIGN.md §5, R3, R4, R6, R9).
func TestRunConservationEveryMode(t *testing.T) {
	for _, mode := range []nicmodel.Mode{nicmodel.ModeMSIX, nicmodel.ModeMSI, nicmodel.ModeLine} {
		for _, fan := range []scenario.FanOut{scenario.FanOutTargets, scenario.FanOutQueueDPC} {
			if mode == nicmodel.ModeMSIX && fan == scenario.FanOutQueueDPC {
				continue // one queue per message: nothing to fan out
			}
			t.Run(fmt.Sprintf("mode=%v/fan=%v", mode, fan), func(t *testing.T) {
				sc := testScenario(mode)
				sc.FanOut = fan
				sc.Throttle = 16
				rep := run(t, sc)
				checkConservation(t, rep)
				if rep.Counters["dpcs"] == 0 || rep.Counters["batches"] == 0 {
					t.Errorf("no DPCs or batches: %v", rep.Counters)
				}
				for cpu, n := range rep.PerCPU {
					if n == 0 {
						t.Errorf("vCPU %d indicated nothing; 4 queues over 2 vCPUs should use both", cpu)
					}
				}
			})
		}
	}
}

// isrTargets is an Observer that counts the ISRs that returned a target set and the
// DPCs queued from a DPC (by QueueDPC). Observe runs on the vCPUs: atomics.
type isrTargets struct{ withTargets, fromDPC, isrs atomic.Uint64 }

func (o *isrTargets) Observe(e core.Event) {
	switch e.Kind {
	case core.EventISREnd:
		o.isrs.Add(1)
		if e.Result.TargetCPUs != 0 {
			o.withTargets.Add(1)
		}
	case core.EventDPCQueued:
		if !e.Requeued && e.By >= 0 && e.CPU == e.By && e.Target != e.By {
			o.fromDPC.Add(1) // queued on another CPU by code running on this one
		}
	}
}

// TestRunDefaultFanOutQueuesDPCs: by default the reference miniport reaches other CPUs
// with QueueDPC from its default DPC and never returns a target set, as NDIS 6.20 and
// later drivers are told to: MINIPORT_ISR, TargetProcessors, "NDIS 6.20 and later drivers
// should not use this parameter to schedule DPCs. Instead, they should set this parameter
// to zero and use the NdisMQueueDpcEx function to schedule DPCs."
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
// With fan_out targets it returns target sets instead.
func TestRunDefaultFanOutQueuesDPCs(t *testing.T) {
	for _, mode := range []nicmodel.Mode{nicmodel.ModeMSI, nicmodel.ModeLine} {
		t.Run(mode.String(), func(t *testing.T) {
			sc := testScenario(mode) // 4 queues over 2 vCPUs: one message reaches both
			if sc.FanOut != scenario.FanOutQueueDPC || scenario.Default().FanOut != scenario.FanOutQueueDPC {
				t.Fatalf("the default fan_out is %v (literal) / %v (table), want queue-dpc", sc.FanOut, scenario.Default().FanOut)
			}
			var obs isrTargets
			rep, err := harness.Run(context.Background(), sc, harness.Options{Observer: &obs})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkConservation(t, rep)
			if obs.withTargets.Load() != 0 {
				t.Errorf("%d of %d ISRs returned a target set; queue-dpc must leave it 0", obs.withTargets.Load(), obs.isrs.Load())
			}
			if obs.fromDPC.Load() == 0 {
				t.Errorf("no DPC queued another CPU's DPC: the fan-out went nowhere")
			}

			sc.FanOut = scenario.FanOutTargets
			obs = isrTargets{}
			rep, err = harness.Run(context.Background(), sc, harness.Options{Observer: &obs})
			if err != nil {
				t.Fatalf("Run (targets): %v", err)
			}
			checkConservation(t, rep)
			if obs.withTargets.Load() == 0 {
				t.Errorf("fan_out targets: no ISR returned a target set in %d ISRs", obs.isrs.Load())
			}
		})
	}
}

// TestRunMSIXAndLineSameTraffic is the "done when": the same seeded traffic
// through MSI-X and through a line, both passing every invariant, both offered the same
// packets.
func TestRunMSIXAndLineSameTraffic(t *testing.T) {
	msix := run(t, testScenario(nicmodel.ModeMSIX))
	line := run(t, testScenario(nicmodel.ModeLine))
	checkConservation(t, msix)
	checkConservation(t, line)
	if msix.Counters["generated"] != line.Counters["generated"] {
		t.Errorf("generated: msix %d, line %d: the same seeded schedule should give the same packets",
			msix.Counters["generated"], line.Counters["generated"])
	}
	if line.Counters["isr_calls"] == 0 || msix.Counters["isr_calls"] == 0 {
		t.Errorf("no ISR calls: msix %v, line %v", msix.Counters, line.Counters)
	}
}

// TestRunUnsharedLineNotMineIsSelfInflicted checks how "not mine" is classified, not
// its rate (a rate depends on the machine). The reference miniport alone on a line says
// "not mine" (MINIPORT_ISR's FALSE: its NIC did not interrupt) in well under 1% of its
// ISR calls on a quiet machine. It used to say it in about 45% of them on the default scenario: its ISR read
// (and cleared) the cause register before it masked, and a packet in between re-asserted
// the line for work the batch already had, so the next ISR found nothing. Now the read
// masks (the NIC auto-masks), the line is level-triggered, and the read waits out a raise
// in progress, so what remains is a raise whose thread the machine preempted mid-way for
// longer than that wait, which a loaded machine does now and then (the exact,
// deterministic case is reference's TestLinePacketDuringTheISRIsNoSecondInterrupt; the
// rate seen here is logged). What cannot vary is how they are counted: every "not mine"
// of an unshared line is a line interrupt nobody claimed, and each is self-inflicted
// (self_spurious: its ISR's cause read found nothing and dropped the line), none
// unclaimed.
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_isr
func TestRunUnsharedLineNotMineIsSelfInflicted(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*scenario.Scenario)
	}{
		// The shape of the default scenario's line run.
		{"default", nil},
		// A 2µs MMIO read: the window between the line's delivery and the ISR's read
		// is 2µs wide, packets come every 5µs.
		{"mmio_read=2us", func(sc *scenario.Scenario) { sc.MMIORead = 2 * time.Microsecond }},
		// Moderated, throttled batches: DPCs re-queue with the NIC masked, and the
		// moderation timer raises what it deferred.
		{"moderated", func(sc *scenario.Scenario) { moderate(sc); sc.Throttle = 8 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := testScenario(nicmodel.ModeLine)
			if tt.edit != nil {
				tt.edit(&sc)
			}
			rep := run(t, sc)
			checkConservation(t, rep)
			c := rep.Counters
			t.Logf("not mine in %d of %d line ISR calls (%.4f%%); self-inflicted %d, unclaimed %d",
				c[metric.NotMine], c[metric.ISRCalls], 100*float64(c[metric.NotMine])/float64(max(1, c[metric.ISRCalls])),
				c[metric.SelfSpurious], c[metric.Unclaimed])
			if c[metric.ISRCalls] == 0 {
				t.Fatalf("no ISR calls: %v", c)
			}
			if c[metric.NotMine] != c[metric.SelfSpurious] || c[metric.Unclaimed] != 0 {
				t.Errorf("not_mine %d, self_spurious %d, unclaimed %d: on an unshared line every not-mine is one self-inflicted interrupt",
					c[metric.NotMine], c[metric.SelfSpurious], c[metric.Unclaimed])
			}
		})
	}
}

// TestRunThrottleCapsEveryDPC: with throttle N no DPC call indicates more than N, and
// work left over is re-queued, not lost (R8).
func TestRunThrottleCapsEveryDPC(t *testing.T) {
	for _, mode := range []nicmodel.Mode{nicmodel.ModeMSIX, nicmodel.ModeLine} {
		t.Run(mode.String(), func(t *testing.T) {
			sc := testScenario(mode)
			sc.Throttle = 4
			sc.ModerationPackets = 32 // interrupts come with 32 packets waiting: more than 4
			sc.ModerationInterval = 50 * time.Microsecond
			rep := run(t, sc)
			checkConservation(t, rep)
			if max := rep.Hists["dpc_batch_size"].Max(); max > 4 {
				t.Errorf("a DPC call indicated %d NBLs, throttle is 4", max)
			}
			if rep.Counters["requeues"] == 0 {
				t.Errorf("no DPC was re-queued for MorePending with 32 packets per interrupt and throttle 4: %v", rep.Counters)
			}
		})
	}
}

// TestRunExhaustionDropsOnly: a stack slower than the wire runs the queues out of posted
// buffers; the NIC drops, and loses nothing it accepted.
func TestRunExhaustionDropsOnly(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.Buffers = 8
	sc.RingSize = 8
	sc.PerIndication = 50 * time.Microsecond
	sc.IndicateBatch = 1
	rep := run(t, sc)
	checkConservation(t, rep)
	if rep.Counters["dropped"] == 0 {
		t.Fatalf("no drops with 8 buffers and 50µs per indication at 200k pps: %v", rep.Counters)
	}
	if rep.Counters["measured_dropped"] > rep.Counters["dropped"] {
		t.Errorf("measured_dropped %d > dropped %d", rep.Counters["measured_dropped"], rep.Counters["dropped"])
	}
	if rep.DropPct <= 0 || rep.DropPct > 100 {
		t.Errorf("DropPct = %v", rep.DropPct)
	}
}

// TestRunSharedLineWithNoisyDevice: a second device on the line makes our ISR say "not
// mine" (R3) and its own ISR claim, and no packet is lost.
func TestRunSharedLineWithNoisyDevice(t *testing.T) {
	sc := testScenario(nicmodel.ModeLine)
	sc.NoiseRate = 20e3
	rep := run(t, sc)
	checkConservation(t, rep)
	c := rep.Counters
	if c["noise_interrupts"] == 0 || c["noise_claimed"] == 0 {
		t.Errorf("the noisy device raised %d and claimed %d interrupts", c["noise_interrupts"], c["noise_claimed"])
	}
	if c["not_mine"] == 0 {
		t.Errorf("the miniport's line ISR never said \"not mine\" on a shared line: %v", c)
	}
	if c["noise_claimed"] > c["noise_interrupts"] {
		t.Errorf("noise claimed %d > raised %d", c["noise_claimed"], c["noise_interrupts"])
	}
}

// TestRunRSSSpreadsAsTheTableSays replays the seeded flows through the indirection table
// and checks the per-queue (NIC RSS) and per-CPU (driver RSS) counts against it (R10).
// With a share of packets RSS cannot hash (non_rss_pct), those count where the NDIS
// documents put them: the NIC's default queue 0 with NIC RSS, the ISR's CPU (vCPU 0,
// message 0's) with driver RSS (MINIPORT_INTERRUPT_DPC: the DPC on the ISR's CPU
// "should indicate all the packets that could not be mapped to a CPU").
// https://learn.microsoft.com/windows-hardware/drivers/ddi/ndis/nc-ndis-miniport_interrupt_dpc
func TestRunRSSSpreadsAsTheTableSays(t *testing.T) {
	for _, rss := range []scenario.RSSMode{scenario.RSSNIC, scenario.RSSDriver} {
		for _, pct := range []float64{0, 20} {
			t.Run(fmt.Sprintf("%v/non_rss_pct=%v", rss, pct), func(t *testing.T) {
				sc := testScenario(nicmodel.ModeMSIX)
				sc.RSS = rss
				sc.Queues = 0 // the default for the mode: one per vCPU, or one
				sc.Flows.Count = 64
				sc.Flows.NonRSSPct = pct
				sc.Buffers = 1 << 16 // no drops: every packet lands where its hash says
				sc.RingSize = 1 << 16
				rep := run(t, sc)
				checkConservation(t, rep)
				if rep.Counters["dropped"] != 0 {
					t.Fatalf("dropped %d; the replay assumes none", rep.Counters["dropped"])
				}
				want, nonRSS := replaySpread(t, rep.Scenario, rep.Counters["generated"])
				got := rep.PerQueue
				if rss == scenario.RSSDriver {
					got = rep.PerCPU
					if len(rep.PerQueue) != 1 {
						t.Fatalf("driver RSS ran %d queues, want 1", len(rep.PerQueue))
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("spread = %v, want %v from the indirection table (%d packets RSS cannot hash on %s 0)",
						got, want, nonRSS, map[bool]string{true: "vCPU", false: "queue"}[rss == scenario.RSSDriver])
				}
				if pct > 0 && nonRSS == 0 {
					t.Errorf("non_rss_pct %v drew no packet RSS cannot hash", pct)
				}
				if rss == scenario.RSSDriver && rep.Hists["isr_to_dpc_cross_cpu"].TotalCount() == 0 {
					t.Errorf("driver RSS queued no DPC on another CPU")
				}
			})
		}
	}
}

// replaySpread draws n packets from the scenario's seeded flow source and counts where
// the indirection table sends them: queues for NIC RSS, vCPUs for driver RSS. A packet
// RSS cannot hash counts on queue 0 (the NIC's default queue) or vCPU 0 (the ISR's:
// one queue, one MSI-X message, aimed at vCPU 0); their number is returned too.
func replaySpread(t *testing.T, sc scenario.Scenario, n uint64) ([]uint64, uint64) {
	t.Helper()
	tz, err := nicmodel.NewToeplitz(sc.RSSKey)
	if err != nil {
		t.Fatal(err)
	}
	flows, err := traffic.NewFlows(sc.Flows, tz)
	if err != nil {
		t.Fatal(err)
	}
	spread := sc.Queues
	if sc.RSS == scenario.RSSDriver {
		spread = sc.VCPUs
	}
	ind, err := nicmodel.NewIndirection(sc.IndirectionEntries, spread)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint64, spread)
	var nonRSS uint64
	for i := uint64(0); i < n; i++ {
		if flows.NonRSS() {
			out[0]++
			nonRSS++
			continue
		}
		out[ind.Lookup(flows.Hash(flows.Next()))]++
	}
	return out, nonRSS
}

// TestRunSameSeedSameTraffic: a seed fixes the traffic; another seed changes it.
func TestRunSameSeedSameTraffic(t *testing.T) {
	spread := func(seed uint64) string {
		sc := testScenario(nicmodel.ModeMSIX)
		sc.Seed = seed
		sc.Schedule.Kind = traffic.KindPoisson
		sc.Buffers, sc.RingSize = 1<<16, 1<<16
		rep := run(t, sc)
		return fmt.Sprint(rep.Counters["generated"], rep.PerQueue)
	}
	a, b, c := spread(7), spread(7), spread(8)
	if a != b {
		t.Errorf("seed 7 twice: %s vs %s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 gave the same traffic %s", a)
	}
}

// TestRunMSISyncSerializes: with MSISyncWithAllMessages every message ISR takes the
// global lock; the run still conserves everything (R5).
func TestRunMSISyncSerializes(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.MSISync = true
	checkConservation(t, run(t, sc))
}

// TestRunWarmupIsCutFromHistograms: histograms hold only measured packets; counters hold
// the warm-up too.
func TestRunWarmupIsCutFromHistograms(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.Warmup = 40 * time.Millisecond
	rep := run(t, sc)
	checkConservation(t, rep)
	lat := uint64(rep.Hists[metric.PacketLatency].TotalCount())
	if lat != rep.Counters["measured_generated"]-rep.Counters["measured_dropped"] {
		t.Errorf("packet_latency holds %d values, want the %d measured packets delivered", lat,
			rep.Counters["measured_generated"]-rep.Counters["measured_dropped"])
	}
	if rep.Counters["measured_generated"] >= rep.Counters["generated"] {
		t.Errorf("measured %d of %d generated: the warm-up's packets should count only in the total",
			rep.Counters["measured_generated"], rep.Counters["generated"])
	}
}

// TestRunWithoutPacketHistograms: no_packet_hists records no per-packet histogram, and
// nothing else changes: every packet is still checked and counted, the per-interrupt
// histograms still fill, and the generator's largest lag is still known (the verdict
// needs it).
func TestRunWithoutPacketHistograms(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.NoPacketHists = true
	rep := run(t, sc)
	checkConservation(t, rep)
	for _, name := range []string{metric.PacketLatency, metric.PacketService, metric.GeneratorLag} {
		if n := rep.Hists[name].TotalCount(); n != 0 {
			t.Errorf("%s holds %d values with no_packet_hists, want none", name, n)
		}
	}
	if rep.Counters["measured_generated"] == 0 || rep.Hists[metric.ISRDuration].TotalCount() == 0 {
		t.Errorf("measured %d packets, %d ISR durations: the run itself should be unchanged",
			rep.Counters["measured_generated"], rep.Hists[metric.ISRDuration].TotalCount())
	}
	if rep.BehindMaxNs <= 0 {
		t.Errorf("generator's largest lag %d ns, want it measured (> 0: a write is never at its very intended ns)", rep.BehindMaxNs)
	}
}

// TestRunInterrupted: cancelling stops the traffic early; the run still drains and
// checks, and says it was interrupted.
func TestRunInterrupted(t *testing.T) {
	sc := testScenario(nicmodel.ModeLine)
	sc.Duration = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan struct{}, 1)
	rep, err := harness.Run(ctx, sc, harness.Options{ProgressEvery: 10 * time.Millisecond, Progress: func(p harness.Progress) {
		if p.Elapsed > sc.Warmup+20*time.Millisecond && p.Generated > 1000 {
			select {
			case seen <- struct{}{}:
				cancel()
			default:
			}
		}
	}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.Interrupted {
		t.Errorf("report not marked interrupted")
	}
	checkConservation(t, rep)
}

// TestRunNoAllocationsPerPacket: the measured window allocates nothing per packet
// (the benchmark reports 0 allocs/op; without -race a window shows 0 or 1).
func TestRunNoAllocationsPerPacket(t *testing.T) {
	rep := run(t, testScenario(nicmodel.ModeMSIX))
	packets := rep.Counters["measured_generated"]
	if packets < 5000 {
		t.Fatalf("only %d packets measured; too few to tell", packets)
	}
	// The count is the whole process's: the race detector and the runtime add a few
	// dozen in a window. One allocation per packet would add thousands.
	if m := rep.Counters["mallocs"]; m*100 > packets {
		t.Errorf("%d heap allocations for %d packets: more than one per 100", m, packets)
	}
}

// TestRunRefusesBadScenarios: a scenario Validate refuses, or an unknown driver, is an
// error naming the key, with no report.
func TestRunRefusesBadScenarios(t *testing.T) {
	for _, tt := range []struct {
		edit func(*scenario.Scenario)
		key  string
	}{
		{func(s *scenario.Scenario) { s.Queues = 65 }, "queues"},
		{func(s *scenario.Scenario) { s.VCPUs = 65 }, "vcpus"},
		{func(s *scenario.Scenario) { s.RingSize = 1000 }, "ring_size"},
		{func(s *scenario.Scenario) { s.Throttle = -1 }, "throttle"},
		{func(s *scenario.Scenario) { s.Duration = -time.Second }, "duration"},
		{func(s *scenario.Scenario) { s.Warmup = -time.Second }, "warmup"},
		{func(s *scenario.Scenario) { s.NoiseRate = 10 }, "noise_rate"},
		{func(s *scenario.Scenario) { s.RSS, s.Queues = scenario.RSSDriver, 4 }, "queues"},
		{func(s *scenario.Scenario) { s.RSSKey = []byte{1} }, "rss_key"},
		{func(s *scenario.Scenario) { s.IndirectionEntries = 3 }, "indirection_entries"},
		{func(s *scenario.Scenario) { s.IndicateBatch = -1 }, "indicate_batch"},
		{func(s *scenario.Scenario) { s.Mode = 9 }, "mode"},
		{func(s *scenario.Scenario) { s.Schedule.Kind = "sawtooth" }, "schedule"},
		{func(s *scenario.Scenario) { s.Flows.Dist = "pareto" }, "flow_dist"},
		{func(s *scenario.Scenario) { s.Flows.NonRSSPct = 101 }, "non_rss_pct"},
		{func(s *scenario.Scenario) { s.Driver = "nosuch" }, "driver"},
	} {
		sc := testScenario(nicmodel.ModeMSIX)
		tt.edit(&sc)
		rep, err := harness.Run(context.Background(), sc, harness.Options{})
		if rep != nil || err == nil || !errors.Is(err, scenario.ErrConfig) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: Run = %v, %v; want no report and an error naming %s", tt.key, rep, err, tt.key)
		}
	}
}

// TestRunIntervalsAddUp: the measured window is cut into back-to-back periods at fixed
// times (every Options.Interval from the end of the warm-up; the last one takes in the
// end and the drain) whose histograms add up, value for value, to the run's: nothing is
// lost or counted twice at a period boundary, for the platform's, the stack's and the
// generator's histograms. Given OnInterval, the run hands them over as they close and
// keeps none.
func TestRunIntervalsAddUp(t *testing.T) {
	sc := testScenario(nicmodel.ModeMSIX)
	sc.Throttle = 32
	sc.Duration = 100 * time.Millisecond
	const period = 10 * time.Millisecond
	for _, streamed := range []bool{false, true} {
		var got []harness.Interval
		opts := harness.Options{Interval: period}
		if streamed {
			last := ""
			opts.OnInterval = func(iv harness.Interval) {
				if len(iv.Hists) != 1 {
					t.Errorf("OnInterval given %d histograms at once, want one", len(iv.Hists))
				}
				if len(got) == 0 || got[len(got)-1].Start != iv.Start {
					got, last = append(got, iv), ""
					got[len(got)-1].Hists = map[string]*hdrhistogram.PackedHistogram{}
				}
				for name, h := range iv.Hists {
					if name <= last {
						t.Errorf("%s after %s: want name order", name, last)
					}
					got[len(got)-1].Hists[name], last = h.Clone(), name // valid during the call only
				}
			}
		}
		rep, err := harness.Run(context.Background(), sc, opts)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if streamed {
			if len(rep.Intervals) != 0 {
				t.Errorf("given OnInterval, the report keeps %d intervals", len(rep.Intervals))
			}
		} else {
			got = rep.Intervals
		}
		// Ten periods, on the grid; streamed, one in which nothing at all was recorded (a
		// host that stalled the run for a whole period) has no call.
		if len(got) != 10 && (!streamed || len(got) == 0 || len(got) > 10) {
			t.Fatalf("%d intervals for a %v run cut every %v, want 10", len(got), sc.Duration, period)
		}
		sums := map[string]int64{}
		for i, iv := range got {
			k := int(iv.Start / period)
			if iv.Start != time.Duration(k)*period || k < i || k > 9 || (iv.Length != period && k < 9) || iv.Length < period {
				t.Errorf("interval %d: start %v length %v; want a multiple of %v, and that long (the last at least)", i, iv.Start, iv.Length, period)
			}
			if !iv.Base.Equal(rep.Started) {
				t.Errorf("interval %d counts from %v, the run started at %v", i, iv.Base, rep.Started)
			}
			for name, h := range iv.Hists {
				if h.TotalCount() == 0 {
					t.Errorf("interval %d keeps empty histogram %s", i, name)
				}
				sums[name] += h.TotalCount()
			}
		}
		for name, h := range rep.Hists {
			if sums[name] != h.TotalCount() {
				t.Errorf("%s: intervals hold %d values, the run %d", name, sums[name], h.TotalCount())
			}
		}
		for _, name := range []string{metric.PacketLatency, "isr_to_dpc", "dpc_duration", metric.GeneratorLag} {
			if sums[name] == 0 {
				t.Errorf("no interval holds %s", name)
			}
		}
		if len(rep.VCPUGapMaxNs) != sc.VCPUs || rep.Clamped == nil {
			t.Errorf("VCPUGapMaxNs %v, Clamped %v: want one gap per vCPU and a map", rep.VCPUGapMaxNs, rep.Clamped)
		}
	}
}

// TestEveryNameARunWritesIsInTheRegistry: the counters and histograms of a report are
// exactly package metric's, with the kind it says; nothing reaches result.json
// undocumented, and nothing documented is missing.
func TestEveryNameARunWritesIsInTheRegistry(t *testing.T) {
	sc := testScenario(nicmodel.ModeLine)
	sc.NoiseRate = 10e3 // the noisy device's counters too
	rep := run(t, sc)
	for name := range rep.Counters {
		if m, ok := metric.Lookup(name); !ok || m.Kind != metric.Counter {
			t.Errorf("counter %s is not a counter of the registry (%+v)", name, m)
		}
	}
	for name := range rep.Hists {
		if m, ok := metric.Lookup(name); !ok || m.Kind != metric.Histogram {
			t.Errorf("histogram %s is not a histogram of the registry (%+v)", name, m)
		}
	}
	for _, m := range metric.OfKind(metric.Counter) {
		if _, ok := rep.Counters[m.Name]; !ok {
			t.Errorf("the registry's counter %s is missing from the report", m.Name)
		}
	}
	for _, m := range metric.OfKind(metric.Histogram) {
		if _, ok := rep.Hists[m.Name]; !ok {
			t.Errorf("the registry's histogram %s is missing from the report", m.Name)
		}
	}
}
