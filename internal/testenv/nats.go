package testenv

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"testing"
	"time"
)

// DefaultNATS is the NATS server of the development machine and of CI
// (.ci/services starts it).
const DefaultNATS = "nats://127.0.0.1:4222"

// NATS returns the URL of the NATS server for the cluster tests:
// $DOCKET_TEST_NATS, or [DefaultNATS]. When no NATS server answers there
// the test ends through [Missing]. Tests share the server, so each must
// keep to subjects of its own (a random prefix).
func NATS(tb testing.TB) string {
	tb.Helper()
	raw := setting("DOCKET_TEST_NATS", DefaultNATS)
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		tb.Fatalf("DOCKET_TEST_NATS=%q is not a URL like %s", raw, DefaultNATS)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "4222")
	}
	if err := natsAnswers(addr); err != nil {
		Missing(tb, "no NATS server at %s (run .ci/services, or set DOCKET_TEST_NATS): %v", u.Redacted(), err)
	}
	return raw
}

// natsAnswers dials addr and checks that what answers greets like a NATS
// server, with an INFO line.
func natsAnswers(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	greeting := make([]byte, 5)
	if _, err := io.ReadFull(conn, greeting); err != nil {
		return err
	}
	if !bytes.Equal(greeting, []byte("INFO ")) {
		return &net.AddrError{Err: "not a NATS server (no INFO greeting)", Addr: addr}
	}
	return nil
}
