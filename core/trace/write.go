package trace

import (
	"io"
	"slices"
	"strconv"

	"github.com/ndisbench/ndisbench/core"
)

// The trace's layout (Chrome Trace Event Format, JSON Object Format): one process, the
// run; a thread (tid) per vCPU, one for the generator and one for the events outside
// any vCPU, each named by "M" events. ISRs and DPCs are complete ("X") slices on their
// vCPU's thread, which never overlap: a vCPU runs one handler at a time. Raises and
// re-enables are thread-scoped instants ("i"); each interrupt DPC batch is an async
// slice ("b"/"e", from its ISR's start to its end), as batches of different messages on
// one vCPU overlap; a flow ("s" in the slice that queued a DPC, "f" bound to that DPC's
// slice) joins each queueing to the DPC call it started. A queueing outside any ISR or
// DPC (QueueDPC from an ordinary goroutine) gets a slice of its own, 0 long, to start its
// arrow from. An arrow leaves its slice at the queueing's time, but 1 ns before the
// slice's end when the two are one clock reading (the framework stamps an ISR's
// queueings with its end, a requeue with its DPC's end), so that it lies inside the
// slice for every viewer. The generator's writes are a counter ("C") of packets per
// microsecond.
const pid = 1

// item is one thing to write, in track order.
type item struct {
	ph   byte    // 'X' (a slice), 'i', 'b' (a batch: "b" and "e"), 's', 'f', 'C'
	a, b *record // X: start and end (a queueing's own slice: both the queueing); others: the record
	tr   *track
	tid  int
	flow int   // s, f: the flow's number; 0: unmatched, not written
	end  int64 // s: the end of the slice it leaves
}

// flowKey names one queueing of one DPC object: the start it led to names it too.
type flowKey struct {
	ix         int
	msg        uint32
	target, by int8
	queuedAt   int64
}

// timeline is the window, laid out for writing.
type timeline struct {
	r        *Recorder
	st       Stats
	origin   int64
	items    []item
	ixg      map[*core.Interrupt]int
	ixs      []*core.Interrupt
	flows    int
	isrs     int
	dpcs     int
	batches  int
	unfinish int // slices whose end never came (the run did not stop cleanly)
	gen      []record
}

// tid returns the thread of track k of r.tracks: vCPU i is i+1, outside any vCPU comes
// after the generator.
func (r *Recorder) tid(k int) int {
	if k == 0 {
		return r.cfg.VCPUs + 2
	}
	return k
}

func (r *Recorder) genTid() int { return r.cfg.VCPUs + 1 }

// global returns the trace's number of the interrupt tr calls local (0: none).
func (tl *timeline) global(tr *track, local uint8) int {
	if local == 0 {
		return 0
	}
	ix := tr.ixs[local-1]
	n, ok := tl.ixg[ix]
	if !ok {
		tl.ixs = append(tl.ixs, ix)
		n = len(tl.ixs)
		tl.ixg[ix] = n
	}
	return n
}

// records returns tr's records in the window's chunks [lo, hi], in order.
func (tr *track) records(lo, hi int64) []*record {
	var cs []*chunk
	for i := range tr.chunks {
		if c := &tr.chunks[i]; c.idx >= lo && c.idx <= hi {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *chunk) int { return int(a.idx - b.idx) })
	var out []*record
	for _, c := range cs {
		for i := range c.ev[:c.n] {
			out = append(out, &c.ev[i])
		}
	}
	return out
}

