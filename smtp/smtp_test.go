package smtp

import (
	"context"
	"errors"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/internal/mailtest"
)

func TestParseServer(t *testing.T) {
	for _, tc := range []struct {
		url      string
		addr     string
		implicit bool
		user     string
		err      string
	}{
		{"smtp://u:p@mail.example.com", "mail.example.com:587", false, "u", ""},
		{"smtps://u:p@mail.example.com", "mail.example.com:465", true, "u", ""},
		{"smtp://127.0.0.1:25", "127.0.0.1:25", false, "", ""},
		{"http://mail.example.com", "", false, "", "must start with smtp://"},
		{"mail.example.com:25", "", false, "", "not like smtp://"},
		{"", "", false, "", "not like smtp://"},
	} {
		s, err := parseServer(tc.url, "", false)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v; want %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil || s.addr != tc.addr || s.implicitTLS != tc.implicit || s.user != tc.user {
			t.Errorf("%q = %+v, %v; want %s implicit %v user %q", tc.url, s, err, tc.addr, tc.implicit, tc.user)
		}
	}
}

func TestIsPermanent(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&textproto.Error{Code: 550, Msg: "no such user"}, true},
		{&textproto.Error{Code: 451, Msg: "try later"}, false},
		{errors.New("connection refused"), false},
		{&permanentError{errors.New("no STARTTLS")}, true},
	} {
		if got := isPermanent(tc.err); got != tc.want {
			t.Errorf("isPermanent(%v) = %v; want %v", tc.err, got, tc.want)
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
	err = s.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", []byte("Subject: x\r\n\r\nhi\r\n"))
	if !isPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("send with a password and no STARTTLS = %v; want a permanent refusal", err)
	}
	s.user, s.pass = "", ""
	if err := s.send(context.Background(), 10*time.Second, "example.com", "d@example.com", "bob@example.com", []byte("Subject: x\r\n\r\nhi\r\n")); err != nil || len(srv.Messages()) != 1 {
		t.Errorf("send without a password = %v, %d messages", err, len(srv.Messages()))
	}
}
