package trace

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ndisbench/ndisbench/core"
)

// Invariants (Recorder, track, chunk):
//   - A track is written by one thread at a time: track i+1 by vCPU i's (core.Observer
//     promises that a vCPU's events arrive on its thread, one at a time), track 0 by
//     whoever holds the platform's lock for the events outside any vCPU, the generator's
//     track by the generator's thread. Nothing else touches a track while the run goes
//     on; Stats and WriteTo read them after it, once the platform has stopped and the
//     generator has returned (their goroutines' ends happen before).
//   - from, begun, chunkLen and the chunks' buffers are set by New and Begin, before the
//     platform starts (starting the vCPUs' goroutines publishes them), and never change.
//   - The run from Begin's from on is cut into chunks of chunkLen: the whole window for
//     AtStart (one chunk, number 0, and nothing after it), a third of it for AtWorst. An
//     event goes into the chunk of its Time, except the end of an ISR or DPC, which goes
//     where its start went (open), or nowhere when its start was not kept: every slice
//     kept has both ends, and a slice belongs to the chunk it started in. A start is
//     kept only with room for its end too, which the chunk keeps for it (resv).
//   - best (AtWorst) is the longest batch so far and the chunk it ended in, in one word
//     that one CAS updates: (duration+1)<<chunkBits | chunk; 0: none yet. Any track
//     raises it (a CAS loop that gives up once the word is as large); a track loads it
//     when it takes a new chunk, to know which of its chunks it must keep.
//   - A track keeps a chunk while it may be part of the final window: the best chunk
//     and its two neighbours, its own three newest chunks (a batch told late may yet make
//     one of them the best, or the best's neighbour), and the chunk its open slice began
//     in: at most 7 of its 8. Another chunk is reused when a new one is needed, and what
//     it held is logged (evicted), so that a final window that would have included it
//     says how much it lost. Events of a chunk neither kept nor held are lost, and logged
//     so too.

// Config is what a Recorder records.
type Config struct {
	// VCPUs is the platform's number of vCPUs (PlatformConfig.VCPUs).
	VCPUs int
	// At and Window say where the window is and how long.
	At     At
	Window time.Duration
	// Capacity is how many events each vCPU's buffer (and the buffer of the events
	// outside any vCPU) holds in the window; more are counted (Stats.Overflow), not kept.
	// The generator's buffer holds a count per microsecond of the window, up to as many.
	Capacity int
	// Name names the run in the trace (its process); Throttle and Budget are the
	// platform's MaxNBLs (0: indicate all) and DPC watchdog budget, shown with each DPC
	// and batch.
	Name     string
	Throttle int
	Budget   time.Duration
}

// Recorder records a platform's events in a window (package doc). It is a core.Observer;
// install it with PlatformConfig.Observer, call Begin before the platform starts, and
// Stats or WriteTo once the platform has stopped.
type Recorder struct {
	cfg      Config
	from     int64 // Begin's: chunk 0 starts here
	begun    bool
	chunkLen int64
	tracks   []*track // [0]: outside any vCPU; [i+1]: vCPU i
	gen      *track   // the generator's writes
	cpus     []int    // real CPU of each vCPU, -1: unpinned (SetCPUs)
	genCPU   int

	_    [cacheLinePad]byte
	best atomic.Uint64 // AtWorst: see Invariants
	_    [cacheLinePad - unsafe.Sizeof(atomic.Uint64{})]byte
}

var _ core.Observer = (*Recorder)(nil)

const (
	cacheLinePad = 128
	worstChunks  = 8         // chunks a track has with AtWorst (Invariants: it keeps up to 7)
	binNs        = 1000      // the generator's writes are counted per microsecond
	chunkBits    = 28        // best's chunk number: runs of 2^28 chunks (2.6 h at a 100 µs window)
	maxDur       = 1<<36 - 2 // best's duration, ns: batches up to 68 s
	maxInterrupt = 255       // interrupts a track tells apart; more share the last number
	evictLog     = 32        // evictions a track remembers
	kindWrites   = 0x80      // a record of the generator's writes (not an EventKind)
	minWindow    = 100 * time.Microsecond
	chunkMask    = 1<<chunkBits - 1
	pageRecords  = 4096 / int(unsafe.Sizeof(record{}))
)

