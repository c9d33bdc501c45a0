package docket

import (
	"context"
	"time"
)

// System mails go to an address rather than to a user: they are the
// kinds of outbox entries open sign-up sends (see [SignupService]).
const (
	// MailSignupConfirm carries the link that confirms a sign-up.
	MailSignupConfirm InboxKind = "signup_confirm"
	// MailSignupExists tells the owner of an address that it already
	// has an account, instead of a new account.
	MailSignupExists InboxKind = "signup_exists"
)

// IsSystemMail reports whether kind is a mail to an address, not about
// inbox items.
func IsSystemMail(kind InboxKind) bool {
	return kind == MailSignupConfirm || kind == MailSignupExists
}

// Sign-up by mail: how long a link lasts and how many sign-up mails one
// address gets in an hour, whoever asks for them.
const (
	SignupLinkTTL         = 24 * time.Hour
	MaxSignupMailsPerHour = 3
)

// PendingSignup is a sign-up waiting for its address to be confirmed.
type PendingSignup struct {
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// SignupService verifies the address of an open sign-up before the
// account exists, and answers alike whether the address has an account
// or not: the difference is told only to the owner of the address, by
// mail.
type SignupService interface {
	// SignupByMail reports whether sign-ups go through a mailed link:
	// mail is on and the site has an account already.
	SignupByMail(ctx context.Context) (bool, error)
	// RequestSignup checks uc (EINVALID) and hashes its password, then
	// queues a mail to the address: a confirmation link for a new address
	// (its pending sign-up replaces an earlier one), a "you already have
	// an account" note for a taken one. Beyond [MaxSignupMailsPerHour]
	// mails to the address in the last hour nothing is queued or changed.
	// The caller learns none of this.
	RequestSignup(ctx context.Context, uc UserCreate) error
	// CheckSignup returns the sign-up of a link's token. Returns EINVALID
	// for a token that is tampered with, expired, used or replaced.
	CheckSignup(ctx context.Context, token string) (*PendingSignup, error)
	// ConfirmSignup creates the account of a link's token and uses the
	// token up. Returns EINVALID as CheckSignup, ECONFLICT if the address
	// got an account meanwhile.
	ConfirmSignup(ctx context.Context, token string) (*User, error)
}
