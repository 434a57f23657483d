// Package tracetest checks a timeline trace as package trace writes it: that it is
// well-formed Chrome Trace Event JSON (the JSON Object Format), and what it holds. Tests
// of the recorder, the harness and the CLI use it; it is not a general trace reader, and
// it refuses what the writer never writes (unknown top-level keys, unknown phases).
package tracetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// traceFile is a trace as the Trace Event Format's JSON Object Format has it.
type traceFile struct {
	TraceEvents     []map[string]any `json:"traceEvents"`
	DisplayTimeUnit string           `json:"displayTimeUnit"`
	Metadata        map[string]any   `json:"metadata"`
}

// Summary is what Check counted in a well-formed trace.
type Summary struct {
	Slices    map[string]int         // complete events ("X") by name
	Instants  map[string]int         // instants ("i") by name
	Flows     int                    // flows: "s" and "f" pairs
	Batches   int                    // async slices: "b" and "e" pairs
	Counters  int                    // counter samples ("C")
	Threads   map[int]string         // tid → its thread_name
	PerThread map[int]map[string]int // tid → complete events by name
	// Starts holds, by name, the first and the last start of complete events, in ns of
	// the trace's time.
	Starts   map[string][2]int64
	Metadata map[string]any // the top-level "metadata" object
}

// badTrace is Check's failure, raised by fail and recovered by Check.
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

// Check parses data and checks it against the Trace Event Format: every event has
// name, ph (one of the phases the writer uses), ts, pid and tid, and a complete event a
// dur; per thread the complete events start in order and never partially overlap; every
// flow start has one end with its id, at or after it, and each lies in a slice of its
// thread; every async begin has one end; every thread an event names has a name.
func Check(data []byte) (s Summary, err error) {
	var cur map[string]any // the event being checked, for the error
	defer func() {
		if e := recover(); e != nil {
			b, ok := e.(badTrace)
			if !ok {
				panic(e)
			}
			err = b.err
			if cur != nil {
				err = fmt.Errorf("%w\n  in %v", err, cur)
			}
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
	s = Summary{Slices: map[string]int{}, Instants: map[string]int{}, Threads: map[int]string{},
		Metadata: tf.Metadata, PerThread: map[int]map[string]int{}, Starts: map[string][2]int64{}}
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
		what := "event " + strconv.Itoa(i)
		cur = ev
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
				s.Threads[tid] = n
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
			if first, ok := s.Starts[name]; ok {
				s.Starts[name] = [2]int64{min(first[0], ts), max(first[1], ts)}
			} else {
				s.Starts[name] = [2]int64{ts, ts}
			}
			s.Slices[name]++
			if s.PerThread[tid] == nil {
				s.PerThread[tid] = map[string]int{}
			}
			s.PerThread[tid][name]++
		case "i":
			if sc, _ := ev["s"].(string); sc != "t" && sc != "p" && sc != "g" {
				fail("%s: instant scope %q", what, ev["s"])
			}
			s.Instants[name]++
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
			s.Counters++
		default:
			fail("%s: phase %q is not one the writer uses", what, ph)
		}
	}
	cur = nil
	if !process {
		fail("no process_name")
	}
	for tid := range used {
		if s.Threads[tid] == "" {
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
	// inSlice: the flow's end is in a slice of its thread (atStart: at its start): before
	// its end, unless it is 0 long, so that no viewer takes it for the next slice's. The
	// slices holding ts are the last one starting no later than it and those it is
	// nested in.
	inSlice := func(f flowEnd, atStart bool) bool {
		sl := slicesOf[f.tid]
		i := sort.Search(len(sl), func(i int) bool { return sl[i].start > f.ts }) - 1
		if atStart {
			return i >= 0 && sl[i].start == f.ts
		}
		for ; i >= 0; i = parent[f.tid][i] {
			if f.ts < sl[i].end || f.ts == sl[i].start {
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
	s.Flows, s.Batches = len(flowS), len(asyncB)
	return s, nil
}

// MetaInt returns the integer the trace's metadata holds at key.
func (s Summary) MetaInt(key string) (int, error) {
	n, ok := s.Metadata[key].(json.Number)
	i, err := n.Int64()
	if !ok || err != nil {
		return 0, fmt.Errorf("tracetest: metadata %s: %v is not an integer", key, s.Metadata[key])
	}
	return int(i), nil
}
