package costs

import (
	"slices"
	"strings"
	"testing"
)

// Every profile gives every key exactly once, in Keys order, with a source.
func TestProfilesComplete(t *testing.T) {
	for _, p := range Profiles() {
		var keys []string
		for _, v := range p.Values {
			keys = append(keys, v.Key)
			if strings.TrimSpace(v.Source) == "" {
				t.Errorf("%s: %s has no source", p.Name, v.Key)
			}
			if v.Cost < 0 {
				t.Errorf("%s: %s is negative: %v", p.Name, v.Key, v.Cost)
			}
			if strings.Contains(v.Source, "http") {
				t.Errorf("%s: %s cites a URL; cite by title, author and year", p.Name, v.Key)
			}
		}
		if !slices.Equal(keys, Keys()) {
			t.Errorf("%s: keys %v, want %v", p.Name, keys, Keys())
		}
	}
}

func TestZeroIsZero(t *testing.T) {
	p, err := Lookup(Zero)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if p.Cost(k) != 0 {
			t.Errorf("zero: %s = %v", k, p.Cost(k))
		}
	}
}

func TestDefaultProfile(t *testing.T) {
	p, err := Lookup(Default)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost(MMIORead) == 0 || p.Cost(PerPacket) == 0 || p.Cost(IPIWake) == 0 {
		t.Errorf("%s: the main costs are zero: %+v", Default, p.Values)
	}
	if p.Weak == "" {
		t.Errorf("%s: says nothing of its weak sources", Default)
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), Default) {
		t.Errorf("Lookup(nope) = %v, want an error naming the profiles", err)
	}
	// Profiles hands out copies.
	Profiles()[1].Values[0].Cost = 0
	if q, _ := Lookup(Default); q.Cost(MMIORead) == 0 {
		t.Error("Profiles shares its table")
	}
}
