package core_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ndisbench/ndisbench/core"
)

// recorder is an Observer that keeps every event per vCPU, without a lock: Observe is
// called on the event's own vCPU thread, one event at a time (the race detector checks
// that promise), and outside any vCPU under the platform's lock.
type recorder struct {
	perCPU [][]core.Event // index CPU+1: 0 holds the events outside any vCPU
}

func newRecorder(vcpus int) *recorder { return &recorder{perCPU: make([][]core.Event, vcpus+1)} }

func (r *recorder) Observe(e core.Event) { r.perCPU[e.CPU+1] = append(r.perCPU[e.CPU+1], e) }

// kinds returns the kinds of one vCPU's events, with "+" after a requeue and "*" after
// a DPC end that set MorePending.
func (r *recorder) kinds(cpu int) string {
	var b []string
	for _, e := range r.perCPU[cpu+1] {
		s := e.Kind.String()
		if e.Requeued {
			s += "+"
		}
		if e.Kind == core.EventDPCEnd && e.More {
			s += "*"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

// TestObserverSeesOneInterruptInOrder: one message interrupt on one vCPU whose DPC is
// throttled to 1 NBL and has 2 to indicate: every event arrives, in the order the vCPU
// saw it, with the fields that kind carries.
func TestObserverSeesOneInterruptInOrder(t *testing.T) {
	obs := newRecorder(1)
	p := newPlatform(t, core.PlatformConfig{VCPUs: 1, NoPin: true, MSI: core.MSIX, MaxNBLs: 1, Observer: obs})
	var left atomic.Int32
	left.Store(2)
	var ix *core.Interrupt
	ix = mustRegister(t, p, nil, msiChars(
		func(any, core.MessageID) core.ISRResult {
			maskDevice(ix, 0)
			return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
		},
		func(_ any, _ core.MessageID, c *core.DPCCall) {
			c.Indicate([]core.NBL{{Seq: uint64(left.Add(-1))}})
			if left.Load() > 0 {
				c.Throttle.MorePending = true
				return
			}
			unmaskDevice(c)
		}), nil)
	vec := ix.MessageTable()[0].Vector
	p.Raise(vec)
	waitFor(t, "the batch to end", func() bool { return p.Counter(core.CtrBatches) == 1 })
	waitFor(t, "idle", p.Idle)
	p.Stop()

	want := "raised isr-start dpc-queued isr-end dpc-start dpc-end* dpc-queued+ dpc-start+ enabled batch-end dpc-end"
	if got := obs.kinds(0); got != want {
		t.Fatalf("events on vCPU 0:\n got %s\nwant %s", got, want)
	}
	ev := obs.perCPU[1]
	for i, e := range ev {
		if e.CPU != 0 {
			t.Errorf("event %d (%v) reported on CPU %d", i, e.Kind, e.CPU)
		}
		if i > 1 && e.Time < ev[i-1].Time {
			t.Errorf("event %d (%v) at %d before event %d (%v) at %d", i, e.Kind, e.Time, i-1, ev[i-1].Kind, ev[i-1].Time)
		}
		if e.Kind != core.EventRaised && e.Interrupt != ix {
			t.Errorf("event %d (%v) names interrupt %p, want %p", i, e.Kind, e.Interrupt, ix)
		}
	}
	if ev[0].Vector != vec || ev[1].Vector != vec || ev[0].Time > ev[1].Time {
		t.Errorf("raised %+v then isr-start %+v: want vector %d, raised no later than the ISR start", ev[0], ev[1], vec)
	}
	if r := ev[3].Result; !r.Recognized || !r.QueueDefaultDPC {
		t.Errorf("isr-end result %+v", r)
	}
	if q := ev[2]; q.Target != 0 || q.By != 0 || q.Requeued {
		t.Errorf("dpc-queued from the ISR: %+v", q)
	}
	if ev[5].Indicated != 1 || ev[10].Indicated != 1 || ev[10].More {
		t.Errorf("dpc-ends %+v and %+v: want 1 NBL each, the last without MorePending", ev[5], ev[10])
	}
	if b := ev[9]; b.Duration <= 0 || b.Duration != b.Time-ev[1].Time {
		t.Errorf("batch-end duration %d, want its time %d minus the ISR start %d", b.Duration, b.Time, ev[1].Time)
	}
	if len(obs.perCPU[0]) != 0 {
		t.Errorf("events outside any vCPU: %v", obs.perCPU[0])
	}
}

// TestObserverSeesSharedLineSharersAndOutsideCalls: on a shared line each sharer's ISR
// has its start and end with its own result; a QueueDPC and a device re-enabled from an
// ordinary goroutine are reported outside any vCPU (CPU -1).
func TestObserverSeesSharedLineSharersAndOutsideCalls(t *testing.T) {
	obs := newRecorder(1)
	p := newPlatform(t, core.PlatformConfig{VCPUs: 1, NoPin: true, MSI: core.NoMSI, Observer: obs})
	other := mustRegister(t, p, "other", lineChars(func(any) core.ISRResult { return core.ISRResult{} },
		func(any, *core.DPCCall) {}), nil)
	var src *core.LineSource
	ours := mustRegister(t, p, "ours", lineChars(func(any) core.ISRResult {
		src.Deassert()
		return core.ISRResult{Recognized: true, QueueDefaultDPC: true}
	}, func(_ any, c *core.DPCCall) {}), nil)
	var err error
	if src, err = p.NewLineSource(); err != nil {
		t.Fatal(err)
	}
	src.Assert()
	waitFor(t, "the ISR to run", func() bool { return p.Counter(core.CtrDPCs) == 1 })
	waitFor(t, "idle", p.Idle)
	ours.QueueDPC(0, core.CPUs(0), "mine")
	waitFor(t, "the queued DPC", func() bool { return p.Counter(core.CtrDPCs) == 2 })
	waitFor(t, "idle", p.Idle)
	ours.DeviceMasked(0, true) // the device masked and re-enabled by an ordinary goroutine
	ours.DeviceMasked(0, false)
	p.Stop()

	want := "raised isr-start isr-end isr-start dpc-queued isr-end dpc-start dpc-end batch-end dpc-start dpc-end"
	if got := obs.kinds(0); got != want {
		t.Fatalf("events on vCPU 0:\n got %s\nwant %s", got, want)
	}
	ev := obs.perCPU[1]
	if ev[1].Interrupt != other || ev[2].Result.Recognized || ev[3].Interrupt != ours || !ev[5].Result.QueueDefaultDPC {
		t.Errorf("sharers' ISR events: %+v %+v %+v %+v", ev[1], ev[2], ev[3], ev[5])
	}
	if got := fmt.Sprint(kindsOf(obs.perCPU[0])); got != "[dpc-queued enabled]" {
		t.Errorf("events outside any vCPU = %s, want [dpc-queued enabled]", got)
	}
	if q := obs.perCPU[0][0]; q.CPU != -1 || q.By != -1 || q.Target != 0 {
		t.Errorf("outside dpc-queued %+v: want CPU -1, By -1, Target 0", q)
	}
	if s := ev[9]; s.By != -1 {
		t.Errorf("the outside DPC starts with By %d, want -1", s.By)
	}
}

func kindsOf(ev []core.Event) []string {
	var k []string
	for _, e := range ev {
		k = append(k, e.Kind.String())
	}
	return k
}

// TestObserverEventsMatchCounters: many interrupts over two vCPUs, DPCs fanned out
// across CPUs and throttled: per vCPU the events follow the contract's order, every DPC
// start has its queueing before it, and the events add up to the platform's counters.
func TestObserverEventsMatchCounters(t *testing.T) {
	const n = 300
	obs := newRecorder(2)
	p := newPlatform(t, core.PlatformConfig{VCPUs: 2, NoPin: true, MSI: core.MSIX, MaxNBLs: 2, Observer: obs})
	var outstanding [2]atomic.Int32 // per message: DPCs of the open batch
	var todo [2][2]atomic.Int32     // per message and CPU: NBLs its DPC must indicate
	var ix *core.Interrupt
	ix = mustRegister(t, p, nil, msiChars(
		func(_ any, msg core.MessageID) core.ISRResult {
			outstanding[msg].Store(2)
			todo[msg][0].Store(3)
			todo[msg][1].Store(3)
			maskDevice(ix, msg)
			return core.ISRResult{Recognized: true, TargetCPUs: core.CPUs(0, 1)}
		},
		func(_ any, msg core.MessageID, c *core.DPCCall) {
			left := &todo[msg][c.CPU]
			k := min(int(left.Load()), c.Throttle.MaxNBLs)
			c.Indicate(make([]core.NBL, k))
			if left.Add(-int32(k)) > 0 {
				c.Throttle.MorePending = true
				return
			}
			if outstanding[msg].Add(-1) == 0 {
				unmaskDevice(c)
			}
		}), nil)
	table := ix.MessageTable()
	for i := 0; i < n; i++ {
		msg := i % 2
		p.Raise(table[msg].Vector)
		waitFor(t, "the batch", func() bool { return p.Counter(core.CtrBatches) == uint64(i+1) })
	}
	waitFor(t, "idle", p.Idle)
	p.Stop()
	m := p.Metrics()

	count := map[core.EventKind]uint64{}
	var indicated, requeued uint64
	queued := [2][]core.Event{} // per target CPU, in time order of queueing
	for cpu := 0; cpu < 2; cpu++ {
		ev := obs.perCPU[cpu+1]
		inISR, inDPC := false, false
		for i, e := range ev {
			count[e.Kind]++
			if e.CPU != cpu {
				t.Fatalf("vCPU %d event %d reported on CPU %d", cpu, i, e.CPU)
			}
			if i > 0 && e.Kind != core.EventRaised && e.Time < ev[i-1].Time {
				t.Fatalf("vCPU %d event %d (%v) goes back in time", cpu, i, e.Kind)
			}
			switch e.Kind {
			case core.EventRaised:
				if inISR || inDPC || i+1 >= len(ev) || ev[i+1].Kind != core.EventISRStart || ev[i+1].Time < e.Time {
					t.Fatalf("vCPU %d event %d: raised not followed by its ISR start: %s", cpu, i, obs.kinds(cpu))
				}
			case core.EventISRStart:
				inISR = true
			case core.EventISREnd:
				if !inISR {
					t.Fatalf("vCPU %d event %d: ISR end without start", cpu, i)
				}
				inISR = false
			case core.EventDPCStart:
				if inISR || inDPC {
					t.Fatalf("vCPU %d event %d: DPC start inside an ISR or DPC", cpu, i)
				}
				inDPC = true
			case core.EventDPCEnd:
				if !inDPC {
					t.Fatalf("vCPU %d event %d: DPC end without start", cpu, i)
				}
				inDPC = false
				indicated += uint64(e.Indicated)
			case core.EventDPCQueued:
				if !inISR && !inDPC && !e.Requeued {
					t.Fatalf("vCPU %d event %d: a DPC queued outside an ISR or DPC", cpu, i)
				}
				if e.Requeued {
					requeued++
				}
				queued[e.Target] = append(queued[e.Target], e)
			case core.EventEnabled:
				if !inDPC || i+1 >= len(ev) || ev[i+1].Kind != core.EventBatchEnd {
					t.Fatalf("vCPU %d event %d: enabled outside a DPC, or not closing the batch", cpu, i)
				}
			}
		}
	}
	// Every DPC start on a CPU has its own queueing onto that CPU, the one its Queued
	// names: same message, same queuer, that time, no later than the start.
	type queueing struct {
		msg      core.MessageID
		by       int
		at       int64
		requeued bool
	}
	for cpu := 0; cpu < 2; cpu++ {
		left := map[queueing]int{}
		for _, q := range queued[cpu] {
			left[queueing{q.Message, q.By, q.Time, q.Requeued}]++
		}
		starts := 0
		for _, e := range obs.perCPU[cpu+1] {
			if e.Kind != core.EventDPCStart {
				continue
			}
			starts++
			k := queueing{e.Message, e.By, e.Queued, e.Requeued}
			if left[k] == 0 || e.Queued > e.Time {
				t.Fatalf("vCPU %d: DPC start %+v has no queueing of its own at Queued %d", cpu, e, e.Queued)
			}
			left[k]--
		}
		if starts != len(queued[cpu]) {
			t.Errorf("vCPU %d: %d DPC starts, %d queueings onto it", cpu, starts, len(queued[cpu]))
		}
	}
	c := m.Counters
	for _, chk := range []struct {
		what string
		got  uint64
		want uint64
	}{
		{"raised events vs interrupts", count[core.EventRaised], c["interrupts"]},
		{"ISR starts vs isr_calls", count[core.EventISRStart], c["isr_calls"]},
		{"DPC starts vs dpcs", count[core.EventDPCStart], c["dpcs"]},
		{"DPC ends vs dpcs", count[core.EventDPCEnd], c["dpcs"]},
		{"batch ends vs batches", count[core.EventBatchEnd], c["batches"]},
		{"enabled vs batches", count[core.EventEnabled], c["batches"]},
		{"requeued vs requeues", requeued, c["requeues"]},
		{"indicated", indicated, c["indicated"]},
		{"batches", c["batches"], n},
		{"indicated total", c["indicated"], 6 * n},
	} {
		if chk.got != chk.want {
			t.Errorf("%s: %d, want %d", chk.what, chk.got, chk.want)
		}
	}
}
