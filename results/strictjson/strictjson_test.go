package strictjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/results/strictjson"
)

func TestObject(t *testing.T) {
	for _, tt := range []struct {
		in   string
		keys string // the members' keys in order; "" with an error
		err  string // in the error; "" for none
	}{
		{`{"b": 1, "a": {"x": [1, 2]}, "c": "s"}`, "b a c", ""}, // order kept, values as written
		{`{}`, "", ""},
		{`{"a": 1, "a": 2}`, "", `key "a" appears twice`},
		{`{"a": 1} {"b": 2}`, "", "data after the JSON object"},
		{`[1, 2]`, "", "want an object of keys, got an array"},
		{`"s"`, "", "got a string"},
		{`{"a": 1`, "", "ends too soon"},
		{`{"a" 1}`, "", "not valid JSON at byte"},
		{``, "", "ends too soon"},
	} {
		ms, err := strictjson.Object([]byte(tt.in))
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.Key)
		}
		if tt.err == "" && (err != nil || strings.Join(keys, " ") != tt.keys) {
			t.Errorf("%s: keys %q, %v; want %q", tt.in, keys, err, tt.keys)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want one saying %q", tt.in, err, tt.err)
		}
	}
	if _, err := strictjson.Object([]byte(`[]`)); !errors.Is(err, strictjson.ErrNotObject) {
		t.Errorf("an array: %v is not ErrNotObject", err)
	}
}

// FuzzObject: an object Object reads has unique keys; written back as an object of
// the same members it reads back to the same members; and encoding/json agrees it is
// an object of that many distinct keys.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,null]}`, `{}`, `{"a":1,"a":2}`, `[1]`, `{"x":{"y":"z"}} `, `{"a"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := strictjson.Object(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error with no words")
			}
			return
		}
		seen := map[string]bool{}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, m := range ms {
			if seen[m.Key] {
				t.Fatalf("key %q twice", m.Key)
			}
			seen[m.Key] = true
			k, _ := json.Marshal(m.Key)
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(m.Value)
		}
		b.WriteByte('}')
		again, err := strictjson.Object(b.Bytes())
		if err != nil || len(again) != len(ms) {
			t.Fatalf("written back, %s reads as %d members, %v; want %d", b.Bytes(), len(again), err, len(ms))
		}
		for i := range ms {
			if again[i].Key != ms[i].Key || !bytes.Equal(again[i].Value, ms[i].Value) {
				t.Fatalf("member %d: %q=%s, read back %q=%s", i, ms[i].Key, ms[i].Value, again[i].Key, again[i].Value)
			}
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil || len(m) != len(ms) {
			t.Fatalf("encoding/json: %d keys, %v; Object %d", len(m), err, len(ms))
		}
	})
}
