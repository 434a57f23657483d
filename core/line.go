package core

import "errors"

// LineSource is one device's connection to the platform's interrupt line. The line is
// level-triggered: it is asserted while any source asserts it, and it is delivered again
// after its ISRs ran for as long as it stays asserted (R3: a sharer that is not served
// keeps the line up until its own ISR claims it).
type LineSource struct {
	p   *Platform
	bit uint64
}

// NewLineSource connects one more device to the line. At most 64 sources.
func (p *Platform) NewLineSource() (*LineSource, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line.sources >= 64 {
		return nil, errors.New("core: platform: the line has 64 sources already")
	}
	s := &LineSource{p: p, bit: 1 << uint(p.line.sources)}
	p.line.sources++
	return s, nil
}

// Assert raises the line on behalf of this device. Any goroutine; no allocation, no lock.
func (s *LineSource) Assert() {
	s.p.line.level.Or(s.bit)
	s.p.Raise(s.p.line.vector)
}

// Deassert drops this device's assertion, as reading its cause register does.
func (s *LineSource) Deassert() { s.p.line.level.And(^s.bit) }

// Asserted reports whether this device asserts the line.
func (s *LineSource) Asserted() bool { return s.p.line.level.Load()&s.bit != 0 }