// record is one event, compacted: 32 bytes.
type record struct {
	t     int64  // Event.Time; for the generator, the microsecond its writes fell in
	x     int64  // BatchEnd: Duration; ISREnd: TargetCPUs; DPCStart: Queued
	n     uint32 // Raised, ISRStart: Vector; DPCEnd: Indicated; writes: packets
	msg   uint32 // Message
	kind  core.EventKind
	flags uint8
	ix    uint8 // the track's number of the interrupt (track.ixs), 0: none
	cpu   int8  // DPCQueued: Target
	by    int8  // DPCQueued, DPCStart: By
	_     [3]byte
}

// record.flags
const (
	flagRequeued   = 1 << iota // DPCQueued, DPCStart
	flagMore                   // DPCEnd: MorePending
	flagRecognized             // ISREnd
	flagDefaultDPC             // ISREnd: QueueDefaultDPC
)

// chunk is one stretch of the run's events on one track.
type chunk struct {
	idx  int64 // chunk number; -1: free
	n    int   // records in ev
	resv int   // 1: room is kept for the end of the slice that started here (track.open)
	ev   []record
	told uint64 // events told for it, kept or not
	over uint64 // of those, did not fit
	dpcs uint64 // DPC starts told for it, kept or not
}

// lostChunk is what a track lost of one chunk.
type lostChunk struct {
	idx          int64
	events, dpcs uint64
}

// track is one thread's events: a vCPU's, those outside any vCPU, or the generator's.
type track struct {
	trackFields
	_ [cacheLinePad - unsafe.Sizeof(trackFields{})%cacheLinePad]byte
}

type trackFields struct {
	cur    *chunk // the newest chunk; events in [lo, hi) go there at once
	lo, hi int64
	newest int64  // cur's number; -1: none yet
	open   *chunk // where the slice in progress started; nil: none kept
	lastIx *core.Interrupt
	lastID uint8
	nix    int
	ixs    *[maxInterrupt]*core.Interrupt
	chunks []chunk
	lost   []lostChunk // a ring of evictLog
	nlost  int
	// The longest batch this track was told of (AtWorst), and when it ended.
	worstD, worstT int64
}

