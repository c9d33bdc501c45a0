package bolt

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/kv"
	"golang.org/x/crypto/bcrypt"
)

// SignupService implements [docket.SignupService]. A pending sign-up is
// kept under its address in signups with a random nonce; the mailed
// token is the address and nonce signed with the mail secret, so a new
// request for the address (a new nonce) or the confirmation (the record
// is deleted) ends every earlier link. The times of the sign-up mails to
// an address in the last hour are kept in signup_mails to bound them.
type SignupService struct{ db *DB }

var _ docket.SignupService = (*SignupService)(nil)

// NewSignupService returns the sign-up service over db.
func NewSignupService(db *DB) *SignupService { return &SignupService{db: db} }

type signupRecord struct {
	docket.PendingSignup
	TimeZone     string `json:"timeZone,omitempty"`
	PasswordHash []byte `json:"passwordHash"`
	Nonce        string `json:"nonce"`
}

// OnSignupMail registers fn to run after a transaction queued a sign-up
// mail, to wake the mailer: a sign-up makes no event that would.
func (db *DB) OnSignupMail(fn func()) {
	db.watchMu.Lock()
	defer db.watchMu.Unlock()
	db.signupMail = append(db.signupMail, fn)
}

// wakeMailer runs the OnSignupMail hooks once tx commits.
func (db *DB) wakeMailer(tx kv.Tx) {
	if n := noteOf(tx); n != nil {
		n.Signup = true
	}
	tx.OnCommit(db.signupMailed)
}

// signupMailed runs the OnSignupMail hooks.
func (db *DB) signupMailed() {
	db.watchMu.RLock()
	defer db.watchMu.RUnlock()
	for _, fn := range db.signupMail {
		fn()
	}
}

// SignupByMail implements [docket.SignupService].
func (s *SignupService) SignupByMail(ctx context.Context) (bool, error) {
	var on bool
	err := s.db.view(ctx, func(tx kv.Tx) error {
		k, _ := tx.Bucket(bucketUsers).Cursor().First()
		on = k != nil && mailEnabled(tx) && tx.Bucket(bucketSignups) != nil
		return nil
	})
	return on, err
}

// RequestSignup implements [docket.SignupService].
func (s *SignupService) RequestSignup(ctx context.Context, uc docket.UserCreate) error {
	name, err := docket.CleanName(uc.Name)
	if err != nil {
		return err
	}
	email, err := docket.CleanEmail(uc.Email)
	if err != nil {
		return err
	}
	if err := docket.CheckPassword(uc.Password); err != nil {
		return err
	}
	tz, err := docket.CleanTimeZone(uc.TimeZone)
	if err != nil {
		return err
	}
	// Hashed for a taken address too, so that both answers take as long.
	hash, err := bcrypt.GenerateFromPassword([]byte(uc.Password), s.db.PasswordCost)
	if err != nil {
		return err
	}
	now := s.db.Now().UTC()
	return s.db.update(ctx, func(tx kv.Tx) error {
		if !mailEnabled(tx) || tx.Bucket(bucketSignups) == nil {
			return docket.Errorf(docket.EINTERNAL, "Sign-up by mail needs mail to be on.")
		}
		if ok, err := takeSignupMail(tx, email, now); err != nil || !ok {
			return err
		}
		s.db.wakeMailer(tx)
		if findUserIDByEmail(tx, email) != "" {
			return putNewMail(tx, &mailRecord{Mail: docket.Mail{To: email, Kind: docket.MailSignupExists}, Name: name, Link: "/login"}, now)
		}
		nonce := make([]byte, 16)
		rand.Read(nonce)
		rec := &signupRecord{
			PendingSignup: docket.PendingSignup{Name: name, Email: email, ExpiresAt: now.Add(docket.SignupLinkTTL)},
			TimeZone:      tz, PasswordHash: hash, Nonce: base64.RawURLEncoding.EncodeToString(nonce),
		}
		if err := putJSON(tx.Bucket(bucketSignups), []byte(email), rec); err != nil {
			return err
		}
		link := "/signup/confirm?t=" + url.QueryEscape(signupToken(tx, email, rec.Nonce))
		return putNewMail(tx, &mailRecord{Mail: docket.Mail{To: email, Kind: docket.MailSignupConfirm}, Name: name, Link: link}, now)
	})
}

