package trace

import (
	"encoding/json"
	"io"
	"strconv"
)

// encoder writes JSON a piece at a time into a buffer it hands to w when full: the trace
// is streamed, never built whole in memory. The first error sticks.
type encoder struct {
	w   io.Writer
	buf []byte
	n   int64
	err error
}

const flushAt = 64 << 10

func newEncoder(w io.Writer) *encoder { return &encoder{w: w, buf: make([]byte, 0, flushAt+4096)} }

func (e *encoder) raw(s string) { e.buf = append(e.buf, s...) }

func (e *encoder) int(v int64) { e.buf = strconv.AppendInt(e.buf, v, 10) }

func (e *encoder) uint(v uint64) { e.buf = strconv.AppendUint(e.buf, v, 10) }

func (e *encoder) bool(v bool) { e.buf = strconv.AppendBool(e.buf, v) }

// str writes s as a JSON string.
func (e *encoder) str(s string) {
	b, _ := json.Marshal(s) // a string always marshals
	e.buf = append(e.buf, b...)
}

// micros writes ns nanoseconds as microseconds with three decimals: the format's unit,
// at the clock's precision, with no rounding through a float.
func (e *encoder) micros(ns int64) {
	if ns < 0 {
		e.buf = append(e.buf, '-')
		ns = -ns
	}
	e.buf = strconv.AppendInt(e.buf, ns/1000, 10)
	f := ns % 1000
	e.buf = append(e.buf, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// end finishes one event (or any piece): it flushes when the buffer is full.
func (e *encoder) end() {
	if len(e.buf) >= flushAt {
		e.flush()
	}
}

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		var n int
		n, e.err = e.w.Write(e.buf)
		e.n += int64(n)
	}
	e.buf = e.buf[:0]
}