// New returns a Recorder for cfg, its buffers made.
func New(cfg Config) (*Recorder, error) {
	var errs []error
	if cfg.VCPUs < 1 || cfg.VCPUs > core.MaxVCPUs {
		errs = append(errs, fmt.Errorf("VCPUs: must be 1..%d, got %d", core.MaxVCPUs, cfg.VCPUs))
	}
	if cfg.At != AtStart && cfg.At != AtWorst {
		errs = append(errs, fmt.Errorf("At: unknown %v", cfg.At))
	}
	if cfg.Window < minWindow {
		errs = append(errs, fmt.Errorf("Window: must be at least %v, got %v", minWindow, cfg.Window))
	}
	if cfg.Capacity < 1 {
		errs = append(errs, fmt.Errorf("Capacity: must be positive, got %d", cfg.Capacity))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	r := &Recorder{cfg: cfg, chunkLen: int64(cfg.Window), genCPU: -1}
	chunks, size := 1, cfg.Capacity
	if cfg.At == AtWorst {
		r.chunkLen = (int64(cfg.Window) + 2) / 3
		chunks, size = worstChunks, (cfg.Capacity+2)/3
	}
	for i := 0; i <= cfg.VCPUs; i++ {
		// The events outside any vCPU are rare (a QueueDPC or a re-enable from an ordinary
		// goroutine), and told under a lock: their buffer's pages come when first used.
		r.tracks = append(r.tracks, newTrack(chunks, size, i > 0))
	}
	r.gen = newTrack(chunks, int(min(r.chunkLen/binNs+2, int64(size))), true) // every microsecond of a chunk, at most
	return r, nil
}

// newTrack makes a track of chunks chunks of size records, their pages touched when
// prefault.
func newTrack(chunks, size int, prefault bool) *track {
	tr := &track{}
	tr.newest = -1
	tr.ixs = new([maxInterrupt]*core.Interrupt)
	tr.chunks = make([]chunk, chunks)
	for i := range tr.chunks {
		ev := make([]record, size)
		// Touch every page now, so that the run does not take a page fault every 128
		// records: the buffer is really there before the run starts.
		for j := 0; prefault && j < len(ev); j += pageRecords {
			ev[j].flags = 0 // a write faults the page in, whatever it writes
		}
		tr.chunks[i] = chunk{idx: -1, ev: ev}
	}
	tr.lost = make([]lostChunk, evictLog)
	return tr
}

// Config returns the recorder's configuration.
func (r *Recorder) Config() Config { return r.cfg }

// Begin starts the recording: the measured run starts at from (the run's clock), and
// nothing before it is kept. Call it once, before the platform and the generator start.
func (r *Recorder) Begin(from int64) { r.from, r.begun = from, true }

// SetCPUs says, for the trace's track names, which real CPU each vCPU ran on and the
// generator's (-1: unpinned). Call it after the run.
func (r *Recorder) SetCPUs(vcpus []int, generator int) {
	r.cpus, r.genCPU = append([]int(nil), vcpus...), generator
}

// Observe records e (core.Observer). It allocates nothing and takes no lock.
func (r *Recorder) Observe(e core.Event) {
	tr := r.tracks[e.CPU+1]
	if e.Kind == core.EventBatchEnd && r.cfg.At == AtWorst {
		r.noteBatch(tr, e.Time, e.Duration)
	}
	var c *chunk
	switch e.Kind {
	case core.EventISREnd, core.EventDPCEnd:
		if c, tr.open = tr.open, nil; c == nil {
			return // its start was not kept
		}
	default:
		if e.Time >= tr.lo && e.Time < tr.hi {
			c = tr.cur
		} else if c = r.chunkFor(tr, e.Time); c == nil {
			return
		}
	}
	c.told++
	switch e.Kind {
	case core.EventISREnd, core.EventDPCEnd:
		c.resv = 0 // its room was kept for it
	case core.EventDPCStart, core.EventISRStart:
		if e.Kind == core.EventDPCStart {
			c.dpcs++
		}
		if c.n+c.resv+2 > len(c.ev) { // room for it and its end
			c.over++
			return
		}
		c.resv = 1
	default:
		if c.n+c.resv == len(c.ev) {
			c.over++
			return
		}
	}
	rec := &c.ev[c.n]
	c.n++
	*rec = record{t: e.Time, kind: e.Kind, msg: uint32(e.Message), ix: tr.ixID(e.Interrupt)}
	switch e.Kind {
	case core.EventRaised:
		rec.n = uint32(e.Vector)
	case core.EventISRStart:
		rec.n = uint32(e.Vector)
		tr.open = c
	case core.EventISREnd:
		rec.x = int64(e.Result.TargetCPUs)
		if e.Result.Recognized {
			rec.flags |= flagRecognized
		}
		if e.Result.QueueDefaultDPC {
			rec.flags |= flagDefaultDPC
		}
	case core.EventDPCQueued:
		rec.cpu, rec.by = int8(e.Target), int8(e.By)
		if e.Requeued {
			rec.flags |= flagRequeued
		}
	case core.EventDPCStart:
		rec.by, rec.x = int8(e.By), e.Queued
		if e.Requeued {
			rec.flags |= flagRequeued
		}
		tr.open = c
	case core.EventDPCEnd:
		rec.n = uint32(min(e.Indicated, 1<<32-1))
		if e.More {
			rec.flags |= flagMore
		}
	case core.EventBatchEnd:
		rec.x = e.Duration
	}
}

// GeneratorWrote records that the generator wrote packets into the NIC at at (the run's
// clock). Call it from the generator's goroutine only; it allocates nothing.
func (r *Recorder) GeneratorWrote(at int64, packets int) {
	tr := r.gen
	var c *chunk
	if at >= tr.lo && at < tr.hi {
		c = tr.cur
	} else if c = r.chunkFor(tr, at); c == nil {
		return
	}
	bin := at - at%binNs
	if c.n > 0 && c.ev[c.n-1].t == bin {
		c.ev[c.n-1].n += uint32(packets)
		return
	}
	c.told++
	if c.n == len(c.ev) {
		c.over++
		return
	}
	c.ev[c.n] = record{t: bin, n: uint32(packets), kind: kindWrites}
	c.n++
}

// ixID returns the track's number of ix (0 for nil).
func (tr *track) ixID(ix *core.Interrupt) uint8 {
	if ix == nil {
		return 0
	}
	if ix == tr.lastIx {
		return tr.lastID
	}
	id := uint8(0)
	for i := 0; i < tr.nix; i++ {
		if tr.ixs[i] == ix {
			id = uint8(i + 1)
			break
		}
	}
	if id == 0 {
		if tr.nix == maxInterrupt {
			return maxInterrupt // more interrupts than a track tells apart: they share it
		}
		tr.ixs[tr.nix] = ix
		tr.nix++
		id = uint8(tr.nix)
	}
	tr.lastIx, tr.lastID = ix, id
	return id
}
