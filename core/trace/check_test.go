package trace_test

import (
	"testing"

	"github.com/ndisbench/ndisbench/core/trace/tracetest"
)

// summary is what tracetest.Check found in a trace, with the test's helpers.
type summary struct{ tracetest.Summary }

func (s summary) metaInt(t *testing.T, key string) int {
	t.Helper()
	n, err := s.MetaInt(key)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mustCheck is tracetest.Check for a trace that must be well-formed.
func mustCheck(t *testing.T, data []byte) summary {
	t.Helper()
	s, err := tracetest.Check(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, head(data))
	}
	return summary{s}
}

// head returns the start of a trace, for a failure's message.
func head(data []byte) []byte {
	if len(data) > 4000 {
		return data[:4000]
	}
	return data
}
