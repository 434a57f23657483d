package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ndisbench/ndisbench/results/metric"
)

// ParseError is an error reading a file, with the file's name and the line where the
// problem is when known. Err is the underlying error; errors.Is sees through to it.
type ParseError struct {
	File string // the file's name; "" when reading an unnamed stream
	Line int    // 1-based line number; 0 when the error is not tied to a line
	Err  error
}

var _ error = (*ParseError)(nil)

// Error returns "results: FILE:LINE: ERR", leaving out what is unknown.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("results: ")
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Read reads and validates a result.json document. It refuses documents of another schema
// (ErrSchema), of a major version other than 1 (ErrVersion, naming the version), with
// fields this version does not know (unless the document's minor version is newer than
// SchemaVersion's, whose additions it ignores), with trailing data, or that break the rules
// Validate checks (ErrInvalid, ErrName). Every error is a *ParseError.
//
// A 1.0 document's counters are translated to the current vocabulary (see upgradeCounters10);
// its Version stays "1.0", and the fields 1.0 did not have (Run.Platform, Rates.DropPct)
// stay zero.
func Read(r io.Reader) (*Result, error) { return read(r, "") }

// ReadFile reads and validates the result.json at path, as Read; errors name the file.
func ReadFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ParseError{File: path, Err: err}
	}
	defer f.Close()
	return read(f, path)
}

func read(r io.Reader, file string) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxResultSize+1))
	if err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	if len(data) > MaxResultSize {
		return nil, &ParseError{File: file, Err: fmt.Errorf("more than %d bytes: %w", MaxResultSize, ErrTooLarge)}
	}
	// First only the schema and version, leniently: a document of another major version
	// must be refused for its version, not for the fields it does not share with ours.
	var probe struct {
		Schema  *string `json:"schema"`
		Version *string `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(file, data, err, -1)
	}
	switch {
	case probe.Schema == nil:
		return nil, &ParseError{File: file, Err: fmt.Errorf("no \"schema\" field: %w", ErrSchema)}
	case *probe.Schema != SchemaName:
		return nil, &ParseError{File: file, Err: fmt.Errorf("schema %q, want %q: %w", *probe.Schema, SchemaName, ErrSchema)}
	case probe.Version == nil:
		return nil, &ParseError{File: file, Err: fmt.Errorf("no \"version\" field: %w", ErrVersion)}
	}
	minor, err := checkVersion(*probe.Version)
	if err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if minor <= schemaMinor {
		dec.DisallowUnknownFields()
	}
	var res Result
	if err := dec.Decode(&res); err != nil {
		return nil, jsonError(file, data, err, dec.InputOffset())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &ParseError{File: file, Line: lineAt(data, dec.InputOffset()),
			Err: fmt.Errorf("data after the result object: %w", ErrInvalid)}
	}
	for i := range res.Runs {
		res.Runs[i].Config = normalizeConfig(res.Runs[i].Config)
		if minor == 0 {
			upgradeCounters10(res.Runs[i].Counters)
		}
	}
	if err := res.validate(); err != nil {
		return nil, &ParseError{File: file, Err: err}
	}
	return &res, nil
}

// counterOffered10 is a 1.0 counter that 1.1 removed: an exact copy of measured_generated
// under a name that hid that it covers the measured window, not the whole run.
const counterOffered10 = "offered"

// upgradeCounters10 translates a 1.0 run's counters to 1.1's: "offered" becomes
// measured_generated when the run has no measured_generated, and is dropped otherwise.
func upgradeCounters10(counters map[string]uint64) {
	v, ok := counters[counterOffered10]
	if !ok {
		return
	}
	delete(counters, counterOffered10)
	if _, ok := counters[metric.MeasuredGenerated]; !ok {
		counters[metric.MeasuredGenerated] = v
	}
}

// normalizeConfig compacts a decoded config, and turns JSON null into nil, so that a
// result reads back equal to what was written.
func normalizeConfig(c json.RawMessage) json.RawMessage {
	if c == nil || string(c) == "null" {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, c); err != nil {
		return c // validate reports it
	}
	return b.Bytes()
}

// jsonError turns a decoding error into a *ParseError with the line it happened on: the
// error's own offset where it has one, else offset (when >= 0).
func jsonError(file string, data []byte, err error, offset int64) *ParseError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated JSON: %w", err)
	}
	pe := &ParseError{File: file, Err: err}
	if offset >= 0 {
		pe.Line = lineAt(data, offset)
	}
	return pe
}

// lineAt returns the 1-based line number of byte offset in data.
func lineAt(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	return 1 + bytes.Count(data[:offset], []byte{'\n'})
}
