package docket

import "strings"

// Bus carries messages between the nodes of a cluster (package nats
// implements it). It is a hint, not a record: delivery is at most once,
// in order per subject from one publisher, and a node never receives what
// it published itself. Whatever must not be lost is committed to the
// store first; a bus message only says where to look, so a lost one
// delays a node but never misleads it.
type Bus interface {
	// Publish sends data to the subscribers of subject on other nodes.
	// It does not wait for them, and the caller may reuse data once it
	// returns. Returns EINVALID for a subject [CheckSubject] refuses and
	// EUNAVAILABLE when the bus is closed or cannot take the message.
	Publish(subject string, data []byte) error
	// Subscribe calls fn with every message on subject from other nodes,
	// one at a time, until unsubscribe is called; a message published
	// after Subscribe returned is delivered (unless lost). fn must not
	// block for long (it runs on the bus's delivery goroutine for the
	// subscription) and must not keep data after it returns.
	// unsubscribe may be called more than once and from fn; once it
	// returns no new message reaches fn (a call already starting may
	// still run).
	// Returns EINVALID for a subject [CheckSubject] refuses and
	// EUNAVAILABLE when the bus is closed.
	Subscribe(subject string, fn func(data []byte)) (unsubscribe func(), err error)
}

// MaxSubjectLength is the longest bus subject, in bytes.
const MaxSubjectLength = 200

// CheckSubject reports whether subject is a valid bus subject: one or more
// tokens of ASCII letters, digits, '-' and '_', separated by single dots,
// such as "doc.k3j2h1.ops". Spaces, wildcards ('*', '>') and empty tokens
// are refused, so that a subject always names exactly one stream and
// never matches others. Returns EINVALID with the reason.
func CheckSubject(subject string) error {
	if subject == "" {
		return Errorf(EINVALID, "Bus subject required.")
	}
	if len(subject) > MaxSubjectLength {
		return Errorf(EINVALID, "Bus subject %.40q... is longer than %d bytes.", subject, MaxSubjectLength)
	}
	for i, token := range strings.Split(subject, ".") {
		if token == "" {
			return Errorf(EINVALID, "Bus subject %q has an empty token (at %d): dots separate non-empty tokens.", subject, i+1)
		}
		for _, c := range token {
			if !subjectChar(c) {
				return Errorf(EINVALID, "Bus subject %q contains %q: only ASCII letters, digits, '-' and '_' between dots (no spaces or wildcards).", subject, c)
			}
		}
	}
	return nil
}

// subjectChar reports whether c may appear in a token of a subject.
func subjectChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
