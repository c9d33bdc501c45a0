package docket

import "context"

// contextKey is the type of the keys this package stores in a context.
type contextKey int

const userContextKey = contextKey(iota + 1)

// NewContextWithUser returns a copy of ctx that carries the calling user.
// Services read it back with [UserFromContext] to check permissions.
func NewContextWithUser(ctx context.Context, user *User) context.Context {
	return context.WithValue(ctx, userContextKey, user)
}

// UserFromContext returns the calling user, or nil for an anonymous caller.
func UserFromContext(ctx context.Context) *User {
	user, _ := ctx.Value(userContextKey).(*User)
	return user
}

// UserIDFromContext returns the calling user's id, or "" when anonymous.
func UserIDFromContext(ctx context.Context) string {
	if user := UserFromContext(ctx); user != nil {
		return user.ID
	}
	return ""
}

const systemContextKey = contextKey(iota + 100)

// NewSystemContext returns a copy of ctx for a trusted in-process caller,
// such as a command-line subcommand working on the data directory, that
// bypasses space permission checks. Never use it for a network request.
func NewSystemContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemContextKey, true)
}

// IsSystemContext reports whether ctx was made by [NewSystemContext].
func IsSystemContext(ctx context.Context) bool {
	ok, _ := ctx.Value(systemContextKey).(bool)
	return ok
}
