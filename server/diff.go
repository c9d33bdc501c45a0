package server

import (
	"fmt"
	"strings"

	"github.com/docket-dev/docket/collab/ot"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// textDiff is the difference between two versions of a document.
type textDiff struct {
	op      ot.Op
	unified string
	added   int
	removed int
}

// diffContext is the number of unchanged lines shown around a change.
const diffContext = 3

type diffLine struct {
	kind byte // ' ', '+' or '-'
	text string
}

// diffTexts compares two texts line by line and returns a unified diff
// with the op that turns a into b.
func diffTexts(a, b, nameA, nameB string) textDiff {
	d := textDiff{op: ot.Diff(a, b)}
	if a == b {
		return d
	}
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	var all []diffLine
	for _, df := range diffs {
		kind := byte(' ')
		switch df.Type {
		case diffmatchpatch.DiffInsert:
			kind = '+'
		case diffmatchpatch.DiffDelete:
			kind = '-'
		}
		for _, line := range splitLines(df.Text) {
			all = append(all, diffLine{kind, line})
			if kind == '+' {
				d.added++
			} else if kind == '-' {
				d.removed++
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	// Walk the lines, emitting hunks around changes.
	lineA, lineB := 1, 1
	for i := 0; i < len(all); {
		if all[i].kind == ' ' {
			i++
			lineA++
			lineB++
			continue
		}
		start := max(i-diffContext, 0)
		// Extend the hunk while changes are within 2*context of each other.
		end, gap := i, 0
		for j := i; j < len(all) && gap <= 2*diffContext; j++ {
			if all[j].kind == ' ' {
				gap++
			} else {
				gap, end = 0, j
			}
		}
		stop := min(end+diffContext+1, len(all))
		hA, hB := lineA-(i-start), lineB-(i-start)
		var nA, nB int
		var body strings.Builder
		for _, l := range all[start:stop] {
			if l.kind != '+' {
				nA++
			}
			if l.kind != '-' {
				nB++
			}
			body.WriteByte(l.kind)
			body.WriteString(l.text)
			body.WriteByte('\n')
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n%s", hunkRange(hA, nA), hunkRange(hB, nB), body.String())
		for _, l := range all[i:stop] {
			if l.kind != '+' {
				lineA++
			}
			if l.kind != '-' {
				lineB++
			}
		}
		i = stop
	}
	d.unified = out.String()
	return d
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// splitLines splits text into lines without their newlines; a final
// newline does not make an empty last line.
func splitLines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	return strings.Split(text, "\n")
}
