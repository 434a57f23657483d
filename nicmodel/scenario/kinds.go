package scenario

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ndisbench/ndisbench/affinity"
)

// kind is how values of one Go type are written: as text (flags, -set, help) and in
// files (JSON, which YAML becomes). Every field of the table is one of these kinds.
type kind[T any] struct {
	name     string // the value's type in help and errors: "integer", "duration", ...
	parse    func(string) (T, error)
	format   func(T) string
	fromJSON func(json.RawMessage) (T, error)
	toJSON   func(T) any // a value encoding/json writes as fromJSON reads it
	isZero   func(T) bool
	equal    func(a, b T) bool
}

// jsonKind reports the JSON type of raw, for errors: "string", "number", "bool", ...
func jsonKind(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '"':
		return "string"
	case s[0] == '{':
		return "object"
	case s[0] == '[':
		return "array"
	case s == "true" || s == "false":
		return "bool"
	case s == "null":
		return "null"
	default:
		return "number"
	}
}

// wantErr is the error for a JSON value of the wrong type.
func wantErr(want string, raw json.RawMessage) error {
	return fmt.Errorf("want %s, got %s", want, jsonKind(raw))
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage, want string) (string, error) {
	if jsonKind(raw) != "string" {
		return "", wantErr(want, raw)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// jsonNumber returns raw's text when it is a JSON number.
func jsonNumber(raw json.RawMessage, want string) (string, error) {
	if jsonKind(raw) != "number" {
		return "", wantErr(want, raw)
	}
	return strings.TrimSpace(string(raw)), nil
}

func eq[T comparable](a, b T) bool { return a == b }

var intKind = kind[int]{
	name: "integer",
	parse: func(s string) (int, error) {
		v, err := strconv.ParseInt(s, 10, 0)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", s)
		}
		return int(v), nil
	},
	format: strconv.Itoa,
	fromJSON: func(raw json.RawMessage) (int, error) {
		t, err := jsonNumber(raw, "an integer")
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseInt(t, 10, 0)
		if err != nil {
			return 0, fmt.Errorf("want an integer, got %s", t)
		}
		return int(v), nil
	},
	toJSON: func(v int) any { return v },
	isZero: func(v int) bool { return v == 0 },
	equal:  eq[int],
}

var uintKind = kind[uint64]{
	name: "unsigned integer",
	parse: func(s string) (uint64, error) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer 0..%d", s, uint64(math.MaxUint64))
		}
		return v, nil
	},
	format: func(v uint64) string { return strconv.FormatUint(v, 10) },
	fromJSON: func(raw json.RawMessage) (uint64, error) {
		t, err := jsonNumber(raw, "an integer")
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("want an integer 0..%d, got %s", uint64(math.MaxUint64), t)
		}
		return v, nil
	},
	toJSON: func(v uint64) any { return v },
	isZero: func(v uint64) bool { return v == 0 },
	equal:  eq[uint64],
}

// finite refuses NaN and infinities, which no field means and JSON cannot carry.
func finite(v float64, text string) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s is not a finite number", text)
	}
	return v, nil
}

var floatKind = kind[float64]{
	name: "number",
	parse: func(s string) (float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return finite(v, s)
	},
	format: func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
	fromJSON: func(raw json.RawMessage) (float64, error) {
		t, err := jsonNumber(raw, "a number")
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return 0, fmt.Errorf("want a finite number, got %s", t)
		}
		return finite(v, t)
	},
	toJSON: func(v float64) any { return v },
	isZero: func(v float64) bool { return v == 0 },
	equal:  eq[float64],
}

var boolKind = kind[bool]{
	name: "boolean",
	parse: func(s string) (bool, error) {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return false, fmt.Errorf("%q is not true or false", s)
		}
		return v, nil
	},
	format: strconv.FormatBool,
	fromJSON: func(raw json.RawMessage) (bool, error) {
		switch strings.TrimSpace(string(raw)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, wantErr("true or false", raw)
	},
	toJSON: func(v bool) any { return v },
	isZero: func(v bool) bool { return !v },
	equal:  eq[bool],
}

// formatDuration writes d as Go does, with "us" for "µs" so that files stay ASCII.
func formatDuration(d time.Duration) string {
	return strings.Replace(d.String(), "µs", "us", 1)
}