// takeSignupMail counts a sign-up mail to email at now, unless
// MaxSignupMailsPerHour were counted in the hour before.
func takeSignupMail(tx kv.Tx, email string, now time.Time) (bool, error) {
	b := tx.Bucket(bucketSignupMails)
	var sent, recent []time.Time
	if _, err := getJSON(b, []byte(email), &sent); err != nil {
		return false, err
	}
	for _, t := range sent {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) >= docket.MaxSignupMailsPerHour {
		return false, nil
	}
	return true, putJSON(b, []byte(email), append(recent, now))
}

// signupToken signs "email nonce" with the mail secret.
func signupToken(tx kv.Tx, email, nonce string) string {
	payload := email + " " + nonce
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(signupMAC(tx.Bucket(bucketMeta).Get(keyMailSecret), payload))
}

func signupMAC(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("docket signup v1\x00" + payload))
	return m.Sum(nil)[:18]
}

// checkSignupToken returns the pending sign-up a token names, if the
// token is genuine, current and not used.
func checkSignupToken(tx kv.Tx, token string, now time.Time) (*signupRecord, error) {
	bad := docket.Errorf(docket.EINVALID, "This sign-up link is not valid: it may have been cut short or changed. Copy the whole link from the mail, or sign up again.")
	secret := tx.Bucket(bucketMeta).Get(keyMailSecret)
	p64, m64, ok := strings.Cut(token, ".")
	if secret == nil || !ok || tx.Bucket(bucketSignups) == nil {
		return nil, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, signupMAC(secret, string(payload))) {
		return nil, bad
	}
	email, nonce, _ := strings.Cut(string(payload), " ")
	var rec signupRecord
	found, err := getJSON(tx.Bucket(bucketSignups), []byte(email), &rec)
	switch {
	case err != nil:
		return nil, err
	case !found || !hmac.Equal([]byte(rec.Nonce), []byte(nonce)):
		return nil, docket.Errorf(docket.EINVALID, "This sign-up link was used already, or a newer one was sent. Sign in, or use the link of the latest mail.")
	case now.After(rec.ExpiresAt):
		return nil, docket.Errorf(docket.EINVALID, "This sign-up link expired (links last %s). Sign up again for a new one.", docket.SignupLinkTTL)
	}
	return &rec, nil
}

// CheckSignup implements [docket.SignupService].
func (s *SignupService) CheckSignup(ctx context.Context, token string) (*docket.PendingSignup, error) {
	return inTx(ctx, s.db.view, func(tx kv.Tx) (*docket.PendingSignup, error) {
		rec, err := checkSignupToken(tx, token, s.db.Now())
		if err != nil {
			return nil, err
		}
		return &rec.PendingSignup, nil
	})
}

// ConfirmSignup implements [docket.SignupService].
func (s *SignupService) ConfirmSignup(ctx context.Context, token string) (*docket.User, error) {
	now := s.db.Now().UTC()
	return inTx(ctx, s.db.update, func(tx kv.Tx) (*docket.User, error) {
		rec, err := checkSignupToken(tx, token, now)
		if err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketSignups).Delete([]byte(rec.Email)); err != nil {
			return nil, err
		}
		if findUserIDByEmail(tx, rec.Email) != "" {
			return nil, docket.Errorf(docket.ECONFLICT, "An account with %s was made since this link was sent. Sign in with it instead.", rec.Email)
		}
		k, _ := tx.Bucket(bucketUsers).Cursor().First()
		u := &userRecord{
			User: docket.User{
				ID: newID(), Name: rec.Name, Email: rec.Email, Role: docket.SiteMember, TimeZone: rec.TimeZone,
				CreatedAt: now.Truncate(time.Millisecond),
			},
			PasswordHash: rec.PasswordHash,
		}
		if err := insertUser(tx, u, k == nil); err != nil {
			return nil, err
		}
		out := u.User
		return &out, nil
	})
}
