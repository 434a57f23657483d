package trace

import (
	"strconv"

	"github.com/ndisbench/ndisbench/core"
)

// ixMsg writes the interrupt (when known) and the message an event is about.
func (tl *timeline) ixMsg(e *encoder, ix int, msg uint32) {
	if ix != 0 {
		e.raw(`"interrupt":`)
		e.int(int64(ix))
		e.raw(`,`)
	}
	e.raw(`"message":`)
	e.uint(uint64(msg))
}

func vcpuName(cpu int8) string {
	if cpu < 0 {
		return "outside any vCPU"
	}
	return "vCPU " + strconv.Itoa(int(cpu))
}

// sliceArgs writes the arguments of a slice: an ISR's, a DPC call's, or a queueing's.
func (tl *timeline) sliceArgs(e *encoder, it *item, ix int) {
	a, b := it.a, it.b
	tl.ixMsg(e, ix, a.msg)
	switch a.kind {
	case core.EventISRStart:
		e.raw(`,"vector":`)
		e.uint(uint64(a.n))
		if b.flags&flagRecognized != 0 {
			e.raw(`,"result":"recognized"`)
		} else {
			e.raw(`,"result":"not mine"`)
		}
		e.raw(`,"queue_default_dpc":`)
		e.bool(b.flags&flagDefaultDPC != 0)
		if b.x != 0 {
			e.raw(`,"target_cpus":`)
			e.str(core.CPUSet(b.x).String())
		}
	case core.EventDPCStart:
		e.raw(`,"indicated":`)
		e.uint(uint64(b.n))
		e.raw(`,"more_pending":`)
		e.bool(b.flags&flagMore != 0)
		e.raw(`,"throttle":`)
		if t := tl.r.cfg.Throttle; t <= 0 || t == core.IndicateAll {
			e.raw(`"indicate all"`)
		} else {
			e.int(int64(t))
		}
		requeued := a.flags&flagRequeued != 0
		e.raw(`,"requeued":`)
		e.bool(requeued)
		e.raw(`,"queued_by":`)
		e.str(vcpuName(a.by))
		if !requeued {
			e.raw(`,"queued_to_start_ns":`)
			e.int(a.t - a.x)
		}
	default: // a queueing outside any ISR or DPC
		e.raw(`,"target":`)
		e.str(vcpuName(a.cpu))
	}
}

// writeGenerator writes the generator's writes as a counter of packets per microsecond,
// back to 0 after each microsecond followed by one without writes.
func (tl *timeline) writeGenerator(e *encoder) {
	tid := tl.r.genTid()
	sample := func(t int64, n uint32) {
		tl.head(e, "packets written", "generator", 'C', t, tid)
		e.raw(`,"args":{"packets_per_us":`)
		e.uint(uint64(n))
		e.raw("}}")
		e.end()
	}
	for i, w := range tl.gen {
		if i == 0 && w.t > tl.origin {
			sample(tl.origin, 0)
		}
		sample(w.t, w.n)
		if i+1 == len(tl.gen) || tl.gen[i+1].t != w.t+binNs {
			sample(w.t+binNs, 0)
		}
	}
}

// writeMetadata writes the trace's "metadata" object: what the window is, and what of
// it the trace holds.
func (tl *timeline) writeMetadata(e *encoder) {
	r, st := tl.r, tl.st
	field := func(key string) {
		e.raw(",\n  \"")
		e.raw(key)
		e.raw(`":`)
	}
	e.raw("{\n  \"tool\":\"ndisbench\"")
	field("run")
	e.str(r.cfg.Name)
	field("at")
	e.str(r.cfg.At.String())
	field("window_ns")
	e.int(int64(r.cfg.Window))
	field("window_start_ns") // on the run's clock; ts 0 is here
	e.int(st.From)
	field("window_end_ns")
	e.int(st.To)
	field("measured_from_ns")
	e.int(r.from)
	field("capacity_per_vcpu")
	e.int(int64(r.cfg.Capacity))
	field("events_in_window")
	e.uint(st.Told)
	field("events_kept")
	e.uint(st.Kept)
	field("events_overflow")
	e.uint(st.Overflow)
	field("events_lost")
	e.uint(st.Lost)
	field("complete")
	e.bool(st.Overflow == 0 && st.Lost == 0 && st.GeneratorOverflow == 0)
	field("dpcs_started_in_window")
	e.uint(st.DPCs)
	field("dpc_slices")
	e.int(int64(tl.dpcs))
	field("isr_slices")
	e.int(int64(tl.isrs))
	field("batches")
	e.int(int64(tl.batches))
	field("flows")
	e.int(int64(tl.flows))
	field("unfinished_slices")
	e.int(int64(tl.unfinish))
	field("packets_written")
	e.uint(st.Packets)
	if r.cfg.At == AtWorst {
		field("worst_batch_ns")
		e.int(int64(st.WorstBatch))
		if st.WorstEnd != 0 {
			field("worst_batch_end_us")
			e.micros(st.WorstEnd - tl.origin)
		}
	}
	field("interrupts")
	e.raw("[")
	for i, ix := range tl.ixs {
		if i > 0 {
			e.raw(",")
		}
		e.raw(`{"number":`)
		e.int(int64(i + 1))
		e.raw(`,"type":`)
		e.str(ix.Type().String())
		e.raw(`,"messages":`)
		e.int(int64(ix.Messages()))
		e.raw("}")
	}
	e.raw("]\n}")
}
