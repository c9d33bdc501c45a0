package nats

import (
	"testing"
	"time"
)

func TestReconnectWait(t *testing.T) {
	const max = 5 * time.Second
	tests := []struct {
		attempts  int
		low, high time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 400 * time.Millisecond, 800 * time.Millisecond},
		{6, max / 2, max},
		{40, max / 2, max},
		{1 << 30, max / 2, max},
	}
	for _, tc := range tests {
		for range 50 {
			if got := reconnectWait(tc.attempts, max); got < tc.low || got > tc.high {
				t.Fatalf("reconnectWait(%d, %v) = %v; want within [%v, %v]", tc.attempts, max, got, tc.low, tc.high)
			}
		}
	}
}
