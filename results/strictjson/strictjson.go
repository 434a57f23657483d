// Package strictjson reads a JSON object the way ndisbench's strict input files want
// it read: its members in the order written, a key given twice refused, nothing after
// the object, and errors in words a user can act on. Scenario files and thresholds
// files (YAML converted to JSON first, or JSON) both go through it.
//
// It is a leaf: it imports nothing of ndisbench's, so every layer can use it. It says
// nothing of what the keys mean; its callers check them.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Member is one member of an object: its key, and its value as written.
type Member struct {
	Key   string
	Value json.RawMessage
}

// ErrNotObject is what Object's error is (errors.Is) when the document is valid JSON
// but not an object; the message says what it is instead.
var ErrNotObject = errors.New("not a JSON object")

// notObject is Object's error for a document that is not an object.
type notObject struct{ kind string }

func (e notObject) Error() string        { return "want an object of keys, got " + e.kind }
func (e notObject) Is(target error) bool { return target == ErrNotObject }

// Object returns the members of the JSON object data, in order. A key that appears
// twice, anything after the object, and a document that is not an object are errors,
// and so is data that is not JSON (Error's words).
func Object(data []byte) ([]Member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, Error(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, notObject{kind(tok)}
	}
	var ms []Member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, Error(err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, Error(err)
		}
		ms = append(ms, Member{key, raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, Error(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return ms, nil
}

// Error words a decoding error for a user: where the syntax broke, or that the data
// ended too soon; other errors are returned as they are.
func Error(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("not valid JSON: it ends too soon")
	}
	return err
}

// kind names what a JSON token is, for a message.
func kind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim: // '[': a document cannot start with a closing one
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}
