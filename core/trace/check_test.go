package trace_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// traceFile is a trace as the Trace Event Format's JSON Object Format has it.
type traceFile struct {
	TraceEvents     []map[string]any `json:"traceEvents"`
	DisplayTimeUnit string           `json:"displayTimeUnit"`
	Metadata        map[string]any   `json:"metadata"`
}

// summary is what checkTrace counted in a well-formed trace.
type summary struct {
	slices    map[string]int // X events by name
	instants  map[string]int // i events by name
	flows     int            // s/f pairs
	batches   int            // b/e pairs
	counters  int            // C events
	threads   map[int]string // tid → thread_name
	meta      map[string]any
	perThread map[int]map[string]int // tid → X events by name
}

// badTrace is checkTrace's failure, raised by fail and recovered by checkTrace.
type badTrace struct{ err error }

func fail(format string, args ...any) { panic(badTrace{fmt.Errorf(format, args...)}) }

// ns reads a JSON number in microseconds (json.Number) as integer nanoseconds, exactly:
// the writer promises nanosecond precision, three decimals at most.
func ns(v any, what string) int64 {
	n, ok := v.(json.Number)
	if !ok {
		fail("%s: %v (%T) is not a number", what, v, v)
	}
	s := n.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 3 || strings.ContainsAny(s, "eE") {
		fail("%s: %s has more than nanosecond precision", what, n)
	}
	frac += strings.Repeat("0", 3-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		fail("%s: %s is not a decimal number", what, n)
	}
	v64 := w*1000 + f
	if neg {
		v64 = -v64
	}
	return v64
}

func intOf(v any, what string) int {
	n, ok := v.(json.Number)
	if !ok {
		fail("%s: %v (%T) is not a number", what, v, v)
	}
	i, err := n.Int64()
	if err != nil {
		fail("%s: %v is not an integer", what, n)
	}
	return int(i)
}

