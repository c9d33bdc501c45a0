package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
)

// jsonPayload is the body of a json webhook. Besides the whole event it
// carries what was said, ready to show: the comment's excerpt (its new
// text, without what it quotes), the decision's summary, the deadline and
// the people concerned, with their names.
type jsonPayload struct {
	Event    *docket.Event `json:"event"`
	Document payloadDoc    `json:"document"`
	URL      string        `json:"url,omitempty"`
	Actor    *payloadActor `json:"actor,omitempty"`
	// Text says what happened, in plain words.
	Text string `json:"text"`
	// Excerpt is what was written: a comment's or concern's new text, an
	// action item's text.
	Excerpt string `json:"excerpt,omitempty"`
	// Summary is a decision's summary.
	Summary string     `json:"summary,omitempty"`
	Due     *time.Time `json:"due,omitempty"`
	// Reviewers are the document's reviewers; WaitingOn those of them who
	// have not answered (in reminders).
	Reviewers []payloadActor `json:"reviewers,omitempty"`
	WaitingOn []payloadActor `json:"waitingOn,omitempty"`
	// Assignee is the owner of an overdue action item.
	Assignee *payloadActor `json:"assignee,omitempty"`
}

type payloadDoc struct {
	ID        string `json:"id,omitempty"`
	Title     string `json:"title,omitempty"`
	SpaceID   string `json:"spaceId"`
	SpaceName string `json:"spaceName,omitempty"`
}

