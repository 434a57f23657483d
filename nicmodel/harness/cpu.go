package harness

import (
	"github.com/ndisbench/ndisbench/core"
	"github.com/ndisbench/ndisbench/results"
)

// cpuMark is the vCPUs' CPU time at one instant of a run (core.Platform.CPUTimes),
// with what the NIC spent for them and the packets delivered by then.
type cpuMark struct {
	at         int64 // the run's clock
	times      []core.CPUTime
	causeReads uint64 // the NIC's, each one mmio_read spent on the line's vCPU
	indicated  uint64
}

func (r *rig) markCPU() cpuMark {
	return cpuMark{
		at: r.clock.Now(), times: r.p.CPUTimes(),
		causeReads: r.nic.Stats().CauseReads, indicated: r.p.Counter(core.CtrIndicated),
	}
}

// cpuUse is where the vCPUs' time went from the warm-up's end to end (the driver's
// halt, after the drain), and what each packet delivered in that span cost. nil when
// the run stopped in its warm-up. The busy figures come from clock readings taken
// around each piece of work, so a piece in progress at either mark is counted whole
// on the side it ended: a vCPU's busy time may pass the span by that much, and its
// idle time is then 0.
func (r *rig) cpuUse(end cpuMark) *results.CPU {
	start := r.cpuAtWarm
	if start.times == nil || end.at <= start.at {
		return nil
	}
	span := end.at - start.at
	use := &results.CPU{WindowNs: span, Delivered: end.indicated - start.indicated}
	mmio := (end.causeReads - start.causeReads) * uint64(r.sc.MMIORead)
	var isr, dpc uint64
	for i := range end.times {
		a, b := start.times[i], end.times[i]
		v := results.VCPUTime{
			ISRNs:      int64(b.ISRNs - a.ISRNs),
			DPCNs:      int64(b.DPCNs - a.DPCNs),
			InjectedNs: int64(b.InjectedNs - a.InjectedNs),
		}
		if i == r.p.LineCPU() {
			v.InjectedNs += int64(mmio)
		}
		v.IdleNs = max(0, span-v.ISRNs-v.DPCNs)
		v.Utilisation = float64(v.ISRNs+v.DPCNs) / float64(span)
		isr += uint64(v.ISRNs)
		dpc += uint64(v.DPCNs)
		use.VCPUs = append(use.VCPUs, v)
	}
	if use.Delivered > 0 {
		n := float64(use.Delivered)
		use.ISRNsPerPacket, use.DPCNsPerPacket = float64(isr)/n, float64(dpc)/n
		use.NsPerPacket = use.ISRNsPerPacket + use.DPCNsPerPacket
	}
	return use
}
