package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	docket "github.com/docket-dev/docket"
)

// jsonPayload is the body of a json webhook.
type jsonPayload struct {
	Event    *docket.Event `json:"event"`
	Document payloadDoc    `json:"document"`
	URL      string        `json:"url,omitempty"`
	Actor    *payloadActor `json:"actor,omitempty"`
	// Text says what happened, in plain words.
	Text string `json:"text"`
}

type payloadDoc struct {
	ID      string `json:"id,omitempty"`
	Title   string `json:"title,omitempty"`
	SpaceID string `json:"spaceId"`
}

type payloadActor struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Payload returns the body of a delivery in its webhook's format.
func Payload(t *docket.WebhookTask, baseURL string) ([]byte, error) {
	ev := t.Event
	link := ""
	if ev.DocID != "" && ev.Type != docket.EventDocDeleted {
		link = baseURL + path(ev)
	}
	if t.Hook.Format == docket.WebhookSlack {
		title := slackEscape(ev.Title)
		if title == "" {
			title = "A document"
		}
		if link != "" {
			title = "<" + slackEscape(link) + "|" + strings.ReplaceAll(title, "|", "¦") + ">"
		} else {
			title = "*" + title + "*"
		}
		return marshal(map[string]string{"text": title + ": " + slackEscape(Describe(ev, t.ActorName))})
	}
	p := jsonPayload{
		Event:    ev,
		Document: payloadDoc{ID: ev.DocID, Title: ev.Title, SpaceID: ev.SpaceID},
		URL:      link,
		Text:     Describe(ev, t.ActorName),
	}
	if ev.ActorID != "" {
		p.Actor = &payloadActor{ID: ev.ActorID, Name: t.ActorName}
	}
	return marshal(p)
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

// deeds holds, for each event whose data adds nothing, what was done, to
// follow the name of who did it.
var deeds = map[docket.EventType]string{
	docket.EventDocCreated:     "created the document",
	docket.EventDocDeleted:     "deleted the document",
	docket.EventThreadCreated:  "started a thread",
	docket.EventThreadResolved: "resolved a thread",
	docket.EventThreadReopened: "reopened a thread",
	docket.EventCommentCreated: "commented",
	docket.EventCommentEdited:  "edited a comment",
	docket.EventCommentDeleted: "deleted a comment",
	docket.EventOwnerChanged:   "handed it over to a new owner",

	docket.EventSuggestionCreated:  "suggested a change",
	docket.EventSuggestionApplied:  "applied a suggested change",
	docket.EventSuggestionRejected: "rejected a suggested change",
}

// Describe says in a few words what an event did, such as "Ada moved it
// from review to last-call".
func Describe(ev *docket.Event, actorName string) string {
	who := actorName
	if who == "" {
		who = "Someone"
		if ev.ActorID == "" {
			who = "Docket"
		}
	}
	if deed, ok := deeds[ev.Type]; ok {
		return who + " " + deed
	}
	var data struct {
		Version      int64    `json:"version"`
		From         string   `json:"from"`
		To           string   `json:"to"`
		Verdict      string   `json:"verdict"`
		StartVersion int64    `json:"startVersion"`
		EndVersion   int64    `json:"endVersion"`
		Participants []string `json:"participants"`
	}
	json.Unmarshal(ev.Data, &data) // missing details only shorten the text
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
			return who + " changed the document's details"
		}
		return who + " changed the " + strings.Join(names, " and ")
	case docket.EventDocEdited:
		if data.Version > 0 {
			return fmt.Sprintf("%s edited the text (version %d)", who, data.Version)
		}
		return who + " edited the text"
	case docket.EventReviewCreated:
		switch docket.Verdict(data.Verdict) {
		case docket.VerdictApprove:
			return who + " approved it"
		case docket.VerdictConcern:
			return who + " raised a concern"
		}
		return who + " reviewed it"
	case docket.EventDocTransitioned:
		if data.From != "" && data.To != "" {
			return fmt.Sprintf("%s moved it from %s to %s", who, data.From, data.To)
		}
		return who + " moved it on"
	case docket.EventSessionEnded:
		n := len(data.Participants)
		people := "people"
		if n == 1 {
			people = "person"
		}
		return fmt.Sprintf("A live session ended (versions %d to %d, %d %s)", data.StartVersion, data.EndVersion, n, people)
	}
	return who + ": " + string(ev.Type)
}
