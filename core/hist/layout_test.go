package hist

import (
	"testing"
	"unsafe"
)

// TestWriterLayout: what the owner reads at every Tick and Record (active, end) is on a
// line of its own, away from what the collector writes (flushAt, free, out).
func TestWriterLayout(t *testing.T) {
	var w Writer
	if off := unsafe.Offsetof(w.spare); off != 128 {
		t.Errorf("the owner's hot fields take %d bytes before the rest, want a padded 128", off)
	}
	if unsafe.Offsetof(w.flushAt) < 128 || unsafe.Offsetof(w.end)+8 > 128 {
		t.Errorf("end at %d, flushAt at %d: want end in the first 128 bytes, the collector's fields after",
			unsafe.Offsetof(w.end), unsafe.Offsetof(w.flushAt))
	}
}
