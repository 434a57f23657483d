package core

import "errors"

// Invariants (the line):
//   - level has one bit per LineSource: set by Assert, cleared by Deassert, any goroutine.
//     drops counts Deasserts that cleared a set bit: the line's vCPU compares it before
//     and after a delivery's ISRs to tell an interrupt a device dropped unclaimed from
//     one nobody served.
//   - inService is the I/O APIC's remote IRR of a level-triggered line: a delivery is
//     in flight, from its raise to the end of its ISRs (the EOI). Assert raises the
//     line's vector only when it sets inService (a CAS), so an assertion made while the
//     ISRs run delivers nothing by itself; at the EOI the vCPU clears inService and then
//     loads level, delivering again when the line is still asserted. Assert sets level
//     and then tries the CAS, so one of the two sees the other: no assertion is left
//     undelivered, and none is delivered twice.

// LineSource is one device's connection to the platform's interrupt line. The line is
// level-triggered: it is asserted while any source asserts it, and it is delivered again
// after its ISRs ran for as long as it stays asserted (R3: a sharer that is not served
// keeps the line up until its own ISR claims it). As on an I/O APIC, the level is what
// counts, not the edges: a device that asserts while the line's ISRs run (before one of
// them reads its cause register and so drops the assertion) causes no second delivery.
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
	s.p.deliverLine()
}

// deliverLine delivers the line to its vCPU unless a delivery is in service (see
// Invariants).
func (p *Platform) deliverLine() {
	if p.line.inService.CompareAndSwap(false, true) {
		p.Raise(p.line.vector)
	}
}

// eoiLine ends a delivery of the line (the EOI after its ISRs) and delivers it again if a
// device still asserts it. The line's vCPU only.
func (p *Platform) eoiLine() {
	p.line.inService.Store(false)
	if p.line.level.Load() != 0 {
		p.deliverLine()
	}
}

// Deassert drops this device's assertion, as reading its cause register does.
func (s *LineSource) Deassert() {
	if s.p.line.level.And(^s.bit)&s.bit != 0 {
		s.p.line.drops.Add(1)
	}
}

// Asserted reports whether this device asserts the line.
func (s *LineSource) Asserted() bool { return s.p.line.level.Load()&s.bit != 0 }
