package server

import "sync"

// userLimit caps how many long-lived connections (live sockets) one user
// holds open at once, so a single account cannot tie up the server's
// memory and file descriptors with connections it opens and never uses.
type userLimit struct {
	max  int
	mu   sync.Mutex
	open map[string]int
}

func newUserLimit(max int) *userLimit {
	return &userLimit{max: max, open: map[string]int{}}
}

// acquire takes one connection for user, or reports false when the user
// holds max already. Each true answer needs one release.
func (l *userLimit) acquire(user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[user] >= l.max {
		return false
	}
	l.open[user]++
	return true
}

// release gives back a connection taken by acquire.
func (l *userLimit) release(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[user] <= 1 {
		delete(l.open, user)
		return
	}
	l.open[user]--
}
