package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

type report struct {
	text  string
	score float64
}

type fileRow struct {
	file                                        string
	total, sampled, killed, equiv, survived, na int
}

func (r fileRow) score() float64 {
	if r.killed+r.survived == 0 {
		return 100
	}
	return 100 * float64(r.killed) / float64(r.killed+r.survived)
}

// buildReport tabulates the sample's results per file, then lists the
// survivors and the equivalent mutants with their justifications.
func buildReport(c *config, all, sample []*Mutant, results map[string]result, equiv map[string]string, took time.Duration) report {
	rows := map[string]*fileRow{}
	var files []string
	row := func(f string) *fileRow {
		if rows[f] == nil {
			rows[f] = &fileRow{file: f}
			files = append(files, f)
		}
		return rows[f]
	}
	for _, f := range c.files {
		row(f)
	}
	known := map[string]bool{}
	for _, m := range all {
		row(m.File).total++
		known[m.Key] = true
	}
	var survivors, equivalents, wrongEquiv []*Mutant
	for _, m := range sample {
		fr := row(m.File)
		fr.sampled++
		r, ok := results[m.Key]
		switch {
		case !ok:
			fr.na++
		case r.Status != Survived:
			fr.killed++
			if _, ok := equiv[m.Key]; ok {
				wrongEquiv = append(wrongEquiv, m)
			}
		case equiv[m.Key] != "":
			fr.equiv++
			equivalents = append(equivalents, m)
		default:
			fr.survived++
			survivors = append(survivors, m)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Mutation score\n\nseed %d, rate %g, operators %s; %s\n\n", c.seed, c.rate, opsList(c.ops), took.Round(time.Second))
	fmt.Fprintf(&b, "| file | mutants | sampled | killed | equivalent | survived | score |\n|---|--:|--:|--:|--:|--:|--:|\n")
	var tot fileRow
	for _, f := range files {
		r := rows[f]
		tot.total += r.total
		tot.sampled += r.sampled
		tot.killed += r.killed
		tot.equiv += r.equiv
		tot.survived += r.survived
		tot.na += r.na
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %.1f%% |\n", r.file, r.total, r.sampled, r.killed, r.equiv, r.survived, r.score())
	}
	fmt.Fprintf(&b, "| **all** | %d | %d | %d | %d | %d | **%.1f%%** |\n", tot.total, tot.sampled, tot.killed, tot.equiv, tot.survived, tot.score())
	if tot.na > 0 {
		fmt.Fprintf(&b, "\n%d sampled mutants have no result yet (run again to resume).\n", tot.na)
	}
	if len(survivors) > 0 {
		fmt.Fprintf(&b, "\n## Survivors (%d)\n\n", len(survivors))
		for _, m := range survivors {
			fmt.Fprintf(&b, "- %s `%s` %s: `%s`\n  key: `%s`\n", m.Pos(), m.Func, m.Op, m.Desc, m.Key)
		}
	}
	if len(equivalents) > 0 {
		fmt.Fprintf(&b, "\n## Equivalent mutants (%d)\n\n", len(equivalents))
		for _, m := range equivalents {
			fmt.Fprintf(&b, "- %s `%s` %s: `%s`: %s\n", m.Pos(), m.Func, m.Op, m.Desc, equiv[m.Key])
		}
	}
	if len(wrongEquiv) > 0 {
		fmt.Fprintf(&b, "\n## Listed as equivalent but killed (remove from %s)\n\n", c.equivFile)
		for _, m := range wrongEquiv {
			fmt.Fprintf(&b, "- %s: by %s\n  key: `%s`\n", m.Pos(), results[m.Key].By, m.Key)
		}
	}
	var stale []string
	for k := range equiv {
		if !known[k] && c.only == "" && fileSelected(c, k) {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		fmt.Fprintf(&b, "\n## Stale entries of %s (no such mutant any more)\n\n", c.equivFile)
		for _, k := range stale {
			fmt.Fprintf(&b, "- `%s`\n", k)
		}
	}
	return report{text: b.String(), score: tot.score()}
}

func fileSelected(c *config, key string) bool {
	file, _, _ := strings.Cut(key, "|")
	for _, f := range c.files {
		if f == file {
			return true
		}
	}
	return false
}

func opsList(ops map[string]bool) string {
	var out []string
	for _, o := range AllOps {
		if ops[o] {
			out = append(out, o)
		}
	}
	return strings.Join(out, ",")
}
