package smtp

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/mailtest"
)

// TestParseServer reads SMTP URLs: each maps to "address tls user" or
// to the start of its error.
func TestParseServer(t *testing.T) {
	want := map[string]string{
		"smtp://u:p@mail.example.com":  "mail.example.com:587 false u",
		"smtps://u:p@mail.example.com": "mail.example.com:465 true u",
		"smtp://127.0.0.1:25":          "127.0.0.1:25 false ",
		"http://mail.example.com":      "the SMTP URL must start with smtp://",
		"mail.example.com:25":          "the SMTP URL \"mail.example.com:25\" is not like",
		"":                             "the SMTP URL \"\" is not like",
	}
	for raw, w := range want {
		got := ""
		if s, err := parseServer(raw, "", false); err != nil {
			got = err.Error()
		} else {
			got = fmt.Sprintf("%s %v %s", s.addr, s.implicitTLS, s.user)
		}
		if !strings.HasPrefix(got, w) {
			t.Errorf("parseServer(%q) = %q; want %q", raw, got, w)
		}
	}
}

// TestIsPermanent: 5xx answers and our own refusals are not retried.
func TestIsPermanent(t *testing.T) {
	permanent := []error{&textproto.Error{Code: 550, Msg: "no such user"}, &permanentError{errors.New("no STARTTLS")}}
	temporary := []error{&textproto.Error{Code: 451, Msg: "try later"}, errors.New("connection refused")}
	for _, err := range permanent {
		if !isPermanent(err) {
			t.Errorf("%v is not permanent", err)
		}
	}
	for _, err := range temporary {
		if isPermanent(err) {
			t.Errorf("%v is permanent", err)
		}
	}
}

// TestNoPasswordInClear refuses to send a password to a server that does
// not offer STARTTLS, permanently; the same server without a password
// takes the message.
func TestNoPasswordInClear(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s, err := parseServer(strings.Replace(srv.URL(), "smtp://", "smtp://u:p@", 1), "", false)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: x\r\n\r\nhi\r\n")
	err = s.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", msg)
	if !isPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("send with a password and no STARTTLS = %v; want a permanent refusal", err)
	}
	s.user, s.pass = "", ""
	if err := s.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", msg); err != nil || len(srv.Messages()) != 1 {
		t.Errorf("send without a password = %v, %d messages", err, len(srv.Messages()))
	}
}

// TestImplicitTLS sends over smtps:// with a password, trusting the test
// server's certificate through the CA file; without it the certificate
// is refused.
func TestImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{ImplicitTLS: true, User: "u", Pass: "p"})
	msg := []byte("Subject: x\r\n\r\nhi\r\n")
	untrusted, err := parseServer(srv.URL(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := untrusted.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", msg); err == nil {
		t.Error("a self-signed certificate was accepted without the CA file")
	}
	s, err := parseServer(srv.URL(), srv.CAFile, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", msg); err != nil || len(srv.Messages()) != 1 {
		t.Errorf("send over smtps = %v, %d messages; want 1", err, len(srv.Messages()))
	}
}
