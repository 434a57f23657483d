package rings

import (
	"math"
	"slices"
	"testing"
)

// fuzzModel is the slice a ring is checked against, with the count of items pushed, which
// says where the ring's tail is in storage.
type fuzzModel struct {
	items  []int
	pushed uint64
	next   int // the next value to push
}

func (m *fuzzModel) values(n int) []int {
	vs := make([]int, n)
	for i := range vs {
		vs[i] = m.next + i
	}
	return vs
}

func (m *fuzzModel) push(vs []int) {
	m.items = append(m.items, vs...)
	m.pushed += uint64(len(vs))
	m.next += len(vs) + 1 // skip one, so a value pushed twice cannot look like the next
}

// panics reports whether f panics.
func panics(f func()) (did bool) {
	defer func() { did = recover() != nil }()
	f()
	return false
}

// FuzzSPSC drives an SPSC ring, alone, with an operation sequence decoded from bytes
// (each byte: operation in the low 3 bits, a count in the high 5) and checks every result
// exactly against a slice: with no concurrency, every batch moves all it can.
func FuzzSPSC(f *testing.F) {
	f.Add([]byte{0, 0, 1 | 3<<3, 3, 4 | 2<<3, 2 | 5<<3, 5 | 4<<3, 6 | 2<<3, 7}, uint8(2), uint64(0))
	f.Add([]byte{1 | 9<<3, 4 | 3<<3, 2 | 8<<3, 5 | 8<<3, 6 | 1<<3, 3, 3, 3}, uint8(3), uint64(math.MaxUint64-4))
	f.Add([]byte{0, 0, 0, 0, 0, 3, 0, 3, 0, 3, 0, 3}, uint8(1), uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, ops []byte, logCap uint8, start uint64) {
		capacity := 1 << (1 + logCap%6)
		mask := uint64(capacity - 1)
		r, err := newSPSCAt[int](capacity, start)
		if err != nil {
			t.Fatal(err)
		}
		var m fuzzModel
		for step, op := range ops {
			k := int(op >> 3) // 0..31
			free, held := capacity-len(m.items), len(m.items)
			tailRun := capacity - int((start+m.pushed)&mask)
			headRun := capacity - int((start+m.pushed-uint64(held))&mask)
			switch op & 7 {
			case 0: // Push
				vs := m.values(1)
				if ok := r.Push(vs[0]); ok != (free > 0) {
					t.Fatalf("step %d: Push = %v with %d of %d held", step, ok, held, capacity)
				} else if ok {
					m.push(vs)
				}
			case 1: // PushBatch of k
				vs := m.values(k)
				n := r.PushBatch(vs)
				if n != min(k, free) {
					t.Fatalf("step %d: PushBatch(%d) = %d with %d free", step, k, n, free)
				}
				m.push(vs[:n])
			case 2: // Reserve k, fill, Commit all but k%3 of them
				w := r.Reserve(k)
				if len(w) != min(k, free, tailRun) || cap(w) != len(w) {
					t.Fatalf("step %d: Reserve(%d) = len %d cap %d with %d free, %d to the end", step, k, len(w), cap(w), free, tailRun)
				}
				vs := m.values(len(w))
				copy(w, vs)
				n := max(0, len(w)-k%3)
				r.Commit(n)
				m.push(vs[:n])
			case 3: // Pop
				v, ok := r.Pop()
				if ok != (held > 0) || (ok && v != m.items[0]) {
					t.Fatalf("step %d: Pop = %d,%v; model %v", step, v, ok, m.items)
				}
				if ok {
					m.items = m.items[1:]
				}
			case 4: // PopBatch of k
				dst := make([]int, k)
				n := r.PopBatch(dst)
				if n != min(k, held) || !slices.Equal(dst[:n], m.items[:n]) {
					t.Fatalf("step %d: PopBatch(%d) = %v; model %v", step, k, dst[:n], m.items)
				}
				m.items = m.items[n:]
			case 5: // Peek k, Release all but k%3 of them
				p := r.Peek(k)
				if len(p) != min(k, held, headRun) || cap(p) != len(p) || !slices.Equal(p, m.items[:len(p)]) {
					t.Fatalf("step %d: Peek(%d) = %v with %d to the end; model %v", step, k, p, headRun, m.items)
				}
				n := max(0, len(p)-k%3)
				r.Release(n)
				m.items = m.items[n:]
			case 6: // Reserve k and abandon it for a Push, which must cancel it
				r.Reserve(k)
				vs := m.values(1)
				if ok := r.Push(vs[0]); ok != (free > 0) {
					t.Fatalf("step %d: Push after Reserve = %v with %d free", step, ok, free)
				} else if ok {
					m.push(vs)
				}
				if !panics(func() { r.Commit(1) }) {
					t.Fatalf("step %d: Commit after Push did not panic", step)
				}
			case 7: // Peek k and abandon it for a Pop, which must cancel it
				r.Peek(k)
				v, ok := r.Pop()
				if ok != (held > 0) || (ok && v != m.items[0]) {
					t.Fatalf("step %d: Pop after Peek = %d,%v; model %v", step, v, ok, m.items)
				}
				if ok {
					m.items = m.items[1:]
				}
				if !panics(func() { r.Release(1) }) {
					t.Fatalf("step %d: Release after Pop did not panic", step)
				}
			}
			if r.Len() != len(m.items) || r.Cap() != capacity {
				t.Fatalf("step %d: Len %d Cap %d; model %d of %d", step, r.Len(), r.Cap(), len(m.items), capacity)
			}
		}
		// Drain: everything left comes out in order.
		rest := make([]int, capacity)
		if n := r.PopBatch(rest); !slices.Equal(rest[:n], m.items) {
			t.Fatalf("drained %v; model %v", rest[:n], m.items)
		}
	})
}

