package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
)

// substance is the part of a json payload that says what was written.
type substance struct {
	Text      string         `json:"text"`
	URL       string         `json:"url"`
	Excerpt   string         `json:"excerpt"`
	Summary   string         `json:"summary"`
	Due       *time.Time     `json:"due"`
	Reviewers []payloadActor `json:"reviewers"`
	WaitingOn []payloadActor `json:"waitingOn"`
	Assignee  *payloadActor  `json:"assignee"`
	Document  payloadDoc     `json:"document"`
}

// TestPayloads builds the json and Slack payloads of each kind of event
// that says something and compares them with what a receiver should get.
func TestPayloads(t *testing.T) {
	due := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	bob, carol := payloadActor{ID: "bob1", Name: "Bob"}, payloadActor{ID: "carol1", Name: "Carol"}
	doc := payloadDoc{ID: "doc1", Title: "Storage plan", SpaceID: "sp1", SpaceName: "Eng & Ops"}
	const link = "https://docs.example.com/d/doc1"
	const dueCtx = `Due: <!date^1796374800^{date_short_pretty} {time}|2026-12-04 09:00 UTC>`
	for _, tc := range []struct {
		name      string
		ev        docket.Event
		wantJSON  substance
		wantSlack string
	}{{
		name: "review requested",
		ev: docket.Event{Type: docket.EventDocTransitioned, ActorID: "ada1",
			Data: json.RawMessage(`{"from":"draft","to":"review","due":"2026-12-04T09:00:00Z","reviewers":["bob1","carol1"],"round":1}`)},
		wantJSON: substance{Text: "Ada asked for a review", URL: link, Due: &due, Reviewers: []payloadActor{bob, carol}, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: Ada asked for a review","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Ada asked for a review of <` + link + `|Storage plan>"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  ` + dueCtx + `  ·  Reviewers: Bob, Carol"}]}]}`,
	}, {
		name: "comment",
		ev: docket.Event{Type: docket.EventCommentCreated, ActorID: "ada1", ThreadID: "th1", CommentID: "c1",
			Data: json.RawMessage(`{"excerpt":"Agreed, but <what> about & the backups?"}`)},
		wantJSON: substance{Text: "Ada commented", URL: link + "#t-th1", Excerpt: "Agreed, but <what> about & the backups?", Document: doc},
		wantSlack: `{"text":"<` + link + `#t-th1|Storage plan>: Ada commented","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Ada commented on <` + link + `#t-th1|Storage plan>"}},` +
			`{"type":"section","text":{"type":"mrkdwn","text":"> Agreed, but &lt;what&gt; about &amp; the backups?"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*"}]}]}`,
	}, {
		name: "concern",
		ev: docket.Event{Type: docket.EventReviewCreated, ActorID: "ada1", ThreadID: "th2",
			Data: json.RawMessage(`{"verdict":"concern","excerpt":"Restores are untested."}`)},
		wantJSON: substance{Text: "Ada raised a concern", URL: link + "#t-th2", Excerpt: "Restores are untested.", Document: doc},
		wantSlack: `{"text":"<` + link + `#t-th2|Storage plan>: Ada raised a concern","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Ada raised a concern on <` + link + `#t-th2|Storage plan>"}},` +
			`{"type":"section","text":{"type":"mrkdwn","text":"> Restores are untested."}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*"}]}]}`,
	}, {
		name: "decision",
		ev: docket.Event{Type: docket.EventDocTransitioned, ActorID: "ada1",
			Data: json.RawMessage(`{"from":"last-call","to":"accepted","reviewers":["bob1"],"summary":"Ship it.\nBackups first.","round":1}`)},
		wantJSON: substance{Text: "Ada accepted it", URL: link, Summary: "Ship it.\nBackups first.", Reviewers: []payloadActor{bob}, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: Ada accepted it","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Ada accepted <` + link + `|Storage plan>"}},` +
			`{"type":"section","text":{"type":"mrkdwn","text":"> Ship it.\n> Backups first."}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  Reviewers: Bob"}]}]}`,
	}, {
		name: "last call",
		ev: docket.Event{Type: docket.EventDocTransitioned, ActorID: "ada1",
			Data: json.RawMessage(`{"from":"review","to":"last-call","due":"2026-12-04T09:00:00Z","reviewers":["bob1","carol1"]}`)},
		wantJSON: substance{Text: "Ada started the last call", URL: link, Due: &due, Reviewers: []payloadActor{bob, carol}, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: Ada started the last call","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Ada started the last call on <` + link + `|Storage plan>"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  ` + dueCtx + `  ·  Reviewers: Bob, Carol"}]}]}`,
	}, {
		name: "due soon",
		ev: docket.Event{Type: docket.EventDocDueSoon,
			Data: json.RawMessage(`{"status":"review","due":"2026-12-04T09:00:00Z","reviewers":["bob1","carol1"],"waiting":["carol1"],"ownerId":"ada1"}`)},
		wantJSON: substance{Text: "The review ends within a day", URL: link, Due: &due, Reviewers: []payloadActor{bob, carol}, WaitingOn: []payloadActor{carol}, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: The review ends within a day","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"The review of <` + link + `|Storage plan> ends within a day"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  ` + dueCtx + `  ·  Reviewers: Bob, Carol  ·  Waiting on: Carol"}]}]}`,
	}, {
		name: "last call over",
		ev: docket.Event{Type: docket.EventDocOverdue,
			Data: json.RawMessage(`{"status":"last-call","due":"2026-12-04T09:00:00Z","reviewers":["bob1"],"waiting":[],"ownerId":"ada1","decisionDue":true}`)},
		wantJSON: substance{Text: "The last call ended; a decision is due", URL: link, Due: &due, Reviewers: []payloadActor{bob}, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: The last call ended; a decision is due","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"The last call on <` + link + `|Storage plan> ended; a decision is due"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  ` + dueCtx + `  ·  Reviewers: Bob"}]}]}`,
	}, {
		name: "action overdue",
		ev: docket.Event{Type: docket.EventActionOverdue,
			Data: json.RawMessage(`{"text":"write the restore drill","userId":"bob1","due":"2026-12-04T09:00:00Z","line":3,"daysOverdue":2}`)},
		wantJSON: substance{Text: "Bob's action item is overdue", URL: link, Excerpt: "write the restore drill", Due: &due, Assignee: &bob, Document: doc},
		wantSlack: `{"text":"<` + link + `|Storage plan>: Bob's action item is overdue","blocks":[` +
			`{"type":"section","text":{"type":"mrkdwn","text":"Bob's action item on <` + link + `|Storage plan> is overdue"}},` +
			`{"type":"section","text":{"type":"mrkdwn","text":"> write the restore drill"}},` +
			`{"type":"context","elements":[{"type":"mrkdwn","text":"Space: *Eng &amp; Ops*  ·  ` + dueCtx + `"}]}]}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			ev.Seq, ev.SpaceID, ev.DocID, ev.Title = 9, "sp1", "doc1", "Storage plan"
			tk := task(1, "https://hooks.example.com", docket.WebhookJSON, &ev)
			if ev.ActorID == "" {
				tk.ActorName = ""
			}
			tk.SpaceName = "Eng & Ops"
			tk.Names = map[string]string{"bob1": "Bob", "carol1": "Carol"}
			body, err := Payload(tk, "https://docs.example.com")
			if err != nil {
				t.Fatal(err)
			}
			var got substance
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantJSON, got); diff != "" {
				t.Errorf("json payload (-want +got):\n%s\n%s", diff, body)
			}
			tk.Hook.Format = docket.WebhookSlack
			body, err = Payload(tk, "https://docs.example.com")
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.wantSlack {
				t.Errorf("slack payload\n got %s\nwant %s", body, tc.wantSlack)
			}
			if !json.Valid(body) {
				t.Errorf("slack payload is not JSON: %s", body)
			}
		})
	}
}

// TestSlackLongSummary: a section's text stays under Slack's limit.
func TestSlackLongSummary(t *testing.T) {
	ev := &docket.Event{Type: docket.EventDocTransitioned, DocID: "d", Title: "T",
		Data: json.RawMessage(`{"from":"review","to":"declined","summary":"` + strings.Repeat("word ", 2000) + `"}`)}
	var p slackPayload
	body, _ := Payload(task(1, "https://x", docket.WebhookSlack, ev), "https://b")
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Blocks) < 2 || len([]rune(p.Blocks[1].Text.Text)) > 3000 || !strings.HasSuffix(p.Blocks[1].Text.Text, "…") {
		t.Errorf("blocks %+v", p.Blocks)
	}
}
