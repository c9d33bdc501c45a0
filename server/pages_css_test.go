package server_test

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var cssVarRE = regexp.MustCompile(`(--[a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;`)

// themeColours reads the colour variables of the light theme (the first
// :root block of app.css) and of the dark one (the :root block in the
// prefers-color-scheme: dark media query).
func themeColours(t *testing.T) (light, dark map[string]string) {
	t.Helper()
	data, err := os.ReadFile("../frontend/src/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(data)
	block := func(from int) map[string]string {
		start := strings.Index(css[from:], ":root {")
		if start < 0 {
			t.Fatal("no :root block")
		}
		start += from
		end := strings.Index(css[start:], "}")
		vars := map[string]string{}
		for _, m := range cssVarRE.FindAllStringSubmatch(css[start:start+end], -1) {
			vars[m[1]] = strings.ToLower(m[2])
		}
		return vars
	}
	light = block(0)
	i := strings.Index(css, "@media (prefers-color-scheme: dark)")
	if i < 0 {
		t.Fatal("no dark theme")
	}
	dark = block(i)
	return light, dark
}

// luminance is the relative luminance of a #rrggbb colour (WCAG 2).
func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestThemeContrast checks that text colours meet WCAG AA (4.5:1) on the
// backgrounds they are used on, in both themes: every badge pair, body
// and muted text, links, buttons, alerts.
func TestThemeContrast(t *testing.T) {
	light, dark := themeColours(t)
	pairs := [][2]string{
		{"--fg", "--bg"}, {"--fg", "--surface"}, {"--fg", "--surface-2"}, {"--fg", "--input-bg"},
		{"--muted", "--bg"}, {"--muted", "--surface"},
		{"--accent", "--bg"}, {"--accent", "--surface"}, {"--accent-fg", "--accent"},
		{"--danger", "--bg"}, {"--fg", "--diff-add"}, {"--fg", "--diff-del"}, {"--fg", "--mark"},
	}
	for name := range light {
		if base, ok := strings.CutSuffix(name, "-fg"); ok && strings.HasPrefix(name, "--b-") {
			pairs = append(pairs, [2]string{name, base + "-bg"})
		}
	}
	if len(pairs) < 20 {
		t.Fatalf("found %d colour pairs; the badge variables are missing", len(pairs))
	}
	for theme, vars := range map[string]map[string]string{"light": light, "dark": dark} {
		for _, p := range pairs {
			fg, bg := vars[p[0]], vars[p[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s theme: %s or %s is not set", theme, p[0], p[1])
				continue
			}
			if c := contrast(fg, bg); c < 4.5 {
				t.Errorf("%s theme: %s %s on %s %s has contrast %.2f; want at least 4.5", theme, p[0], fg, p[1], bg, c)
			}
		}
	}
}