// FuzzMPSC drives an MPSC ring, alone, with an operation sequence decoded from bytes
// (each byte: operation op%5, a count op/5) and checks every result exactly against a
// slice: with no concurrency, a PushBatch pushes all that fits.
func FuzzMPSC(f *testing.F) {
	enc := func(kind, count byte) byte { return kind + 5*count }
	f.Add([]byte{0, 0, 1, enc(2, 3), 0, 0, 0, 0, 0, 1, 1, enc(3, 2)}, uint8(2), uint64(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, enc(2, 9), 2}, uint8(3), uint64(math.MaxUint64-4))
	f.Add([]byte{enc(3, 5), 0, 1, 0, 1, 0, 1}, uint8(0), uint64(math.MaxUint64))
	f.Add([]byte{enc(4, 3), enc(4, 9), 1, enc(4, 2), enc(2, 4), enc(4, 40), 0, enc(4, 0)}, uint8(2), uint64(math.MaxUint64-6))
	f.Fuzz(func(t *testing.T, ops []byte, logCap uint8, start uint64) {
		capacity := 1 << (1 + logCap%6)
		q, err := newMPSCAt[int](capacity, start)
		if err != nil {
			t.Fatal(err)
		}
		var m fuzzModel
		for step, op := range ops {
			k := int(op / 5) // 0..51
			free, held := capacity-len(m.items), len(m.items)
			switch op % 5 {
			case 0: // Push
				vs := m.values(1)
				if ok := q.Push(vs[0]); ok != (free > 0) {
					t.Fatalf("step %d: Push = %v with %d of %d held", step, ok, held, capacity)
				} else if ok {
					m.push(vs)
				}
			case 1: // Pop
				v, ok := q.Pop()
				if ok != (held > 0) || (ok && v != m.items[0]) {
					t.Fatalf("step %d: Pop = %d,%v; model %v", step, v, ok, m.items)
				}
				if ok {
					m.items = m.items[1:]
				}
			case 2: // PopBatch of k
				dst := make([]int, k)
				n := q.PopBatch(dst)
				if n != min(k, held) || !slices.Equal(dst[:n], m.items[:n]) {
					t.Fatalf("step %d: PopBatch(%d) = %v; model %v", step, k, dst[:n], m.items)
				}
				m.items = m.items[n:]
			case 3: // Push k, stopping at the first refusal
				for i := 0; i < k; i++ {
					vs := m.values(1)
					ok := q.Push(vs[0])
					if ok != (len(m.items) < capacity) {
						t.Fatalf("step %d: Push %d of %d = %v with %d held", step, i, k, ok, len(m.items))
					}
					if !ok {
						break
					}
					m.push(vs)
				}
			case 4: // PushBatch of k
				vs := m.values(k)
				n := q.PushBatch(vs)
				if n != min(k, free) {
					t.Fatalf("step %d: PushBatch(%d) = %d with %d free", step, k, n, free)
				}
				m.push(vs[:n])
			}
			if q.Len() != len(m.items) || q.Cap() != capacity {
				t.Fatalf("step %d: Len %d Cap %d; model %d of %d", step, q.Len(), q.Cap(), len(m.items), capacity)
			}
		}
		rest := make([]int, capacity)
		if n := q.PopBatch(rest); !slices.Equal(rest[:n], m.items) {
			t.Fatalf("drained %v; model %v", rest[:n], m.items)
		}
	})
}
