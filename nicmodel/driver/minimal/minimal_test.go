package minimal_test

import (
	"os"
	"strings"
	"testing"
)

// TestExampleIsThisCode: the driver package's Example shows this package's miniport
// code, and the two must not drift apart: everything from the Miniport type to the end
// of minimal.go stands verbatim in ../example_test.go.
func TestExampleIsThisCode(t *testing.T) {
	const anchor = "// Miniport is the driver."
	src, err := os.ReadFile("minimal.go")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile("../example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(src), anchor)
	if i < 0 {
		t.Fatalf("minimal.go lost its anchor %q", anchor)
	}
	block := strings.TrimSpace(string(src[i:]))
	if !strings.Contains(string(ex), block) {
		t.Errorf("nicmodel/driver/example_test.go does not hold minimal.go's miniport (from %q on) verbatim: copy it over", anchor)
	}
}