var durationKind = kind[time.Duration]{
	name: "duration",
	parse: func(s string) (time.Duration, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as \"2s\" or \"50us\"", s)
		}
		return d, nil
	},
	format: formatDuration,
	fromJSON: func(raw json.RawMessage) (time.Duration, error) {
		if strings.TrimSpace(string(raw)) == "0" {
			return 0, nil // a bare 0 is unambiguous; any other number is not (ns? s?)
		}
		s, err := jsonString(raw, "a duration string such as \"2s\" or \"50us\"")
		if err != nil {
			return 0, err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as \"2s\" or \"50us\"", s)
		}
		return d, nil
	},
	toJSON: func(d time.Duration) any { return formatDuration(d) },
	isZero: func(d time.Duration) bool { return d == 0 },
	equal:  eq[time.Duration],
}

var stringKind = kind[string]{
	name:   "string",
	parse:  func(s string) (string, error) { return s, nil },
	format: func(s string) string { return s },
	fromJSON: func(raw json.RawMessage) (string, error) {
		return jsonString(raw, "a string")
	},
	toJSON: func(s string) any { return s },
	isZero: func(s string) bool { return s == "" },
	equal:  eq[string],
}

// cpuListKind is a CPU list ("0-3,6"); "" is the empty list (every allowed CPU). In a
// file a single CPU may be a bare number, as YAML writes "cpus: 3".
func parseCPUList(s string) (affinity.CPUList, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	l, err := affinity.ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a CPU list such as \"0-3,6\"", s)
	}
	return l, nil
}

var cpuListKind = kind[affinity.CPUList]{
	name:   "CPU list",
	parse:  parseCPUList,
	format: func(l affinity.CPUList) string { return l.String() },
	fromJSON: func(raw json.RawMessage) (affinity.CPUList, error) {
		if jsonKind(raw) == "number" {
			var n uint16
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, fmt.Errorf("want a CPU list such as \"0-3,6\", got %s", raw)
			}
			return affinity.CPUList{int(n)}, nil
		}
		s, err := jsonString(raw, "a CPU list such as \"0-3,6\"")
		if err != nil {
			return nil, err
		}
		return parseCPUList(s)
	},
	toJSON: func(l affinity.CPUList) any { return l.String() },
	isZero: func(l affinity.CPUList) bool { return len(l) == 0 },
	equal: func(a, b affinity.CPUList) bool {
		return a.String() == b.String() && (a == nil) == (b == nil)
	},
}

// hexKind is a byte string written in hex ("6d5a56da..."); "" is none.
func parseHex(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("not a hex string (two hex digits per byte)")
	}
	return b, nil
}

var hexKind = kind[[]byte]{
	name:   "hex string",
	parse:  parseHex,
	format: func(b []byte) string { return hex.EncodeToString(b) },
	fromJSON: func(raw json.RawMessage) ([]byte, error) {
		s, err := jsonString(raw, "a hex string")
		if err != nil {
			return nil, err
		}
		return parseHex(s)
	},
	toJSON: func(b []byte) any { return hex.EncodeToString(b) },
	isZero: func(b []byte) bool { return len(b) == 0 },
	equal: func(a, b []byte) bool {
		return string(a) == string(b) && (a == nil) == (b == nil)
	},
}

// enumKind is a value written as one of a fixed set of names.
func enumKind[T comparable](names []string, parse func(string) (T, error), format func(T) string) kind[T] {
	want := "one of " + strings.Join(names, ", ")
	k := kind[T]{
		name: want,
		parse: func(s string) (T, error) {
			v, err := parse(s)
			if err != nil {
				var zero T
				return zero, fmt.Errorf("%q is not %s", s, want)
			}
			return v, nil
		},
		format: format,
		toJSON: func(v T) any { return format(v) },
		equal:  eq[T],
	}
	k.fromJSON = func(raw json.RawMessage) (T, error) {
		s, err := jsonString(raw, want)
		if err != nil {
			var zero T
			return zero, err
		}
		return k.parse(s)
	}
	var zero T
	k.isZero = func(v T) bool { return v == zero }
	return k
}

// nameKind is an enum over plain strings (the schedule kind, the flow distribution).
func nameKind(names ...string) kind[string] {
	return enumKind(names, func(s string) (string, error) {
		for _, n := range names {
			if n == s {
				return s, nil
			}
		}
		return "", errors.New("unknown")
	}, func(s string) string { return s })
}
