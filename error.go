package docket

import (
	"errors"
	"fmt"
)

// Error codes. They are translated to HTTP statuses in one place (server/)
// and to protocol errors on the live socket.
const (
	ECONFLICT     = "conflict"      // the state does not allow it (409)
	EINTERNAL     = "internal"      // a bug or a failure of the machine (500)
	EINVALID      = "invalid"       // bad input (400)
	ENOTFOUND     = "not_found"     // missing, or not readable by the caller (404)
	EUNAUTHORIZED = "unauthorized"  // no valid credentials (401)
	EFORBIDDEN    = "forbidden"     // authenticated but not allowed (403)
	ETOOLARGE     = "too_large"     // over a size limit (413)
	EUNPROCESS    = "unprocessable" // well formed but not acceptable (422)
	ERATELIMIT    = "rate_limited"  // too many attempts (429)
	EUNAVAILABLE  = "unavailable"   // temporarily unable to serve (503)
)

// Error is the one error type of the domain. Code is machine readable,
// Message is safe to show to the user. Data carries extra fields that a
// client may need to recover, such as the current version on a conflict.
type Error struct {
	Code    string
	Message string
	Data    map[string]any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("docket error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an [Error] with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorOf returns the first [Error] in err's chain; for any other
// non-nil error, an EINTERNAL one whose message tells nothing more; nil
// for nil.
func errorOf(err error) *Error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return e
	}
	return &Error{Code: EINTERNAL, Message: "Internal error."}
}

// ErrorCode returns the code of the first [Error] in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if e := errorOf(err); e != nil {
		return e.Code
	}
	return ""
}

// ErrorMessage returns the message of the first [Error] in err's chain, and
// "Internal error." for any other error, so details never reach users.
func ErrorMessage(err error) string {
	if e := errorOf(err); e != nil {
		return e.Message
	}
	return ""
}

// ErrorData returns the extra data of the first [Error] in err's chain.
func ErrorData(err error) map[string]any {
	if e := errorOf(err); e != nil {
		return e.Data
	}
	return nil
}
