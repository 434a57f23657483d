package main

import (
	"strings"
	"testing"

	"github.com/ndisbench/ndisbench/nicmodel/costs"
)

// bench costs lists every profile with every key and a source; -profile narrows it, and
// an unknown profile is bad usage.
func TestCostsListsProfilesWithSources(t *testing.T) {
	out, errs, code := runCLI("costs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, p := range costs.Profiles() {
		if !strings.Contains(out, p.Name+":") && !strings.Contains(out, p.Name+" (") {
			t.Errorf("profile %s not listed:\n%s", p.Name, out)
		}
		for _, v := range p.Values {
			if !strings.Contains(out, v.Source) {
				t.Errorf("%s: %s's source not listed", p.Name, v.Key)
			}
		}
	}
	out, _, code = runCLI("costs", "-profile", costs.Zero)
	if code != 0 || strings.Contains(out, costs.Default) {
		t.Errorf("-profile zero: exit %d, output:\n%s", code, out)
	}
	if _, errs, code := runCLI("costs", "-profile", "nope"); code != 2 || !strings.Contains(errs, "-profile") {
		t.Errorf("-profile nope: exit %d, stderr %q; want 2 naming the flag", code, errs)
	}
}