// layout builds the timeline of r's window.
func (r *Recorder) layout() *timeline {
	tl := &timeline{r: r, st: r.Stats(), ixg: map[*core.Interrupt]int{}}
	tl.origin = tl.st.From
	lo, hi, ok := r.window()
	if !ok {
		return tl
	}
	queued := map[flowKey][]int{} // item numbers of the "s" items, oldest first
	var starts []int              // item numbers of the "f" items
	order := make([]int, 0, len(r.tracks))
	for k := 1; k < len(r.tracks); k++ {
		order = append(order, k)
	}
	order = append(order, 0)
	for _, k := range order {
		tr, tid := r.tracks[k], r.tid(k)
		var open *record
		var pending []*record // queueings inside the open slice
		last := -1            // the item number of the track's last slice
		flowOut := func(q *record, in *item) {
			key := flowKey{tl.global(tr, q.ix), q.msg, q.cpu, q.by, q.t}
			queued[key] = append(queued[key], len(tl.items))
			end := in.b.t
			if in.a.t < end && q.t >= end {
				end-- // see the layout above
			}
			tl.items = append(tl.items, item{ph: 's', a: q, tr: tr, tid: tid, end: end})
		}
		for _, rc := range tr.records(lo, hi) {
			switch rc.kind {
			case core.EventRaised, core.EventEnabled:
				tl.items = append(tl.items, item{ph: 'i', a: rc, tr: tr, tid: tid})
			case core.EventBatchEnd:
				tl.items = append(tl.items, item{ph: 'b', a: rc, tr: tr, tid: tid})
				tl.batches++
			case core.EventISRStart, core.EventDPCStart:
				open, pending = rc, pending[:0]
			case core.EventISREnd, core.EventDPCEnd:
				if open == nil {
					continue // cannot happen: an end is kept only with its start
				}
				last = len(tl.items)
				tl.items = append(tl.items, item{ph: 'X', a: open, b: rc, tr: tr, tid: tid})
				if open.kind == core.EventDPCStart {
					tl.dpcs++
					starts = append(starts, len(tl.items))
					tl.items = append(tl.items, item{ph: 'f', a: open, tr: tr, tid: tid})
				} else {
					tl.isrs++
				}
				for _, q := range pending {
					flowOut(q, &tl.items[last])
				}
				open, pending = nil, pending[:0]
			case core.EventDPCQueued:
				switch {
				case open != nil:
					pending = append(pending, rc)
				case last >= 0 && tl.items[last].b.t == rc.t: // a requeue, as its DPC returned
					flowOut(rc, &tl.items[last])
				default:
					tl.items = append(tl.items, item{ph: 'X', a: rc, b: rc, tr: tr, tid: tid})
					last = len(tl.items) - 1
					flowOut(rc, &tl.items[last])
				}
			}
		}
		if open != nil {
			tl.unfinish++
		}
	}
	for _, n := range starts {
		f := &tl.items[n]
		key := flowKey{tl.global(f.tr, f.a.ix), f.a.msg, int8(f.tid - 1), f.a.by, f.a.x}
		if q := queued[key]; len(q) > 0 {
			tl.flows++
			f.flow, tl.items[q[0]].flow = tl.flows, tl.flows
			queued[key] = q[1:]
		}
	}
	tl.gen = r.gen.genBins(lo, hi)
	return tl
}

// genBins returns the generator's writes in chunks [lo, hi] by microsecond, in order,
// one entry per microsecond.
func (tr *track) genBins(lo, hi int64) []record {
	var out []record
	for _, rc := range tr.records(lo, hi) {
		if n := len(out); n > 0 && out[n-1].t == rc.t {
			out[n-1].n += rc.n
			continue
		}
		out = append(out, *rc)
	}
	return out
}

// WriteTo writes the window as Chrome Trace Event JSON (package doc, and the layout
// above). Call it once the run is over: the platform stopped, the generator returned.
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	tl := r.layout()
	e := newEncoder(w)
	e.raw(`{"traceEvents":[`)
	tl.writeNames(e)
	for i := range tl.items {
		tl.writeItem(e, i)
	}
	tl.writeGenerator(e)
	e.raw("\n],\n" + `"displayTimeUnit":"ns",` + "\n" + `"metadata":`)
	tl.writeMetadata(e)
	e.raw("}\n")
	e.flush()
	return e.n, e.err
}

// head starts an event: its name, category, phase, time, pid and tid.
func (tl *timeline) head(e *encoder, name, cat string, ph byte, t int64, tid int) {
	e.raw(",\n{\"name\":\"")
	e.raw(name)
	e.raw(`","cat":"`)
	e.raw(cat)
	e.raw(`","ph":"`)
	e.buf = append(e.buf, ph)
	e.raw(`","ts":`)
	e.micros(t - tl.origin)
	e.raw(`,"pid":`)
	e.int(pid)
	e.raw(`,"tid":`)
	e.int(int64(tid))
}

func (tl *timeline) meta(e *encoder, name string, tid int, key string, value func()) {
	e.raw(",\n{\"name\":\"")
	e.raw(name)
	e.raw(`","ph":"M","ts":0,"pid":`)
	e.int(pid)
	e.raw(`,"tid":`)
	e.int(int64(tid))
	e.raw(`,"args":{"`)
	e.raw(key)
	e.raw(`":`)
	value()
	e.raw("}}")
}

