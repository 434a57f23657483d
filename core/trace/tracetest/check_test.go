package tracetest

import (
	"fmt"
	"testing"
)

// TestCheckTraceRefusesBadTraces: the checker the other tests rely on fails each way a
// trace can be malformed.
func TestCheckTraceRefusesBadTraces(t *testing.T) {
	const names = `{"name":"process_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"p"}},` +
		`{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"vCPU 0"}},` +
		`{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":2,"args":{"name":"vCPU 1"}}`
	wrap := func(events string) []byte {
		return []byte(`{"traceEvents":[` + names + events + `],"displayTimeUnit":"ns","metadata":{}}`)
	}
	x := func(tid int, ts, dur string) string {
		return fmt.Sprintf(`,{"name":"DPC","cat":"dpc","ph":"X","ts":%s,"dur":%s,"pid":1,"tid":%d,"args":{}}`, ts, dur, tid)
	}
	flow := func(ph string, tid int, ts string) string {
		bp := ""
		if ph == "f" {
			bp = `,"bp":"e"`
		}
		return fmt.Sprintf(`,{"name":"queued","cat":"dpc","ph":"%s","ts":%s,"pid":1,"tid":%d,"id":1%s}`, ph, ts, tid, bp)
	}
	good := x(1, "1.000", "2.000") + x(1, "3.000", "1.000") + flow("s", 1, "2.500") + x(2, "4.000", "1.000") + flow("f", 2, "4.000")
	if _, err := Check(wrap(good)); err != nil {
		t.Fatalf("a good trace refused: %v", err)
	}
	for _, c := range []struct {
		why   string
		trace []byte
	}{
		{"not JSON", []byte(`{"traceEvents":[`)},
		{"an unknown top-level key", []byte(`{"traceEvents":[],"displayTimeUnit":"ns","metadata":{},"x":1}`)},
		{"no displayTimeUnit", []byte(`{"traceEvents":[` + names + `],"metadata":{}}`)},
		{"no process name", []byte(`{"traceEvents":[],"displayTimeUnit":"ns","metadata":{}}`)},
		{"a slice without dur", wrap(`,{"name":"DPC","cat":"dpc","ph":"X","ts":1,"pid":1,"tid":1,"args":{}}`)},
		{"an event without tid", wrap(`,{"name":"raised","cat":"i","ph":"i","ts":1,"pid":1,"s":"t"}`)},
		{"an unknown phase", wrap(`,{"name":"raised","cat":"i","ph":"Q","ts":1,"pid":1,"tid":1}`)},
		{"a thread without a name", wrap(x(3, "1.000", "1.000"))},
		{"slices that partially overlap", wrap(x(1, "1.000", "2.000") + x(1, "2.000", "2.000"))},
		{"slices out of order", wrap(x(1, "5.000", "1.000") + x(1, "1.000", "1.000"))},
		{"a time finer than a nanosecond", wrap(x(1, "1.0001", "1.000"))},
		{"a flow start without its end", wrap(x(1, "1.000", "2.000") + flow("s", 1, "1.500"))},
		{"a flow ending before it starts", wrap(x(1, "1.000", "2.000") + flow("s", 1, "2.500") + x(2, "0.500", "1.000") + flow("f", 2, "0.500"))},
		{"a flow start at its slice's end", wrap(x(1, "1.000", "2.000") + flow("s", 1, "3.000") + x(2, "4.000", "1.000") + flow("f", 2, "4.000"))},
		{"a flow start outside any slice", wrap(x(1, "1.000", "2.000") + flow("s", 1, "9.000") + x(2, "10.000", "1.000") + flow("f", 2, "10.000"))},
		{"a flow end not at a slice's start", wrap(x(1, "1.000", "2.000") + flow("s", 1, "1.500") + x(2, "4.000", "1.000") + flow("f", 2, "4.500"))},
		{"an async begin without its end", wrap(`,{"name":"batch","cat":"batch","ph":"b","ts":1,"pid":1,"tid":1,"id":3}`)},
	} {
		if _, err := Check(c.trace); err == nil {
			t.Errorf("%s: accepted", c.why)
		}
	}
}

// FuzzCheck: whatever it is given, Check answers, never panics, and a trace it accepts
// it accepts again.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(`{"traceEvents":[],"displayTimeUnit":"ns","metadata":{}}`))
	f.Add([]byte(`{"traceEvents":[{"name":"process_name","ph":"M","ts":0,"pid":1,"tid":1,"args":{"name":"p"}}],"displayTimeUnit":"ns","metadata":{"a":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Check(data); err == nil {
			if _, err := Check(data); err != nil {
				t.Fatalf("accepted, then refused: %v", err)
			}
		}
	})
}
