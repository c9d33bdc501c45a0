package smtp

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	docket "github.com/docket-dev/docket"
)

// mailTemplates holds the plain text ("text") and HTML ("html") forms of
// every mail; the HTML is parsed with html/template, which escapes what
// people wrote.
//
//go:embed mail.tmpl
var mailTemplates string

var (
	textTmpl = texttemplate.Must(texttemplate.New("mail").Parse(mailTemplates))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("mail").Parse(mailTemplates))
)

// mailView is what the templates show.
type mailView struct {
	Subject        string
	Name           string
	Digest         bool
	Groups         []*docGroup
	SettingsURL    string
	UnsubscribeURL string
	KindLabel      string
}

// docGroup is the items about one document.
type docGroup struct {
	DocID, Title, Space, URL string
	Items                    []itemView
}

type itemView struct {
	What, When, Text, Due, URL string
	// VersionURL shows the text a review request or decision was about.
	VersionURL string
	Version    int64
}

// headlines say what happened, by kind; %s is who did it.
var headlines = map[docket.InboxKind]string{
	docket.InboxMention:       "%s mentioned you",
	docket.InboxReply:         "%s replied",
	docket.InboxReviewRequest: "%s asked for your review",
	docket.InboxConcern:       "%s raised a concern",
	docket.InboxDecision:      "%s recorded a decision",
	docket.InboxHandoff:       "%s handed the document over to you",
	docket.InboxAction:        "An action item for you",
	docket.InboxOverdue:       "A deadline has passed",
	docket.InboxDueSoon:       "A deadline ends within a day",
	docket.InboxSuggestion:    "%s suggested a change",
}

// headline says what happened, with who did it; a kind without a
// headline is named as it is (due_soon: "Due soon").
func headline(it *docket.MailItem) string {
	h, ok := headlines[it.Kind]
	if !ok {
		return kindLabel(it.Kind)
	}
	if !strings.Contains(h, "%s") {
		return h
	}
	return fmt.Sprintf(h, cmp.Or(it.ActorName, "Someone"))
}

