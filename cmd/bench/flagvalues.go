package main

import (
	"flag"
	"fmt"
	"time"
)

// plainErrors wraps every flag of fs so that a value the standard flag types refuse is
// explained in words ("x" is not an integer) rather than as the flag package's bare
// "parse error". Flags with their own messages (flag.Func) keep them.
func plainErrors(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, done := f.Value.(plainValue); !done {
			f.Value = plainValue{f.Value}
		}
	})
}

// plainValue is a flag.Value whose Set errors say what was wanted.
type plainValue struct{ flag.Value }

func (v plainValue) Set(s string) error {
	err := v.Value.Set(s)
	if err == nil {
		return nil
	}
	// The flag package's own types (IntVar, DurationVar, ...) fail with exactly these
	// two errors; other values (flag.Func) already say what they want.
	switch err.Error() {
	case "value out of range":
		return fmt.Errorf("%q is out of range", s)
	case "parse error":
	default:
		return err
	}
	switch v.Get().(type) {
	case bool:
		return fmt.Errorf("%q is not true or false", s)
	case int, int64:
		return fmt.Errorf("%q is not an integer", s)
	case uint, uint64:
		return fmt.Errorf("%q is not a non-negative integer", s)
	case float64:
		return fmt.Errorf("%q is not a number", s)
	case time.Duration:
		return fmt.Errorf("%q is not a duration such as \"2s\" or \"50us\"", s)
	}
	return err
}

// IsBoolFlag keeps boolean flags usable without a value (-json).
func (v plainValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get passes the wrapped value through, for flag.Getter.
func (v plainValue) Get() any {
	if g, ok := v.Value.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}