// writeNames writes the process's and every thread's name and order. The first event
// opens the array, so it has no comma before it.
func (tl *timeline) writeNames(e *encoder) {
	r := tl.r
	name := "ndisbench"
	if r.cfg.Name != "" {
		name += " " + r.cfg.Name
	}
	e.raw("\n{\"name\":\"process_name\",\"ph\":\"M\",\"ts\":0,\"pid\":")
	e.int(pid)
	e.raw(`,"tid":`)
	e.int(int64(r.genTid()))
	e.raw(`,"args":{"name":`)
	e.str(name)
	e.raw("}}")
	thread := func(tid int, name string) {
		tl.meta(e, "thread_name", tid, "name", func() { e.str(name) })
		tl.meta(e, "thread_sort_index", tid, "sort_index", func() { e.int(int64(tid)) })
	}
	for i := 0; i < r.cfg.VCPUs; i++ {
		thread(r.tid(i+1), "vCPU "+strconv.Itoa(i)+cpuNote(r.cpus, i))
	}
	gen := "generator"
	if r.genCPU >= 0 {
		gen += " (CPU " + strconv.Itoa(r.genCPU) + ")"
	}
	thread(r.genTid(), gen)
	thread(r.tid(0), "outside any vCPU")
}

func cpuNote(cpus []int, i int) string {
	if i >= len(cpus) {
		return ""
	}
	if cpus[i] < 0 {
		return " (unpinned)"
	}
	return " (CPU " + strconv.Itoa(cpus[i]) + ")"
}

// writeItem writes item i; a batch's async id is i+1.
func (tl *timeline) writeItem(e *encoder, i int) {
	it := &tl.items[i]
	a := it.a
	ix := tl.global(it.tr, a.ix)
	switch it.ph {
	case 'X':
		switch a.kind {
		case core.EventISRStart:
			tl.head(e, "ISR", "isr", 'X', a.t, it.tid)
		case core.EventDPCStart:
			tl.head(e, "DPC", "dpc", 'X', a.t, it.tid)
		default:
			tl.head(e, "QueueDPC", "dpc", 'X', a.t, it.tid)
		}
		e.raw(`,"dur":`)
		e.micros(it.b.t - a.t)
		e.raw(`,"args":{`)
		tl.sliceArgs(e, it, ix)
		e.raw("}}")
	case 'i':
		name := "raised"
		if a.kind == core.EventEnabled {
			name = "enabled"
		}
		tl.head(e, name, "interrupt", 'i', a.t, it.tid)
		e.raw(`,"s":"t","args":{`)
		if a.kind == core.EventRaised {
			e.raw(`"vector":`)
			e.uint(uint64(a.n))
			if ix != 0 {
				e.raw(`,"interrupt":`)
				e.int(int64(ix))
			}
		} else {
			tl.ixMsg(e, ix, a.msg)
		}
		e.raw("}}")
	case 'b':
		start := max(a.t-a.x, tl.origin)
		tl.head(e, "batch", "batch", 'b', start, it.tid)
		e.raw(`,"id":`)
		e.int(int64(i + 1))
		e.raw(`,"args":{`)
		tl.ixMsg(e, ix, a.msg)
		e.raw(`,"duration_ns":`)
		e.int(a.x)
		e.raw(`,"over_budget":`)
		e.bool(tl.r.cfg.Budget > 0 && a.x > int64(tl.r.cfg.Budget))
		if a.t-a.x < tl.origin {
			e.raw(`,"started_before_window":true`)
		}
		e.raw("}}")
		tl.head(e, "batch", "batch", 'e', a.t, it.tid)
		e.raw(`,"id":`)
		e.int(int64(i + 1))
		e.raw("}")
	case 's', 'f':
		if it.flow == 0 {
			return
		}
		t := a.t
		if it.ph == 's' {
			t = min(t, it.end)
		}
		tl.head(e, "queued", "dpc", it.ph, t, it.tid)
		e.raw(`,"id":`)
		e.int(int64(it.flow))
		if it.ph == 'f' {
			e.raw(`,"bp":"e"`)
		}
		e.raw("}")
	}
	e.end()
}
