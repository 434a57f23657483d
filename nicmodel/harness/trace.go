package harness

import (
	"math"

	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/core/trace"
	"github.com/ndisbench/ndisbench/nicmodel/scenario"
)

// eventsPerPacket bounds the observer events one packet can cost: its own interrupt
// (raise, ISR start and end, a queueing, DPC start and end, re-enable, batch end) and a
// requeue for "more pending" (queueing, start, end). eventsPerNoise is a noise
// interrupt's.
const (
	eventsPerPacket = 11
	eventsPerNoise  = 8
	eventsSlack     = 4096
)

// NewTrace returns a timeline recorder for a run of sc, to pass as Options.Trace: its
// window is sc's trace_window at trace_at, and each vCPU's buffer holds what sc's
// traffic could make happen in the window at most (every packet its own interrupt), up
// to trace_events. name names the run in the trace. sc's defaults are filled in as Run
// fills them, so that the recorder has a track for each of the run's vCPUs.
func NewTrace(sc scenario.Scenario, name string) (*trace.Recorder, error) {
	sc = sc.WithDefaults()
	w := sc.TraceWindow.Seconds()
	rate := max(sc.Schedule.RatePPS, sc.Schedule.RampToPPS)
	bound := rate*w*eventsPerPacket + sc.NoiseRate*w*eventsPerNoise + eventsSlack
	events := sc.TraceEvents
	if bound < float64(events) {
		events = int(math.Ceil(bound))
	}
	throttle := sc.Throttle
	if throttle == 0 {
		throttle = core.IndicateAll
	}
	return trace.New(trace.Config{
		VCPUs: sc.VCPUs, At: sc.TraceAt, Window: sc.TraceWindow, Capacity: events,
		Name: name, Throttle: throttle, Budget: sc.Budget,
	})
}

// tee tells two observers of every event.
type tee struct{ a, b core.Observer }

func (t tee) Observe(e core.Event) {
	t.a.Observe(e)
	t.b.Observe(e)
}

// observer is the platform's observer for opts: Observer, Trace, both or none.
func observer(opts Options) core.Observer {
	switch {
	case opts.Trace == nil:
		return opts.Observer
	case opts.Observer == nil:
		return opts.Trace
	}
	return tee{opts.Observer, opts.Trace}
}

// traceCPUs tells the run's trace which real CPU each vCPU and the generator ran on.
func (r *rig) traceCPUs(t *trace.Recorder, rep *Report) {
	cpus := make([]int, r.p.VCPUs())
	list := r.p.Config().CPUs
	for i := range cpus {
		cpus[i] = -1
		if rep.Platform.Pinned && len(list) > 0 {
			cpus[i] = list[i%len(list)]
		}
	}
	t.SetCPUs(cpus, rep.GeneratorCPU)
}
