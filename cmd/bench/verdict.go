package main

import "fmt"

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
