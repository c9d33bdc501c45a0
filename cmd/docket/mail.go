package main

import (
	"context"
	"fmt"
	"log/slog"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/smtp"
	"github.com/prometheus/client_golang/prometheus"
)

// mailConfig is the email part of serveConfig.
type mailConfig struct {
	// SMTPURL names the mail server; empty turns email off.
	SMTPURL string
	// MailFrom is the sender of every mail.
	MailFrom string
	// SMTPCAFile is a PEM file of certificates to trust for the server.
	SMTPCAFile string
	// SMTPInsecure accepts any certificate of the mail server.
	SMTPInsecure bool
}

// startMail turns the queueing of mails on or off in the data file and,
// when an SMTP server is set, starts the mailer, woken by every event
// (which may have queued mails). stop ends it and waits for it.
func startMail(cfg serveConfig, db *bolt.DB, log *slog.Logger, reg *prometheus.Registry) (stop func(), err error) {
	ctx := docket.NewSystemContext(context.Background())
	if cfg.Mail.SMTPURL == "" {
		return func() {}, db.SetMail(ctx, false)
	}
	outbox := bolt.NewMailService(db)
	mailer, err := smtp.New(outbox, smtp.Options{
		URL: cfg.Mail.SMTPURL, From: cfg.Mail.MailFrom, BaseURL: cfg.BaseURL,
		CAFile: cfg.Mail.SMTPCAFile, InsecureSkipVerify: cfg.Mail.SMTPInsecure, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	if err := db.SetMail(ctx, true); err != nil {
		return nil, err
	}
	for _, st := range []docket.MailStatus{docket.MailPending, docket.MailSent, docket.MailFailed, docket.MailSkipped} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "docket_mail_" + string(st), Help: "Mails in the outbox that are " + string(st) + " (sent, failed and skipped count since the data file was made).",
		}, func() float64 {
			r, err := outbox.FindMails(ctx, 1)
			if err != nil {
				return 0
			}
			return float64(r.Counts[st])
		}))
	}
	db.OnEvent(func(docket.Event) { mailer.Wake() })
	db.OnSignupMail(mailer.Wake)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		mailer.Run(runCtx)
	}()
	log.Info("email on", slog.String("from", cfg.Mail.MailFrom))
	return func() { cancel(); <-done }, nil
}