// checkTrace parses data and checks it against the Trace Event Format: every event has
// name, ph (one of the phases the writer uses), ts, pid and tid, and a complete event a
// dur; per thread the complete events start in order and never partially overlap; every
// flow start has one end with its id, at or after it, and each lies in a slice of its
// thread; every async begin has one end; every thread an event names has a name.
func checkTrace(data []byte) (s summary, err error) {
	defer func() {
		if e := recover(); e != nil {
			b, ok := e.(badTrace)
			if !ok {
				panic(e)
			}
			err = b.err
		}
	}()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var tf traceFile
	if err := dec.Decode(&tf); err != nil {
		fail("the trace is not a JSON object of the Trace Event Format: %v", err)
	}
	if tf.DisplayTimeUnit != "ns" || tf.Metadata == nil || tf.TraceEvents == nil {
		fail("displayTimeUnit %q, metadata %v, traceEvents nil: %v", tf.DisplayTimeUnit, tf.Metadata, tf.TraceEvents == nil)
	}
	s = summary{slices: map[string]int{}, instants: map[string]int{}, threads: map[int]string{},
		meta: tf.Metadata, perThread: map[int]map[string]int{}}
	type span struct{ start, end int64 }
	slicesOf := map[int][]span{}
	type flowEnd struct {
		tid int
		ts  int64
	}
	flowS, flowF := map[int]flowEnd{}, map[int]flowEnd{}
	asyncB, asyncE := map[int]int64{}, map[int]int64{}
	used := map[int]bool{}
	process := false
	for i, ev := range tf.TraceEvents {
		what := fmt.Sprintf("event %d %v", i, ev)
		name, _ := ev["name"].(string)
		ph, _ := ev["ph"].(string)
		if name == "" || ph == "" || ev["ts"] == nil || ev["pid"] == nil || ev["tid"] == nil {
			fail("%s: lacks name, ph, ts, pid or tid", what)
		}
		ts := ns(ev["ts"], what+" ts")
		tid := intOf(ev["tid"], what+" tid")
		intOf(ev["pid"], what+" pid")
		if ph != "M" {
			used[tid] = true
			if c, _ := ev["cat"].(string); c == "" {
				fail("%s: no category", what)
			}
		}
		switch ph {
		case "M":
			args, _ := ev["args"].(map[string]any)
			switch name {
			case "process_name":
				process = args["name"] != nil
			case "thread_name":
				n, _ := args["name"].(string)
				if n == "" {
					fail("%s: a thread without a name", what)
				}
				s.threads[tid] = n
			case "thread_sort_index":
				intOf(args["sort_index"], what+" sort_index")
			default:
				fail("%s: unknown metadata event", what)
			}
		case "X":
			dur := ns(ev["dur"], what+" dur")
			if dur < 0 {
				fail("%s: negative duration", what)
			}
			if _, ok := ev["args"].(map[string]any); !ok {
				fail("%s: a slice without args", what)
			}
			sl := slicesOf[tid]
			if n := len(sl); n > 0 && ts < sl[n-1].start {
				fail("%s: starts at %d ns, before the thread's last slice (%d ns)", what, ts, sl[n-1].start)
			}
			slicesOf[tid] = append(sl, span{ts, ts + dur})
			s.slices[name]++
			if s.perThread[tid] == nil {
				s.perThread[tid] = map[string]int{}
			}
			s.perThread[tid][name]++
		case "i":
			if sc, _ := ev["s"].(string); sc != "t" && sc != "p" && sc != "g" {
				fail("%s: instant scope %q", what, ev["s"])
			}
			s.instants[name]++
		case "b", "e":
			id := intOf(ev["id"], what+" id")
			m := asyncB
			if ph == "e" {
				m = asyncE
			}
			if _, dup := m[id]; dup {
				fail("%s: a second %q with id %d", what, ph, id)
			}
			m[id] = ts
		case "s", "f":
			id := intOf(ev["id"], what+" id")
			m := flowS
			if ph == "f" {
				m = flowF
				if ev["bp"] != "e" {
					fail("%s: a flow end not bound to its enclosing slice", what)
				}
			}
			if _, dup := m[id]; dup {
				fail("%s: a second %q with id %d", what, ph, id)
			}
			m[id] = flowEnd{tid, ts}
		case "C":
			args, _ := ev["args"].(map[string]any)
			if len(args) == 0 {
				fail("%s: a counter without values", what)
			}
			for k, v := range args {
				intOf(v, what+" "+k)
			}
			s.counters++
		default:
			fail("%s: phase %q is not one the writer uses", what, ph)
		}
	}
	if !process {
		fail("no process_name")
	}
	for tid := range used {
		if s.threads[tid] == "" {
			fail("thread %d has events and no thread_name", tid)
		}
	}
	// Slices of a thread nest or are disjoint; they never partially overlap. parent
	// holds, per thread, the slice each one is nested in (-1: none).
	parent := map[int][]int{}
	for tid, sl := range slicesOf {
		sort.SliceStable(sl, func(i, j int) bool { return sl[i].start < sl[j].start })
		par := make([]int, len(sl))
		var stack []int
		for i, x := range sl {
			for len(stack) > 0 && sl[stack[len(stack)-1]].end <= x.start {
				stack = stack[:len(stack)-1]
			}
			par[i] = -1
			if n := len(stack); n > 0 {
				if top := sl[stack[n-1]]; x.end > top.end {
					fail("thread %d: slice [%d, %d] ns partially overlaps [%d, %d]", tid, x.start, x.end, top.start, top.end)
				}
				par[i] = stack[n-1]
			}
			stack = append(stack, i)
		}
		parent[tid] = par
	}
	// inSlice: the flow's end is in a slice of its thread (atStart: at its start). The
	// slices holding ts are the last one starting no later than it and those it is
	// nested in.
	inSlice := func(f flowEnd, atStart bool) bool {
		sl := slicesOf[f.tid]
		i := sort.Search(len(sl), func(i int) bool { return sl[i].start > f.ts }) - 1
		if atStart {
			return i >= 0 && sl[i].start == f.ts
		}
		for ; i >= 0; i = parent[f.tid][i] {
			if f.ts <= sl[i].end {
				return true
			}
		}
		return false
	}
	for id, st := range flowS {
		f, ok := flowF[id]
		if !ok || f.ts < st.ts {
			fail("flow %d: start %+v, end %+v (present %v): want one end, no earlier than the start", id, st, f, ok)
		}
		if !inSlice(st, false) || !inSlice(f, true) {
			fail("flow %d: start %+v not in a slice of its thread, or end %+v not at a slice's start", id, st, f)
		}
	}
	if len(flowF) != len(flowS) {
		fail("%d flow ends for %d flow starts", len(flowF), len(flowS))
	}
	for id, b := range asyncB {
		if e, ok := asyncE[id]; !ok || e < b {
			fail("async slice %d: begins at %d, ends at %d (present %v)", id, b, e, ok)
		}
	}
	if len(asyncE) != len(asyncB) {
		fail("%d async ends for %d begins", len(asyncE), len(asyncB))
	}
	s.flows, s.batches = len(flowS), len(asyncB)
	return s, nil
}

// mustCheck is checkTrace for a trace that must be well-formed.
func mustCheck(t *testing.T, data []byte) summary {
	t.Helper()
	s, err := checkTrace(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, head(data))
	}
	return s
}

// head returns the start of a trace, for a failure's message.
func head(data []byte) []byte {
	if len(data) > 4000 {
		return data[:4000]
	}
	return data
}

// metaInt returns an integer of the trace's metadata.
func (s summary) metaInt(t *testing.T, key string) int {
	t.Helper()
	n, ok := s.meta[key].(json.Number)
	i, err := n.Int64()
	if !ok || err != nil {
		t.Fatalf("metadata %s: %v is not an integer", key, s.meta[key])
	}
	return int(i)
}

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
	if _, err := checkTrace(wrap(good)); err != nil {
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
		{"a flow start outside any slice", wrap(x(1, "1.000", "2.000") + flow("s", 1, "9.000") + x(2, "10.000", "1.000") + flow("f", 2, "10.000"))},
		{"a flow end not at a slice's start", wrap(x(1, "1.000", "2.000") + flow("s", 1, "1.500") + x(2, "4.000", "1.000") + flow("f", 2, "4.500"))},
		{"an async begin without its end", wrap(`,{"name":"batch","cat":"batch","ph":"b","ts":1,"pid":1,"tid":1,"id":3}`)},
	} {
		if _, err := checkTrace(c.trace); err == nil {
			t.Errorf("%s: accepted", c.why)
		}
	}
}
