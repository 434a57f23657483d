package trace

import "time"

// Stats is what a Recorder kept of its window. Read it after the run.
type Stats struct {
	At   At
	From int64 // the window, on the run's clock: [From, To); From == To when there is none
	To   int64
	// WorstBatch (AtWorst) is the longest interrupt DPC batch of the measured run, which
	// the window is around, and WorstEnd when it ended (0 when the track that saw it is
	// not known); both 0 with no batch.
	WorstBatch time.Duration
	WorstEnd   int64
	Told       uint64 // events of the vCPUs and outside any vCPU in the window
	Kept       uint64 // of those, in the trace
	Overflow   uint64 // of those, did not fit in their buffer (Config.Capacity)
	Lost       uint64 // of those, AtWorst: in a chunk a track had given up before the window was known
	DPCs       uint64 // DPC calls that started in the window, kept or not
	Packets    uint64 // packets the generator wrote in the window
	// GeneratorOverflow counts microseconds of the generator's writes that did not fit
	// (none do unless the window has more microseconds than Config.Capacity).
	GeneratorOverflow uint64
}

// window returns the chunk numbers [lo, hi] of the final window; ok false: none.
func (r *Recorder) window() (lo, hi int64, ok bool) {
	if !r.begun {
		return 0, 0, false
	}
	if r.cfg.At == AtStart {
		return 0, 0, true
	}
	b, _, ok := r.bestChunk()
	if !ok {
		return 0, 0, false
	}
	return max(0, b-1), b + 1, true
}

// Stats returns what the recorder kept of its window. Call it after the run.
func (r *Recorder) Stats() Stats {
	st := Stats{At: r.cfg.At, From: r.from, To: r.from}
	lo, hi, ok := r.window()
	if !ok {
		return st
	}
	st.From, st.To = r.from+lo*r.chunkLen, r.from+(hi+1)*r.chunkLen
	in := func(idx int64) bool { return idx >= lo && idx <= hi }
	for _, tr := range r.tracks {
		for i := range tr.chunks {
			if c := &tr.chunks[i]; c.idx >= 0 && in(c.idx) {
				st.Told += c.told
				st.Kept += uint64(c.n)
				st.Overflow += c.over
				st.DPCs += c.dpcs
			}
		}
		for i := 0; i < min(tr.nlost, evictLog); i++ {
			if l := tr.lost[i]; in(l.idx) {
				st.Told += l.events
				st.Lost += l.events
				st.DPCs += l.dpcs
			}
		}
	}
	for i := range r.gen.chunks {
		if c := &r.gen.chunks[i]; c.idx >= 0 && in(c.idx) {
			for _, w := range c.ev[:c.n] {
				st.Packets += uint64(w.n)
			}
			st.GeneratorOverflow += c.over
		}
	}
	if b, d, ok := r.bestChunk(); ok && r.cfg.At == AtWorst {
		st.WorstBatch = time.Duration(d)
		for _, tr := range r.tracks {
			if tr.worstD == d && (tr.worstT-r.from)/r.chunkLen == b {
				st.WorstEnd = tr.worstT
			}
		}
	}
	return st
}