type payloadActor struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// details are the parts of an event's data that payloads show.
type details struct {
	Version      int64    `json:"version"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Verdict      string   `json:"verdict"`
	StartVersion int64    `json:"startVersion"`
	EndVersion   int64    `json:"endVersion"`
	Participants []string `json:"participants"`
	// Comments and concerns.
	Excerpt string `json:"excerpt"`
	// Transitions and reminders.
	Summary     string     `json:"summary"`
	Due         *time.Time `json:"due"`
	Reviewers   []string   `json:"reviewers"`
	Waiting     []string   `json:"waiting"`
	Status      string     `json:"status"`
	DecisionDue bool       `json:"decisionDue"`
	// Overdue action items.
	Text   string `json:"text"`
	UserID string `json:"userId"`
}

// readDetails decodes an event's data; missing or odd details only
// shorten the message.
func readDetails(ev *docket.Event) details {
	var d details
	json.Unmarshal(ev.Data, &d)
	return d
}

// Payload returns the body of a delivery in its webhook's format.
func Payload(t *docket.WebhookTask, baseURL string) ([]byte, error) {
	ev := t.Event
	link := ""
	if ev.DocID != "" && ev.Type != docket.EventDocDeleted {
		link = baseURL + path(ev)
	}
	d := readDetails(ev)
	if t.Hook.Format == docket.WebhookSlack {
		return marshal(slackMessage(t, link, d))
	}
	p := jsonPayload{
		Event:    ev,
		Document: payloadDoc{ID: ev.DocID, Title: ev.Title, SpaceID: ev.SpaceID, SpaceName: t.SpaceName},
		URL:      link,
		Text:     sentence(t, d, ""),
		Excerpt:  quoted(ev, d),
		Due:      d.Due,
	}
	if ev.ActorID != "" {
		p.Actor = &payloadActor{ID: ev.ActorID, Name: t.ActorName}
	}
	if ev.Type == docket.EventDocTransitioned {
		p.Excerpt, p.Summary = "", d.Summary
	}
	if d.Due != nil && d.Due.IsZero() {
		p.Due = nil
	}
	p.Reviewers = people(t, d.Reviewers)
	p.WaitingOn = people(t, d.Waiting)
	if ev.Type == docket.EventActionOverdue && d.UserID != "" {
		p.Assignee = &payloadActor{ID: d.UserID, Name: t.Names[d.UserID]}
	}
	return marshal(p)
}

// people names users by id with the names the task carries.
func people(t *docket.WebhookTask, ids []string) []payloadActor {
	out := make([]payloadActor, 0, len(ids))
	for _, id := range ids {
		out = append(out, payloadActor{ID: id, Name: t.Names[id]})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// quoted is the text an event carries: a comment's excerpt, a decision's
// summary, an overdue action item's text.
func quoted(ev *docket.Event, d details) string {
	switch ev.Type {
	case docket.EventDocTransitioned:
		return d.Summary
	case docket.EventActionOverdue:
		return d.Text
	case docket.EventCommentDeleted:
		return ""
	}
	return d.Excerpt
}

// slackBlock is one Block Kit block: a section with a text, or a context
// with elements.
type slackBlock struct {
	Type     string       `json:"type"`
	Text     *slackText   `json:"text,omitempty"`
	Elements []*slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackSectionRunes bounds a section's text (Slack refuses over 3000).
const slackSectionRunes = 2900

// slackMessage is a Slack message: a section saying who did what to the
// linked document ("Ada accepted <url|Storage plan>"), a section quoting
// what was written, a context line with the space, the deadline and the
// reviewers; and the plain text for notifications and older clients.
func slackMessage(t *docket.WebhookTask, link string, d details) slackPayload {
	ev := t.Event
	title := slackEscape(ev.Title)
	if title == "" {
		title = "A document"
	}
	if link != "" {
		title = "<" + slackEscape(link) + "|" + strings.ReplaceAll(title, "|", "¦") + ">"
	} else {
		title = "*" + title + "*"
	}
	blocks := []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: sentence(t, d, title)}}}
	if q := strings.TrimSpace(quoted(ev, d)); q != "" {
		q = shorten(slackEscape(q), slackSectionRunes)
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "> " + strings.ReplaceAll(q, "\n", "\n> ")}})
	}
	var context []string
	if t.SpaceName != "" {
		context = append(context, "Space: *"+slackEscape(t.SpaceName)+"*")
	}
	if d.Due != nil && !d.Due.IsZero() {
		due := d.Due.UTC()
		context = append(context, fmt.Sprintf("Due: <!date^%d^{date_short_pretty} {time}|%s>", due.Unix(), due.Format("2006-01-02 15:04 UTC")))
	}
	if names := slackNames(t, d.Reviewers); names != "" {
		context = append(context, "Reviewers: "+names)
	}
	if names := slackNames(t, d.Waiting); names != "" && (ev.Type == docket.EventDocDueSoon || ev.Type == docket.EventDocOverdue) {
		context = append(context, "Waiting on: "+names)
	}
	if len(context) > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []*slackText{{Type: "mrkdwn", Text: strings.Join(context, "  ·  ")}}})
	}
	return slackPayload{Text: title + ": " + slackEscape(sentence(t, d, "")), Blocks: blocks}
}

// slackPayload is the body of a slack webhook.
type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackNames lists users by name, escaped, "someone" for an unknown one.
func slackNames(t *docket.WebhookTask, ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		n := t.Names[id]
		if n == "" {
			n = "someone"
		}
		names = append(names, slackEscape(n))
	}
	return strings.Join(names, ", ")
}

// shorten cuts s to at most n code points, marking a cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// upperFirst capitalises the first letter of a sentence.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// marshal encodes v as JSON without escaping <, > and & (receivers are
// not browsers, and Slack's link syntax needs them as they are).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// path is the web app path of what an event is about.
func path(ev *docket.Event) string {
	if ev.ThreadID != "" {
		return "/d/" + ev.DocID + "#t-" + ev.ThreadID
	}
	return "/d/" + ev.DocID
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// deed is what was done, to follow the name of who did it: plain, and
// with %s standing for the document's name.
type deed struct{ plain, named string }

// deeds holds the deeds of the events whose data adds nothing.
var deeds = map[docket.EventType]deed{
	docket.EventDocCreated:     {"created the document", "created %s"},
	docket.EventDocDeleted:     {"deleted the document", "deleted %s"},
	docket.EventThreadCreated:  {"started a thread", "started a thread on %s"},
	docket.EventThreadResolved: {"resolved a thread", "resolved a thread on %s"},
	docket.EventThreadReopened: {"reopened a thread", "reopened a thread on %s"},
	docket.EventCommentCreated: {"commented", "commented on %s"},
	docket.EventCommentEdited:  {"edited a comment", "edited a comment on %s"},
	docket.EventCommentDeleted: {"deleted a comment", "deleted a comment on %s"},
	docket.EventOwnerChanged:   {"handed it over to a new owner", "handed %s over to a new owner"},

	docket.EventSuggestionCreated:  {"suggested a change", "suggested a change to %s"},
	docket.EventSuggestionApplied:  {"applied a suggested change", "applied a suggested change to %s"},
	docket.EventSuggestionRejected: {"rejected a suggested change", "rejected a suggested change to %s"},
}

// actorWord names who did an event: the actor's name, "Someone" for an
// actor whose name is unknown, "Docket" for the server itself.
func actorWord(ev *docket.Event, actorName string) string {
	switch {
	case actorName != "":
		return actorName
	case ev.ActorID == "":
		return "Docket"
	}
	return "Someone"
}

// Describe says in a few words what an event did, such as "Ada moved it
// from review to last-call".
func Describe(ev *docket.Event, actorName string) string {
	return upperFirst(describe(ev, readDetails(ev), actorWord(ev, actorName), "", nil))
}

// sentence says what the event of a task did, naming the document by
// title if there is one (see describe).
func sentence(t *docket.WebhookTask, d details, title string) string {
	return upperFirst(describe(t.Event, d, actorWord(t.Event, t.ActorName), title, t.Names))
}

// describe says what an event did; who names the actor. With a title
// the document is named by it (already escaped as the caller needs),
// without one it is "it" or "the document". names are users' names by id.
func describe(ev *docket.Event, data details, who, title string, names map[string]string) string {
	say := func(d deed, args ...any) string {
		if title == "" {
			return fmt.Sprintf(d.plain, args...)
		}
		return fmt.Sprintf(d.named, append([]any{title}, args...)...)
	}
	if d, ok := deeds[ev.Type]; ok {
		return who + " " + say(d)
	}
	switch ev.Type {
	case docket.EventDocUpdated:
		var fields map[string]json.RawMessage
		json.Unmarshal(ev.Data, &fields)
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		if len(names) == 0 {
			return who + " " + say(deed{"changed the document's details", "changed the details of %s"})
		}
		return who + " " + say(deed{"changed the " + strings.Join(names, " and "), "changed the " + strings.Join(names, " and ") + " of %s"})
	case docket.EventDocEdited:
		if data.Version > 0 {
			return who + " " + say(deed{"edited the text (version %d)", "edited the text of %s (version %d)"}, data.Version)
		}
		return who + " " + say(deed{"edited the text", "edited the text of %s"})
	case docket.EventReviewCreated:
		switch docket.Verdict(data.Verdict) {
		case docket.VerdictApprove:
			return who + " " + say(deed{"approved it", "approved %s"})
		case docket.VerdictConcern:
			return who + " " + say(deed{"raised a concern", "raised a concern on %s"})
		}
		return who + " " + say(deed{"reviewed it", "reviewed %s"})
	case docket.EventDocTransitioned:
		to := docket.Status(data.To)
		switch {
		case to == docket.StatusWithdrawn:
			return who + " " + say(deed{"withdrew it", "withdrew %s"})
		case to == docket.StatusSuperseded:
			return who + " " + say(deed{"marked it superseded", "marked %s superseded"})
		case to.Outcome(): // accepted, declined, postponed
			return who + " " + say(deed{string(to) + " it", string(to) + " %s"})
		case to == docket.StatusReview && data.From == string(docket.StatusDraft):
			return who + " " + say(deed{"asked for a review", "asked for a review of %s"})
		case to == docket.StatusLastCall:
			return who + " " + say(deed{"started the last call", "started the last call on %s"})
		case data.From != "" && data.To != "":
			return who + " " + say(deed{"moved it from %s to %s", "moved %s from %s to %s"}, data.From, data.To)
		}
		return who + " " + say(deed{"moved it on", "moved %s on"})
	case docket.EventSessionEnded:
		n := len(data.Participants)
		people := "people"
		if n == 1 {
			people = "person"
		}
		return say(deed{"a live session ended (versions %d to %d, %d %s)", "a live session on %s ended (versions %d to %d, %d %s)"},
			data.StartVersion, data.EndVersion, n, people)
	case docket.EventDocDueSoon:
		if data.Status == string(docket.StatusLastCall) {
			return say(deed{"the last call ends within a day", "the last call on %s ends within a day"})
		}
		return say(deed{"the review ends within a day", "the review of %s ends within a day"})
	case docket.EventDocOverdue:
		if data.DecisionDue {
			return say(deed{"the last call ended; a decision is due", "the last call on %s ended; a decision is due"})
		}
		return say(deed{"the review is overdue", "the review of %s is overdue"})
	case docket.EventActionOverdue:
		owner := names[data.UserID]
		if owner == "" {
			return say(deed{"an action item is overdue", "an action item on %s is overdue"})
		}
		return owner + "'s " + say(deed{"action item is overdue", "action item on %s is overdue"})
	}
	return who + ": " + string(ev.Type)
}
