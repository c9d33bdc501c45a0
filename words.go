package docket

import (
	"fmt"
	"strings"
	"time"
)

// Plural is "1 approval" or "n approvals": n and the noun, with an s
// unless n is 1.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// article is "an" before a word that starts with a vowel, "a" otherwise.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// durationUnits are the units durations are written in, largest first.
var durationUnits = []struct {
	d    time.Duration
	name string
}{
	{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"},
}

// FormatDuration writes d in the largest unit that measures it exactly:
// "7 days", "36 hours", "90 seconds"; "0 seconds" for zero or less.
func FormatDuration(d time.Duration) string {
	for _, u := range durationUnits {
		if d >= u.d && d%u.d == 0 {
			return Plural(int(d/u.d), u.name)
		}
	}
	if d > 0 && d < time.Second {
		return "less than a second"
	}
	return Plural(int(d/time.Second), "second")
}

// FormatElapsed writes d rounded down in the unit FormatDuration uses for
// ref, or the largest smaller unit d reaches: a last call that started
// 2 days and 5 hours ago against a minimum of 7 days is "2 days".
func FormatElapsed(d, ref time.Duration) string {
	unit := time.Second
	for _, u := range durationUnits {
		if ref >= u.d && ref%u.d == 0 {
			unit = u.d
			break
		}
	}
	for _, u := range durationUnits {
		if u.d <= unit && d >= u.d {
			return Plural(int(d/u.d), u.name)
		}
	}
	return "less than a second"
}
