package main

import (
	"fmt"

	"github.com/ndisbench/ndisbench/nicmodel/harness"
)

// note prints a line about the run in progress (a retry, say) on its own line, above the
// progress bar, which the next update redraws.
func (p *progress) note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, "bench: %s\n", line)
}

// verdictLimits, when set, replaces harness.DefaultLimits in every run's verdict: tests
// set it to make runs invalid on purpose.
var verdictLimits *harness.Limits
