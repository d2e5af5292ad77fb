package integration

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "copy ../reference_test.go into reference_test.go again")

// referenceHeader is what reference_test.go has in front of the copied
// text; the copy's package clause is this package's.
const referenceHeader = `// This file is a copy of ../reference_test.go, the root package's
// reference model, taken verbatim except for this comment and the package
// clause. TestReferenceCopyInSync (reference_sync_test.go) compares the two
// files byte for byte, so the copy cannot drift: do not edit it here; change
// ../reference_test.go and run
//
//	go test -run TestReferenceCopyInSync -update
//
// in this directory to copy it again.

`

// TestReferenceCopyInSync: reference_test.go is, byte for byte, the root's
// reference_test.go with the header above and "package integration" in
// place of "package teamperm_test". A root package's test file cannot be
// imported, so the model is copied; this test keeps the copy honest.
func TestReferenceCopyInSync(t *testing.T) {
	orig, err := os.ReadFile("../reference_test.go")
	if err != nil {
		t.Fatal(err)
	}
	const rootClause, ourClause = "package teamperm_test\n", "package integration\n"
	if !bytes.HasPrefix(orig, []byte(rootClause)) {
		t.Fatalf("../reference_test.go does not start with %q: update this test", rootClause)
	}
	want := []byte(referenceHeader + ourClause + string(orig[len(rootClause):]))
	if *update {
		if err := os.WriteFile("reference_test.go", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("reference_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
		t.Fatalf("reference_test.go is not a copy of ../reference_test.go; run go test -run TestReferenceCopyInSync -update (-want +got):\n%s", diff)
	}
}
