package trace_test

import (
	"testing"
	"time"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
)

// sim tells a Recorder of a random run that keeps the observer seam's promises: each
// vCPU runs one handler at a time, its events in order; a DPC object (message, CPU) is
// queued at most once at a time, and its start names its queueing's time.
type sim struct {
	r       *trace.Recorder
	t       int64
	vcpus   int
	queue   [][]pendingDPC // per vCPU
	queued  map[[2]int]bool
	started int // DPC starts told
}

type pendingDPC struct {
	msg, by  int
	at       int64
	requeued bool
}

func (s *sim) tell(e core.Event) { s.r.Observe(e) }

// queue queues the DPC of msg on target from by (-1: outside any vCPU) at s.t.
func (s *sim) queueDPC(msg, target, by int, requeued bool) {
	if !requeued && s.queued[[2]int{msg, target}] {
		return // already queued: a no-op, no event (R6)
	}
	s.queued[[2]int{msg, target}] = true
	s.tell(core.Event{Kind: core.EventDPCQueued, Time: s.t, CPU: by, Message: core.MessageID(msg), Target: target, By: by, Requeued: requeued})
	s.queue[target] = append(s.queue[target], pendingDPC{msg, by, s.t, requeued})
}

// step does what op says on vCPU cpu, time advancing by dt first.
func (s *sim) step(op, cpu, arg byte, dt int64) {
	s.t += dt
	c := int(cpu) % s.vcpus
	msg := int(arg) % 3
	switch op % 5 {
	case 0: // an interrupt: raise, ISR queueing DPCs
		s.tell(core.Event{Kind: core.EventRaised, Time: s.t - int64(arg), CPU: c, Vector: core.Vector(msg)})
		s.tell(core.Event{Kind: core.EventISRStart, Time: s.t, CPU: c, Message: core.MessageID(msg)})
		s.t++
		s.queueDPC(msg, c, c, false)
		s.queueDPC(msg, int(arg>>4)%s.vcpus, c, false)
		s.t += int64(arg & 7)
		s.tell(core.Event{Kind: core.EventISREnd, Time: s.t, CPU: c, Message: core.MessageID(msg), Result: core.ISRResult{Recognized: arg&1 == 0}})
	case 1, 2: // the vCPU runs its next DPC
		if len(s.queue[c]) == 0 {
			return
		}
		d := s.queue[c][0]
		s.queue[c] = s.queue[c][1:]
		s.queued[[2]int{d.msg, c}] = false
		s.started++
		s.tell(core.Event{Kind: core.EventDPCStart, Time: s.t, CPU: c, Message: core.MessageID(d.msg), By: d.by, Requeued: d.requeued, Queued: d.at})
		if arg&8 != 0 {
			s.t++
			s.queueDPC(d.msg, int(arg>>5)%s.vcpus, c, false)
		}
		s.t += int64(arg&15) + 1
		more := arg&3 == 0
		if !more {
			s.tell(core.Event{Kind: core.EventEnabled, Time: s.t - 1, CPU: c, Message: core.MessageID(d.msg)})
			s.tell(core.Event{Kind: core.EventBatchEnd, Time: s.t - 1, CPU: c, Message: core.MessageID(d.msg), Duration: int64(arg) * 97})
		}
		s.tell(core.Event{Kind: core.EventDPCEnd, Time: s.t, CPU: c, Message: core.MessageID(d.msg), Indicated: int(arg), More: more})
		if more && !s.queued[[2]int{d.msg, c}] {
			s.queueDPC(d.msg, c, c, true)
		}
	case 3: // a QueueDPC from an ordinary goroutine
		s.queueDPC(msg, c, -1, false)
	case 4:
		s.r.GeneratorWrote(s.t, int(arg)+1)
	}
}

// FuzzTraceIsWellFormed: whatever a run tells the recorder, in either mode, with room or
// without, the trace is well-formed and its counts add up.
func FuzzTraceIsWellFormed(f *testing.F) {
	f.Add([]byte{0, 0, 7, 1, 0, 9, 1, 1, 3, 3, 1, 0, 2, 1, 200, 4, 0, 5}, uint8(0), uint16(100))
	f.Add([]byte{0, 1, 255, 0, 0, 17, 2, 1, 0, 1, 0, 8, 2, 0, 4, 1, 1, 1}, uint8(1), uint16(3))
	f.Add([]byte{3, 0, 1, 1, 0, 2, 0, 0, 0, 2, 0, 0, 1, 0, 3}, uint8(2), uint16(1))
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, ops []byte, mode uint8, capacity uint16) {
	at := trace.At(mode % 2)
	window := time.Duration(100+int(mode)*7) * time.Microsecond
	r, err := trace.New(trace.Config{VCPUs: 3, At: at, Window: window, Capacity: int(capacity) + 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{r: r, vcpus: 3, queue: make([][]pendingDPC, 3), queued: map[[2]int]bool{}, t: 1000}
	r.Begin(1000 + int64(mode)*50)
	for i := 0; i+2 < len(ops); i += 3 {
		s.step(ops[i], ops[i+1], ops[i+2], int64(ops[i+2])*131)
	}
	// Run what is left queued, as a platform's drain does.
	for c := 0; c < 3; c++ {
		for len(s.queue[c]) > 0 {
			s.step(1, byte(c), 1, 1) // arg 1: no more pending, no fan-out
		}
	}
	sum := mustCheck(t, writeTrace(t, r))
	st := r.Stats()
	if st.Told != st.Kept+st.Overflow+st.Lost {
		t.Fatalf("told %d != kept %d + overflow %d + lost %d", st.Told, st.Kept, st.Overflow, st.Lost)
	}
	dpcs := sum.metaInt(t, "dpc_slices")
	if dpcs != sum.Slices["DPC"] || uint64(dpcs) > st.DPCs || st.DPCs > uint64(s.started) {
		t.Fatalf("%d DPC slices (metadata %d), %d started in the window, %d in all", sum.Slices["DPC"], dpcs, st.DPCs, s.started)
	}
	if st.Overflow == 0 && st.Lost == 0 && uint64(dpcs) != st.DPCs {
		t.Fatalf("nothing lost, yet %d DPC slices for %d DPC starts in the window", dpcs, st.DPCs)
	}
	if sum.metaInt(t, "unfinished_slices") != 0 {
		t.Fatalf("unfinished slices after a clean end")
	}
}
