package traffic

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/hist"
	"github.com/ndisbench/ndisbench/nicmodel"
)

// Invariants (Generator):
//   - Run's goroutine is the only writer of the NIC's receive side (Stage, Flush, Poll)
//     and of everything in Stats; Stats may be read once Run has returned.
//   - Run reads the clock once for every packet already due, up to dueBurst of them, and
//     stamps their writes (Written) and lags with that reading: never later than the
//     write, so no packet is written before its intended time. Its loop counter counts
//     packets and waits alike; a burst ends at every 64th, where the periodic checks
//     (Poll, checkIn) look at it. Stats.LagMax is the exact largest lag, histogram or not.
//   - The lag histogram (GeneratorConfig.Lag) is a hist.Writer that Run owns: it records
//     each measured packet's lag at its write time, ticks it while it waits and steps it
//     (a little of a retired interval's drain) while it waits and every 256 packets, and
//     closes it when it returns. Its collector takes only what it handed over.
//   - stop: Stop sets it from any goroutine; Run sees it at its next check.

// GeneratorConfig is what a Generator sends, into what, and how.
type GeneratorConfig struct {
	NIC      *nicmodel.NIC
	Schedule *Schedule
	Flows    *Flows
	Sizes    *Sizes
	// Indirection is the NIC's RSS: it hashes each packet (NBL.Hash) and this table picks
	// its queue; a packet it cannot hash (Flows.NonRSS) goes to queue 0, unhashed. nil: no
	// RSS in the NIC, every packet to queue 0, unhashed; a driver that spreads packets
	// hashes their NBL.Tuple itself.
	Indirection *nicmodel.Indirection
	Clock       core.Clock // the run's clock (the zero Clock is the real one)
	CPU         int        // real CPU to pin Run's thread to; -1: none
	// Poll makes the generator release interrupts that moderation deferred, as time
	// passes (NIC.Poll): set it when the NIC moderates.
	Poll bool
	// SendAll makes the generator send every packet the schedule offers before End,
	// however late, instead of stopping LateCut after End: the traffic is then exactly
	// the seed's whatever the machine, and the run as long as sending it takes.
	SendAll bool
	// Periodic, when set, is called about every PeriodicEvery ns of the clock, from Run's
	// goroutine: a second device on a shared line raising its interrupts, say.
	Periodic      func()
	PeriodicEvery int64
	// Lag, when set, is where the lag of each measured packet's write behind its intended
	// time goes (its histogram 0), in the interval of the write's time; Run owns it, and
	// closes it when it returns (core.Platform.AddWriter makes one).
	Lag *hist.Writer
	// Sent, when set, is told of each burst of packets sent into the NIC (written or
	// dropped) on one clock reading: when, and how many. It is called from Run's
	// goroutine, on the hot path: a timeline trace's (trace.Recorder.GeneratorWrote).
	Sent func(at int64, packets int)
}

// Timeline is when a generator sends, on its clock: the schedule's time 0 is Start;
// packets intended before WarmEnd are the warm-up (sent and counted, not measured); the
// first packet intended at or after End is not sent.
type Timeline struct {
	Start, WarmEnd, End int64
}

// Generator is the open-loop load generator: it writes each packet into the NIC when its
// intended time (Schedule) comes, with a flow (Flows) and a size (Sizes), and never slows
// the schedule when it falls behind: the lag is recorded, and latency is measured from
// the intended time. Run it on a goroutine of its own.
type Generator struct {
	cfg   GeneratorConfig
	tl    Timeline
	stop  atomic.Bool
	stats Stats
}

// NewGenerator returns a generator of c's packets over tl.
func NewGenerator(c GeneratorConfig, tl Timeline) *Generator {
	return &Generator{cfg: c, tl: tl}
}

// Timeline returns when the generator sends.
func (g *Generator) Timeline() Timeline { return g.tl }

// Stats is what a generator did; read it after Run returns.
type Stats struct {
	PinnedCPU       int       // the real CPU Run was pinned to; -1: not pinned
	Started         time.Time // wall clock when the first measured packet was due
	Interrupted     bool      // Stop ended the run before End
	Generated       uint64    // packets written or dropped, warm-up included
	Measured        uint64    // of those, intended at or after WarmEnd
	MeasuredDropped uint64    // of those, dropped by the NIC
	LastIntended    int64     // the last measured packet's intended time
	LastWrite       int64     // and when it was written
	LagMax          int64     // the most a measured packet's write lagged its intended time, ns
	// Unsent is, when the generator fell so far behind that the window ended (End plus
	// LateCut, on its clock) with packets still due, the intended time of the first of
	// them: the schedule offered them, the generator never sent them. 0 otherwise.
	Unsent  int64
	Mallocs uint64 // heap objects the process allocated while measured packets were sent
}

// Stop asks Run to stop sending at its next check (within 256 packets or idle turns).
// Any goroutine.
func (g *Generator) Stop() { g.stop.Store(true) }

