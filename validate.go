package docket

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// cleanLine trims s and checks that it is valid UTF-8 of 1..max characters
// without control characters.
func cleanLine(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(EINVALID, "%s required.", what)
	case !utf8.ValidString(s):
		return "", Errorf(EINVALID, "%s is not valid UTF-8.", what)
	case utf8.RuneCountInString(s) > max:
		return "", Errorf(EINVALID, "%s is longer than %d characters.", what, max)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", Errorf(EINVALID, "%s contains control characters.", what)
	}
	return s, nil
}

// CleanName validates a person's or a space's display name and returns it
// trimmed.
func CleanName(name string) (string, error) { return cleanLine("Name", name, MaxNameLength) }

// CleanTitle validates a document title and returns it trimmed.
func CleanTitle(title string) (string, error) { return cleanLine("Title", title, MaxTitleLength) }

// CleanEmail validates an email address and returns it trimmed and
// lower-cased.
func CleanEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", Errorf(EINVALID, "Email required.")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || addr.Name != "" {
		return "", Errorf(EINVALID, "Email is not a valid address.")
	}
	return email, nil
}

// CheckPassword reports whether a password is acceptable.
func CheckPassword(password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return Errorf(EINVALID, "Password must be at least %d characters.", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return Errorf(EINVALID, "Password must be at most %d bytes.", MaxPasswordLength)
	case !utf8.ValidString(password):
		return Errorf(EINVALID, "Password is not valid UTF-8.")
	}
	return nil
}

// CleanTimeZone validates an IANA time zone name; empty means UTC.
func CleanTimeZone(tz string) (string, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return "UTC", nil
	}
	if len(tz) > 64 || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") {
		return "", Errorf(EINVALID, "Time zone %q is not known.", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return "", Errorf(EINVALID, "Time zone %q is not known.", tz)
	}
	return tz, nil
}

// CleanTags validates tags and returns them trimmed, lower-cased and
// without duplicates, in their original order.
func CleanTags(tags []string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, Errorf(EINVALID, "At most %d tags.", MaxTags)
	}
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, tag := range tags {
		t, err := cleanLine("Tag", strings.ToLower(tag), MaxTagLength)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(t, " ,") {
			return nil, Errorf(EINVALID, "Tag %q may not contain spaces or commas.", t)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// CheckBody validates a document body: valid UTF-8 within MaxDocumentBytes.
func CheckBody(body string) error { return CheckText("Document", body, MaxDocumentBytes) }

// CheckText validates a text someone wrote, such as a comment or a
// review: valid UTF-8 of at most max bytes. what names it in the
// messages ("Comment").
func CheckText(what, s string, max int) error {
	if len(s) > max {
		return Errorf(ETOOLARGE, "%s is larger than %d bytes.", what, max)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8.", what)
	}
	return nil
}
