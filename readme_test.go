package teamperm_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// snippet is one ```go block of a Markdown file.
type snippet struct {
	line  int      // the line of its opening fence, from 1
	lines []string // its lines, without the fence's indentation
}

var fenceRE = regexp.MustCompile("^([ \t]*)```(\\S*)[ \t]*$")

// goSnippets returns the ```go blocks of the Markdown text md.
func goSnippets(md string) []snippet {
	var out []snippet
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, lang := m[1], m[2]
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		if lang == "go" {
			s := snippet{line: i + 1}
			for _, l := range lines[i+1 : j] {
				s.lines = append(s.lines, strings.TrimPrefix(l, indent))
			}
			out = append(out, s)
		}
		i = j
	}
	return out
}

// dedent removes the leading tabs all non-blank lines share, and the
// trailing blanks of every line.
func dedent(lines []string) string {
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if common < 0 || n < common {
			common = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		out[i] = strings.TrimRight(l[common:], " \t")
	}
	return strings.Join(out, "\n")
}

// TestREADMESnippets is the drift test of the README: every ```go block
// of README.md must appear, line for line (up to a common indentation),
// in a Go file of this repository that the test suite compiles and runs:
// an Example of this module, of teamhttp or of store, a recipe of
// recipes/ that its tests run against SQLite and PostgreSQL, or a test of
// integration/. Edit the source and copy it
// into the README, never the other way round.
func TestREADMESnippets(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	snippets := goSnippets(string(md))
	if len(snippets) < 5 {
		t.Fatalf("README.md has %d ```go blocks; the extraction is broken", len(snippets))
	}
	// The sources: Go files whose code runs in the test suite.
	sources := map[string][]string{}
	for _, dir := range []string{".", "teamhttp", "recipes", "integration", "store"} {
		if _, err := os.Stat(dir); err != nil {
			// A module zip holds no nested module: not a checkout.
			t.Skipf("%s: %v: the README's sources are only in a checkout of the repository", dir, err)
		}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != dir {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".go") {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				sources[path] = strings.Split(string(b), "\n")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range snippets {
		want := dedent(s.lines)
		found := ""
	search:
		for path, lines := range sources {
			if path == "readme_test.go" {
				continue
			}
			for i := 0; i+len(s.lines) <= len(lines); i++ {
				if dedent(lines[i:i+len(s.lines)]) == want {
					found = path
					break search
				}
			}
		}
		if found == "" {
			t.Errorf("README.md:%d: this ```go block (%q...) is not, line for line, in any Go file the tests run: it drifted from its source, or was never compiled. Copy it from its Example or recipe again.", s.line, s.lines[0])
			continue
		}
		t.Logf("README.md:%d: %s", s.line, found)
	}
}

// TestGoSnippetsExtraction checks the extractor on a small document.
func TestGoSnippetsExtraction(t *testing.T) {
	md := "text\n```go\na := 1\n```\n- item\n\n  ```go\n  if a {\n  \tb()\n  }\n  ```\n```sh\nls\n```\n"
	got := goSnippets(md)
	if len(got) != 2 || got[0].line != 2 || dedent(got[0].lines) != "a := 1" || dedent(got[1].lines) != "if a {\n\tb()\n}" {
		t.Errorf("goSnippets = %+v", got)
	}
}
