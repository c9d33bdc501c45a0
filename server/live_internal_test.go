package server

import (
	"net"
	"testing"
	"time"
)

// deadlineConn records the write deadlines set on it and the writes.
type deadlineConn struct {
	net.Conn
	set    []time.Time
	writes int
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.writes++
	return len(p), nil
}

// A batch socket re-arms its write deadline only when the one set would
// leave less than half the time asked for, or when asked for an earlier
// one or none; during a batch the flush's deadline counts.
func TestBatchConnWriteDeadline(t *testing.T) {
	now := time.Now()
	const timeout = 10 * time.Second
	far := now.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		first   time.Time
		next    time.Time
		wantSet bool
	}{
		{"later, plenty left", now.Add(timeout), now.Add(timeout + time.Second), false},
		{"same", now.Add(timeout), now.Add(timeout), false},
		{"later, less than half left", now.Add(timeout / 4), now.Add(timeout), true},
		{"already passed", now.Add(-time.Second), now.Add(timeout), true},
		{"earlier", now.Add(timeout), now.Add(time.Second), true},
		{"cleared", now.Add(timeout), time.Time{}, true},
		{"after a clear", time.Time{}, far, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := &deadlineConn{}
			c := &batchConn{Conn: raw}
			c.SetWriteDeadline(tc.first)
			c.SetWriteDeadline(tc.next)
			want := []time.Time{tc.first}
			if tc.wantSet {
				want = append(want, tc.next)
			}
			if got := raw.set; !equalTimes(got, want) {
				t.Fatalf("deadlines set %v; want %v", got, want)
			}
		})
	}

	t.Run("batch", func(t *testing.T) {
		raw := &deadlineConn{}
		c := &batchConn{Conn: raw}
		c.begin()
		for range 3 {
			c.SetWriteDeadline(far) // gorilla, before each frame
			c.Write([]byte("frame"))
		}
		if len(raw.set) != 0 || raw.writes != 0 {
			t.Fatalf("during the batch: %d deadlines, %d writes; want none", len(raw.set), raw.writes)
		}
		d := now.Add(timeout)
		if err := c.flush(d); err != nil {
			t.Fatal(err)
		}
		if got, want := raw.set, []time.Time{d}; !equalTimes(got, want) || raw.writes != 1 {
			t.Fatalf("flush: deadlines %v, %d writes; want %v, 1", got, raw.writes, want)
		}
	})
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
