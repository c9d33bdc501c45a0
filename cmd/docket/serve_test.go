package main

import (
	"io"
	"log/slog"
	"runtime"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"": 0, "off": 0, "0": 0, "1234": 1234, "512B": 512,
		"64KiB": 64 << 10, "350MiB": 350 << 20, " 1 GiB ": 1 << 30, "2TiB": 2 << 40,
	} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "12MB", "1.5GiB", "lots", "MiB", "9999999999TiB"} {
		if _, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q) accepted", in)
		}
	}
}

// The memory limit is off unless set, by flag or DOCKET_MEMORY_LIMIT.
func TestServeMemoryLimitFlag(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want int64
	}{
		{"", nil, 0},
		{"", []string{"--memory-limit", "300MiB"}, 300 << 20},
		{"1GiB", nil, 1 << 30},
		{"1GiB", []string{"--memory-limit=off"}, 0},
	} {
		t.Setenv("DOCKET_MEMORY_LIMIT", tc.env)
		cfg, err := parseServeFlags(tc.args, io.Discard)
		if err != nil || cfg.MemoryLimit != tc.want {
			t.Errorf("env %q args %v: limit %d, %v; want %d", tc.env, tc.args, cfg.MemoryLimit, err, tc.want)
		}
	}
	if _, err := parseServeFlags([]string{"--memory-limit", "a lot"}, io.Discard); err == nil {
		t.Error("a bad --memory-limit was accepted")
	}
}

func TestRenderBudget(t *testing.T) {
	for _, tc := range []struct{ limit, want int64 }{
		{0, 0},
		{64 << 20, 32 << 20},
		{256 << 20, 96 << 20},
		{512 << 20, 192 << 20},
		{4 << 30, 192 << 20},
	} {
		if got := renderBudget(tc.limit); got != tc.want {
			t.Errorf("renderBudget(%d MiB) = %d MiB; want %d MiB", tc.limit>>20, got>>20, tc.want>>20)
		}
	}
}

// The server runs at least two Ps unless GOMAXPROCS says otherwise.
func TestEnsureProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		env   string
		procs int
		want  int
	}{
		{"", 1, 2},
		{"", 2, 2},
		{"", 4, 4},
		{"1", 1, 1}, // set by the operator
	} {
		t.Setenv("GOMAXPROCS", tc.env)
		runtime.GOMAXPROCS(tc.procs)
		ensureProcs(slog.New(slog.DiscardHandler))
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("GOMAXPROCS=%q, %d Ps: %d after ensureProcs; want %d", tc.env, tc.procs, got, tc.want)
		}
	}
}
