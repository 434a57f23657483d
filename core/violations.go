package core

import "fmt"

// Violation is one breach of the NDIS contract that the framework saw a driver commit.
type Violation struct {
	Rule   string // the rule broken, as DESIGN.md numbers it: "R3", "R6", "R8", "R9"
	Detail string // what happened, in words
}

// String returns "RULE: DETAIL".
func (v Violation) String() string { return v.Rule + ": " + v.Detail }

// maxViolations is how many violations a platform describes; it counts them all
// (the violations counter).
const maxViolations = 64

// Violations returns the contract violations seen so far (the first 64 described; the
// violations counter has them all).
func (p *Platform) Violations() []Violation {
	p.viol.Lock()
	defer p.viol.Unlock()
	return append([]Violation(nil), p.viol.list...)
}

// violate records a contract violation of rule by ix's handlers, seen on vCPU v (nil:
// outside any vCPU). Off the hot path: it formats and locks.
func (p *Platform) violate(v *vcpu, ix *Interrupt, rule, format string, args ...any) {
	p.lockRec(v).inc(CtrViolations)
	p.unlockRec(v)
	if ix != nil {
		ix.violations.Add(1)
	}
	p.viol.Lock()
	if len(p.viol.list) < maxViolations {
		p.viol.list = append(p.viol.list, Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	p.viol.Unlock()
}

// lockRec returns the recorder of work done on v: v's own, or, when v is nil, the one of
// work done outside any vCPU, after locking p.external (what it records then counts in
// the interval of this call's time). Pair it with unlockRec(v).
func (p *Platform) lockRec(v *vcpu) *recorder {
	if v != nil {
		return v.rec
	}
	p.external.Lock()
	r := p.external.rec
	r.turn = r.w.Tick(p.clock.Now())
	return r
}

// unlockRec ends a lockRec.
func (p *Platform) unlockRec(v *vcpu) {
	if v == nil {
		p.external.Unlock()
	}
}