// Stats returns what Run did. Call it after Run has returned.
func (g *Generator) Stats() Stats { return g.stats }

const allocsMetric = "/gc/heap/allocs:objects"

// LateCut is how long past the end of its window a generator that fell behind goes on
// sending what was due before the end: a run ends on time however far behind its
// schedule the generator is (a rate beyond it, or a host that stalled it), and what it
// never sent is counted as offered and unsent (Stats.Unsent).
const LateCut = 10 * time.Millisecond

// Run sends the schedule's packets from Start to End, then writes back what the NIC
// holds. It locks its goroutine to an OS thread, pinned to CPU where the OS allows.
func (g *Generator) Run() {
	g.stats.PinnedCPU = -1
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c, tl := &g.cfg, g.tl
	if c.CPU >= 0 {
		if undo, err := affinity.Pin(c.CPU); err == nil {
			g.stats.PinnedCPU = c.CPU
			defer undo()
		}
	}
	lag := c.Lag
	if lag != nil {
		defer lag.Close() // after its last record
	}
	clock := c.Clock
	sample := []metrics.Sample{{Name: allocsMetric}}
	readAllocs := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	st := &g.stats
	nic := c.NIC
	var allocs0 uint64
	warm, staged := false, false
	nic.MeasureFrom(tl.WarmEnd)
	next := tl.Start + c.Schedule.Next()
	periodicNext := tl.Start
	var i uint64 // turns of the loop: packets sent, and waits
	var lagMax int64
	for ; ; i++ {
		now := clock.Now()
		if c.Periodic != nil && now >= periodicNext {
			c.Periodic()
			periodicNext += c.PeriodicEvery
		}
		if next >= tl.End {
			break
		}
		if now-tl.End > int64(LateCut) && !c.SendAll {
			st.Unsent = next
			break
		}
		if next > now { // early: write back what is held, and wait
			if staged {
				nic.Flush(now)
				staged = false
			}
			if c.Poll {
				nic.Poll(now)
			}
			if lag != nil {
				lag.Tick(now)
				lag.Step()
			}
			if g.checkIn(i) {
				break
			}
			if i&(1<<14-1) == 0 {
				runtime.Gosched() // oversubscribed machines: let others in
			}
			continue
		}
		// Every packet due by now, up to dueBurst of them, goes out on this one reading
		// of the clock: a reading taken before a write is never later than the write, so
		// no packet is written before its time; behind schedule, one clock read serves
		// many packets. The writes are stamped with the reading (Written, the lag), and
		// their lags go into the interval of the reading, found once.
		var lagH *hist.Dense
		if lag != nil {
			lagH = lag.Tick(now).Hist(0)
		}
		k := 0
		for {
			if !warm && next >= tl.WarmEnd {
				warm = true
				st.Started = time.Now()
				allocs0 = readAllocs()
			}
			nbl := core.NBL{Intended: next, Size: uint16(c.Sizes.Next())}
			q := 0 // the NIC's default queue, where a packet RSS cannot hash goes
			if !c.Flows.NonRSS() {
				flow := c.Flows.Next()
				nbl.IPv4, nbl.Tuple = true, c.Flows.Input(flow)
				if c.Indirection != nil { // the NIC hashes (NET_BUFFER_LIST hash information) and picks the queue
					nbl.Hash, nbl.Hashed = c.Flows.Hash(flow), true
					q = c.Indirection.Lookup(nbl.Hash)
				}
			}
			nic.Stage(q, nbl, now)
			staged = true
			st.Generated++
			if warm {
				st.Measured++
				if lagH != nil {
					lagH.Record(now - next)
				}
				lagMax = max(lagMax, now-next)
				st.LastIntended, st.LastWrite = next, now
			}
			next = tl.Start + c.Schedule.Next()
			// The burst also ends at every 64th turn, for the checks below.
			if k++; k == dueBurst || next > now || next >= tl.End || i&63 == 0 {
				break
			}
			i++
		}
		if c.Sent != nil {
			c.Sent(now, k)
		}
		if c.Poll && i&63 == 0 {
			nic.Poll(now)
		}
		if g.checkIn(i) {
			break
		}
	}
	st.LagMax = lagMax
	nic.Flush(clock.Now())
	st.MeasuredDropped = nic.DroppedFrom()
	if warm {
		st.Mallocs = readAllocs() - allocs0
	}
}

// dueBurst is the most packets one reading of the clock sends when they are all due: a
// bound on how stale a write's timestamp can be (dueBurst writes, about a microsecond).
const dueBurst = 32

// checkIn is the generator's check every 256 iterations: it drains a step of its lag
// histogram's retired interval (when it has no wait to do it in), and reports whether
// the run was stopped.
func (g *Generator) checkIn(i uint64) bool {
	if i&255 != 0 {
		return false
	}
	if g.cfg.Lag != nil {
		g.cfg.Lag.StepN(4096) // a few µs every 256 packets, while a drain is due
	}
	if g.stop.Load() {
		g.stats.Interrupted = true
		return true
	}
	return false
}
