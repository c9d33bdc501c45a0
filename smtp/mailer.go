package smtp

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
)

// batch is the most mails claimed at once.
const batch = 10

// Mailer sends the outbox. Run one per data file.
type Mailer struct {
	q      docket.MailQueue
	opts   Options
	srv    *server
	from   *mail.Address
	helo   string
	msgDom string // the host of Message-IDs
	log    *slog.Logger
	wake   chan struct{}
}

// New returns a mailer over the outbox q, or an error naming what is
// wrong with the URL, the sender or the CA file.
func New(q docket.MailQueue, opts Options) (*Mailer, error) {
	srv, err := parseServer(opts.URL, opts.CAFile, opts.InsecureSkipVerify)
	if err != nil {
		return nil, err
	}
	from, err := parseFrom(opts.From)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || base.Hostname() == "" {
		return nil, fmt.Errorf("mail links need the server's public URL (--base-url), not %q", opts.BaseURL)
	}
	opts.Timeout = cmp.Or(max(opts.Timeout, 0), 30*time.Second)
	opts.Poll = cmp.Or(max(opts.Poll, 0), 10*time.Second)
	opts.Lease = cmp.Or(max(opts.Lease, 0), opts.Timeout+time.Minute)
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Mailer{
		q: q, opts: opts, srv: srv, from: from, helo: helloName(from), msgDom: base.Hostname(),
		log: opts.Logger, wake: make(chan struct{}, 1),
	}, nil
}

// Run sends mails until ctx is cancelled. Mails are sent one after the
// other; one cut short by the shutdown comes back when its lease ends.
func (m *Mailer) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		timer.Reset(m.sendDue(ctx))
		select {
		case <-m.wake:
		case <-timer.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// sendDue sends the mails that are due, one after the other, and returns
// how long to wait before looking again.
func (m *Mailer) sendDue(ctx context.Context) time.Duration {
	tasks, err := m.q.DueMails(ctx, m.opts.Now(), batch, m.opts.Lease)
	if err != nil && ctx.Err() == nil {
		m.log.Error("mail outbox", slog.Any("err", err))
	}
	for _, t := range tasks {
		if ctx.Err() != nil {
			return 0
		}
		m.attempt(ctx, t)
	}
	if len(tasks) == batch {
		return 0 // more may be due
	}
	at, ok, err := m.q.NextMailDue(ctx)
	if err != nil || !ok {
		return m.opts.Poll
	}
	return min(m.opts.Poll, max(at.Sub(m.opts.Now()), 0))
}

// Wake makes a running mailer look at the outbox now. It never blocks;
// pass it to the store's event hook.
func (m *Mailer) Wake() {
	select {
	case m.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// attempt sends one claimed mail and records the outcome.
func (m *Mailer) attempt(ctx context.Context, t *docket.MailTask) {
	out := *t.Mail
	msg, err := m.Render(t)
	if err == nil {
		err = m.srv.send(ctx, m.opts.Timeout, m.helo, m.from.Address, out.To, msg)
	} else {
		err = &permanentError{err}
	}
	if err != nil && ctx.Err() != nil {
		return // cut short by the shutdown; the lease brings the mail back
	}
	now := m.opts.Now().UTC()
	out.Error, out.NextAt = "", time.Time{}
	switch {
	case err == nil:
		out.Status, out.SentAt = docket.MailSent, now
	case isPermanent(err) || out.Attempt > len(m.opts.Backoff):
		out.Status, out.Error = docket.MailFailed, errorText(err)
	default:
		out.Status, out.Error = docket.MailPending, errorText(err)
		out.NextAt = now.Add(m.opts.Backoff[max(out.Attempt-1, 0)])
	}
	if err != nil {
		logAttempt(m.log, &out, err)
	}
	if err := m.q.FinishMail(context.WithoutCancel(ctx), &out); err != nil && docket.ErrorCode(err) != docket.ENOTFOUND {
		m.log.Error("mail outcome not recorded", slog.Int64("mail", out.ID), slog.Any("err", err))
	}
}
