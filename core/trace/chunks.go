package trace

// The chunks of a track: which one an event goes into, which ones a track keeps
// (recorder.go's Invariants).

// noteBatch notes a batch of d ns that ended at t (AtWorst).
func (r *Recorder) noteBatch(tr *track, t, d int64) {
	if !r.begun || t < r.from {
		return
	}
	idx := (t - r.from) / r.chunkLen
	if idx > chunkMask {
		return // beyond the chunks best can name
	}
	d = max(0, d)
	if d >= tr.worstD {
		tr.worstD, tr.worstT = d, t
	}
	key := uint64(min(d, maxDur)+1)<<chunkBits | uint64(idx)
	for {
		old := r.best.Load()
		if key <= old || r.best.CompareAndSwap(old, key) {
			return
		}
	}
}

// bestChunk returns the chunk the longest batch so far ended in; ok false: none yet.
func (r *Recorder) bestChunk() (idx int64, d int64, ok bool) {
	b := r.best.Load()
	if b == 0 {
		return 0, 0, false
	}
	return int64(b & chunkMask), int64(b>>chunkBits) - 1, true
}

// chunkFor returns the chunk of tr an event at t goes into, taking one when needed; nil
// when the event is outside what the recorder keeps.
func (r *Recorder) chunkFor(tr *track, t int64) *chunk {
	if !r.begun || t < r.from {
		return nil
	}
	var idx int64
	if r.cfg.At == AtWorst {
		idx = (t - r.from) / r.chunkLen
	} else if t-r.from >= r.chunkLen {
		return nil // the window is over
	}
	for i := range tr.chunks {
		if c := &tr.chunks[i]; c.idx == idx {
			if idx > tr.newest {
				tr.setCur(r, c)
			}
			return c
		}
	}
	newest := max(tr.newest, idx)
	best, _, haveBest := r.bestChunk()
	keep := func(c *chunk) bool {
		return c == tr.open || (c.idx >= newest-2 && c.idx <= newest) ||
			(haveBest && c.idx >= best-1 && c.idx <= best+1)
	}
	var victim *chunk
	if idx >= newest-2 || (haveBest && idx >= best-1 && idx <= best+1) {
		for i := range tr.chunks {
			c := &tr.chunks[i]
			if c.idx < 0 {
				victim = c
				break
			}
			if !keep(c) && (victim == nil || c.idx < victim.idx) {
				victim = c
			}
		}
	}
	if victim == nil {
		tr.logLost(lostChunk{idx: idx, events: 1}) // too late for a chunk, or none free
		return nil
	}
	if victim.idx >= 0 && victim.told > 0 {
		tr.logLost(lostChunk{idx: victim.idx, events: victim.told, dpcs: victim.dpcs})
	}
	*victim = chunk{idx: idx, ev: victim.ev}
	if idx > tr.newest {
		tr.setCur(r, victim)
	}
	return victim
}

// setCur makes c, chunk number c.idx, the track's newest.
func (tr *track) setCur(r *Recorder, c *chunk) {
	tr.cur, tr.newest = c, c.idx
	tr.lo = r.from + c.idx*r.chunkLen
	tr.hi = tr.lo + r.chunkLen
}

// logLost notes what the track lost of a chunk, merging with the last note of the same
// chunk.
func (tr *track) logLost(l lostChunk) {
	if tr.nlost > 0 {
		if last := &tr.lost[(tr.nlost-1)%evictLog]; last.idx == l.idx {
			last.events += l.events
			last.dpcs += l.dpcs
			return
		}
	}
	tr.lost[tr.nlost%evictLog] = l
	tr.nlost++
}