// kindLabel names a kind for people: "due_soon" is "Due soon".
func kindLabel(k docket.InboxKind) string {
	s := strings.ReplaceAll(string(k), "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// subject is "[Space] Title: Ada replied" for one item, a count for a
// digest.
func subject(t *docket.MailTask, groups []*docGroup) string {
	if t.Mail.Kind == docket.MailDigest {
		return fmt.Sprintf("[Docket] Your daily digest: %s on %s",
			docket.Plural(len(t.Items), "update"), docket.Plural(len(groups), "document"))
	}
	it := t.Items[0]
	return fmt.Sprintf("[%s] %s: %s", it.SpaceName, it.Title, headline(it))
}

// view groups the task's items by document, in the order they came.
func (m *Mailer) view(t *docket.MailTask) *mailView {
	loc, err := time.LoadLocation(t.User.TimeZone)
	if err != nil || t.User.TimeZone == "" {
		loc = time.UTC
	}
	v := &mailView{
		Name: t.User.Name, Digest: t.Mail.Kind == docket.MailDigest,
		SettingsURL: m.opts.BaseURL + "/settings#email-h",
		KindLabel:   strings.ToLower(kindLabel(t.Mail.Kind)),
	}
	if t.Unsubscribe != "" {
		v.UnsubscribeURL = m.opts.BaseURL + "/unsubscribe?t=" + url.QueryEscape(t.Unsubscribe)
	}
	byDoc := map[string]*docGroup{}
	for _, it := range t.Items {
		g := byDoc[it.DocID]
		if g == nil {
			g = &docGroup{DocID: it.DocID, Title: it.Title, Space: it.SpaceName, URL: m.opts.BaseURL + "/d/" + it.DocID}
			byDoc[it.DocID] = g
			v.Groups = append(v.Groups, g)
		}
		iv := itemView{What: headline(it), When: it.Time.In(loc).Format("Mon 2 Jan 2006, 15:04 MST"), Text: it.Text, URL: m.opts.BaseURL + it.URL}
		if it.Version > 0 && (it.Kind == docket.InboxReviewRequest || it.Kind == docket.InboxDecision) {
			iv.Version, iv.VersionURL = it.Version, fmt.Sprintf("%s/d/%s/history?v=%d", m.opts.BaseURL, it.DocID, it.Version)
		}
		if !it.Due.IsZero() {
			iv.Due = it.Due.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
		}
		g.Items = append(g.Items, iv)
	}
	v.Subject = subject(t, v.Groups)
	return v
}

// msgID is a Message-ID on the mailer's host.
func (m *Mailer) msgID(parts ...string) string {
	return "<docket-" + strings.Join(parts, "-") + "@" + m.msgDom + ">"
}

// threading returns the Message-ID of the mail and the ids it answers:
// every mail about a document refers to the document's root id, a reply
// also to its thread's, so that mail clients show them together.
func (m *Mailer) threading(t *docket.MailTask) (id, inReplyTo, references string) {
	mid := fmt.Sprintf("m%d", t.Mail.ID)
	if t.Mail.Kind == docket.MailDigest {
		return m.msgID("digest", t.User.ID, mid), "", ""
	}
	it := t.Items[0]
	root := m.msgID("doc", it.DocID)
	if it.Kind == docket.InboxReply && it.ThreadID != "" {
		thread := m.msgID("doc", it.DocID, "t", it.ThreadID)
		return m.msgID("doc", it.DocID, mid), thread, root + " " + thread
	}
	return m.msgID("doc", it.DocID, mid), root, root
}

// Render returns the whole message of a task: headers, then the plain
// text and HTML parts as multipart/alternative.
func (m *Mailer) Render(t *docket.MailTask) ([]byte, error) {
	if docket.IsSystemMail(t.Mail.Kind) {
		return m.renderSystem(t)
	}
	if len(t.Items) == 0 {
		return nil, fmt.Errorf("mail %d has nothing to say", t.Mail.ID)
	}
	v := m.view(t)
	id, inReplyTo, refs := m.threading(t)
	headers := [][2]string{{"Message-ID", id}, {"In-Reply-To", inReplyTo}, {"References", refs}}
	if v.UnsubscribeURL != "" {
		headers = append(headers, [2]string{"List-Unsubscribe", "<" + v.UnsubscribeURL + ">"}, [2]string{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"})
	}
	return m.compose(t, "", v.Subject, v, headers)
}

// systemView is what the templates of a system mail show.
type systemView struct {
	Subject, Name, Email, Link string
	Confirm                    bool
	Hours                      int
}

// renderSystem renders a mail to an address about signing up: it has
// no unsubscribe link, being sent only when someone asks for it.
func (m *Mailer) renderSystem(t *docket.MailTask) ([]byte, error) {
	if t.Link == "" {
		return nil, fmt.Errorf("mail %d has no link", t.Mail.ID)
	}
	v := &systemView{
		Name: t.User.Name, Email: t.Mail.To, Link: m.opts.BaseURL + t.Link,
		Confirm: t.Mail.Kind == docket.MailSignupConfirm, Hours: int(docket.SignupLinkTTL.Hours()),
	}
	v.Subject = "[Docket] You already have an account"
	if v.Confirm {
		v.Subject = "[Docket] Confirm your email to create your account"
	}
	return m.compose(t, "system-", v.Subject, v, [][2]string{{"Message-ID", m.msgID("system", fmt.Sprintf("m%d", t.Mail.ID))}})
}

// compose renders the templates prefix+"text" and prefix+"html" of v
// into a message to the task's recipient with the given extra headers
// (empty ones are left out).
func (m *Mailer) compose(t *docket.MailTask, prefix, subject string, v any, extra [][2]string) ([]byte, error) {
	var text, html bytes.Buffer
	if err := textTmpl.ExecuteTemplate(&text, prefix+"text", v); err != nil {
		return nil, err
	}
	if err := htmlTmpl.ExecuteTemplate(&html, prefix+"html", v); err != nil {
		return nil, err
	}
	var msg, body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct {
		ctype string
		b     []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, p.b); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	h := func(k, val string) {
		if val != "" {
			fmt.Fprintf(&msg, "%s: %s\r\n", k, val)
		}
	}
	h("From", m.from.String())
	h("To", (&mail.Address{Name: t.User.Name, Address: t.Mail.To}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", m.opts.Now().UTC().Format(time.RFC1123Z))
	for _, kv := range extra {
		h(kv[0], kv[1])
	}
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// writeQP writes b quoted-printable (which ends its lines with CRLF).
func writeQP(w io.Writer, b []byte) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write(b); err != nil {
		return err
	}
	return qp.Close()
}
