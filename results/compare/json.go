package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteJSON writes r as indented JSON (schema SchemaName, version SchemaVersion;
// SCHEMA.md), followed by a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("compare: write report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadReport reads a report WriteJSON wrote. It refuses another schema, another major
// version and, for this minor version or older, unknown fields.
func ReadReport(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(rd, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("compare: read report: %w", err)
	}
	var probe struct{ Schema, Version string }
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("compare: read report: %w", err)
	}
	if probe.Schema != SchemaName {
		return nil, fmt.Errorf("compare: read report: schema %q, want %q", probe.Schema, SchemaName)
	}
	major, minor, ok := strings.Cut(probe.Version, ".")
	wantMajor, wantMinor, _ := strings.Cut(SchemaVersion, ".")
	mi, err1 := strconv.Atoi(minor)
	wmi, _ := strconv.Atoi(wantMinor)
	if !ok || major != wantMajor || err1 != nil {
		return nil, fmt.Errorf("compare: read report: version %q: this reader reads %s.x", probe.Version, wantMajor)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if mi <= wmi {
		dec.DisallowUnknownFields() // a newer minor version's additions are ignored
	}
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("compare: read report: %w", err)
	}
	return &r, nil
}
