package server

import (
	"sync"
	"time"

	docket "github.com/docket-dev/docket"
	"golang.org/x/time/rate"
)

// Login limits. An IP may try loginBurstIP times at once and then one
// attempt every loginEveryIP; an account may fail loginBurstAccount times
// and then once every loginEveryAccount.
const (
	loginBurstIP       = 20
	loginEveryIP       = 3 * time.Second
	loginBurstAccount  = 10
	loginEveryAccount  = time.Minute
	limiterMaxEntries  = 100_000
	limiterIdleExpires = time.Hour
)

// loginLimiter rate-limits sign-in attempts per client IP and failed
// attempts per account, in memory.
type loginLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	ips      map[string]*limiterEntry
	accounts map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, ips: map[string]*limiterEntry{}, accounts: map[string]*limiterEntry{}}
}

func (l *loginLimiter) entry(m map[string]*limiterEntry, key string, every time.Duration, burst int) *limiterEntry {
	now := l.now()
	e := m[key]
	if e == nil {
		if len(m) >= limiterMaxEntries {
			for k, old := range m {
				if now.Sub(old.seen) > limiterIdleExpires {
					delete(m, k)
				}
			}
			if len(m) >= limiterMaxEntries {
				clear(m)
			}
		}
		e = &limiterEntry{lim: rate.NewLimiter(rate.Every(every), burst)}
		m[key] = e
	}
	e.seen = now
	return e
}

var errTooManyAttempts = docket.Errorf(docket.ERATELIMIT, "Too many sign-in attempts; wait a minute and try again.")

// allowIP takes one attempt from the client IP's budget.
func (l *loginLimiter) allowIP(ip string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.entry(l.ips, ip, loginEveryIP, loginBurstIP).lim.AllowN(l.now(), 1) {
		return errTooManyAttempts
	}
	return nil
}

// allowAccount reports whether the account may try again, without taking
// from its budget; only failures do.
func (l *loginLimiter) allowAccount(account string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entry(l.accounts, account, loginEveryAccount, loginBurstAccount).lim.TokensAt(l.now()) < 1 {
		return errTooManyAttempts
	}
	return nil
}

// failAccount records a failed attempt for the account.
func (l *loginLimiter) failAccount(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entry(l.accounts, account, loginEveryAccount, loginBurstAccount).lim.AllowN(l.now(), 1)
}
