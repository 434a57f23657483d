package nicmodel

import "github.com/ndisbench/ndisbench/core"

// A queue's receive buffers: the free list the generator takes posted buffers from and
// DPCs on any CPU give consumed ones back to (Invariants in nic.go: Buffers).

// runLen is the most buffers one slot of a free list holds.
const runLen = 13

// bufRun is a run of buffers returned together, the unit of a queue's free list: its
// slot (the ring's sequence number and the run) fills one 64-byte cache line, so a
// DPC's return of a batch costs a line and a publishing store per 13 buffers, where a
// slot per buffer cost a line per 4 and a store per buffer, on lines the generator
// keeps reading.
type bufRun struct {
	n    int32
	bufs [runLen]int32
}

// Return posts buffer buf back to queue q once the stack has consumed its packet. Any
// goroutine.
func (n *NIC) Return(q int, buf int32) {
	if !n.queues[q].free.Push(bufRun{n: 1, bufs: [runLen]int32{buf}}) {
		panic("nicmodel: buffer returned twice: the free list is full")
	}
}

// ReturnBatch posts back the buffers of nbls, once the stack has consumed them: the
// buffers of a run of NBLs from one queue go back in runs of up to 13 (bufRun), with one
// push (MPSC.PushBatch, one CAS) for up to 5 runs, where Return pays a slot and a CAS
// per buffer. Any goroutine.
func (n *NIC) ReturnBatch(nbls []core.NBL) {
	var runs [5]bufRun
	for len(nbls) > 0 {
		q, k := nbls[0].Queue, 0
		for k < len(nbls) && k < len(runs)*runLen && nbls[k].Queue == q {
			r := &runs[k/runLen]
			r.bufs[k%runLen] = nbls[k].Buf
			r.n = int32(k%runLen + 1)
			k++
		}
		free := n.queues[q].free
		for rs := runs[:(k+runLen-1)/runLen]; len(rs) > 0; {
			m := free.PushBatch(rs)
			if m == 0 {
				panic("nicmodel: buffer returned twice: the free list is full")
			}
			rs = rs[m:]
		}
		nbls = nbls[k:]
	}
}
