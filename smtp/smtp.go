// Package smtp sends Docket's mails through an SMTP server.
//
// A request never talks to the mail server: the store queues an outbox
// entry in the transaction that puts an item in someone's inbox (see
// [docket.MailQueue]). The [Mailer] claims due entries under a lease,
// renders each as a multipart/alternative message (plain text and HTML
// from one template file), hands it to the server and records the
// outcome; temporary failures (4xx answers, connection errors) are retried
// with backoff until it gives up. The Message-ID is derived from the entry,
// so a mail retried after a crash is the same message to mail clients.
package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	netsmtp "net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
)

// DefaultBackoff is the wait before each retry: five retries after the
// first attempt, six attempts over about seven hours.
var DefaultBackoff = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour}

// Options configure a [Mailer]; zero fields take the defaults.
type Options struct {
	// URL names the server: smtp://user:pass@host:587 (STARTTLS, which
	// is required when a password is given), smtps://user:pass@host:465
	// (TLS from the start) or smtp://host:25 (a local relay, no password).
	URL string
	// From is the sender, such as "Docket <docket@example.com>".
	From string
	// BaseURL is the server's public URL, for links in mails.
	BaseURL string
	// CAFile is a PEM file of certificates to trust for the server's,
	// besides the system's.
	CAFile string
	// InsecureSkipVerify accepts any certificate (tests only).
	InsecureSkipVerify bool
	// Timeout bounds one attempt, from dialling to the server's answer to
	// the message (default 30 s).
	Timeout time.Duration
	// Poll is how often the outbox is looked at when nothing wakes the
	// mailer (default 10 s).
	Poll time.Duration
	// Backoff are the waits before the retries; a mail is attempted
	// len(Backoff)+1 times (default DefaultBackoff).
	Backoff []time.Duration
	// Lease is how long a claimed mail is kept from being offered again
	// (default Timeout plus one minute).
	Lease time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Logger receives failed attempts and store errors.
	Logger *slog.Logger
}

// server is where and how mails are handed over.
type server struct {
	addr        string // host:port
	host        string
	implicitTLS bool
	user, pass  string
	tls         *tls.Config
}

// parseServer checks an SMTP URL and the TLS options.
func parseServer(raw, caFile string, insecure bool) (*server, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("the SMTP URL %q is not like smtp://user:pass@host:587", raw)
	}
	s := &server{host: u.Hostname()}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		s.implicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("the SMTP URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not %q", u.Scheme+"://")
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("SMTP CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SMTP CA file %s holds no PEM certificate", caFile)
		}
		s.tls.RootCAs = pool
	}
	return s, nil
}

// permanentError is a failure that retrying cannot mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// isPermanent reports whether err is a refusal that retrying cannot mend:
// one of ours, or an SMTP answer in the 5xx range.
func isPermanent(err error) bool {
	var perm *permanentError
	var te *textproto.Error
	return errors.As(err, &perm) || (errors.As(err, &te) && te.Code >= 500)
}

// send hands one message to the server for one recipient.
func (s *server) send(ctx context.Context, timeout time.Duration, helo, from, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if s.implicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	c, err := netsmtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return err
	}
	if !s.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				return err
			}
		} else if s.user != "" {
			return &permanentError{fmt.Errorf("%s does not offer STARTTLS: the password is not sent in the clear (use smtps:// or a relay without a password)", s.addr)}
		}
	}
	if s.user != "" {
		if err := c.Auth(netsmtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// parseFrom checks the sender address.
func parseFrom(from string) (*mail.Address, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("the sender %q is not an address like \"Docket <docket@example.com>\"", from)
	}
	return a, nil
}

// helloName is the name the mailer gives in EHLO: the host of the
// sender's address.
func helloName(from *mail.Address) string {
	if _, host, ok := strings.Cut(from.Address, "@"); ok && host != "" {
		return host
	}
	return "localhost"
}

// errorText is an error as the outbox keeps it.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// logAttempt logs a failed attempt.
func logAttempt(log *slog.Logger, m *docket.Mail, err error) {
	log.Warn("mail not sent", slog.Int64("mail", m.ID), slog.String("to", m.To),
		slog.Int("attempt", m.Attempt), slog.String("status", string(m.Status)), slog.String("err", errorText(err)))
}
