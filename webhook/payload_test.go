package webhook

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/google/go-cmp/cmp"
)

// goldenTask is the task of a delivery of ev in the space "Eng & Ops",
// whose data names Bob and Carol.
func goldenTask(ev *docket.Event) *docket.WebhookTask {
	tk := task(1, "https://hooks.example.com", docket.WebhookJSON, ev)
	if ev.ActorID == "" {
		tk.ActorName = ""
	}
	tk.SpaceName = "Eng & Ops"
	tk.Names = map[string]string{"bob1": "Bob", "carol1": "Carol"}
	return tk
}

// TestPayloads builds the json and Slack payloads of each kind of event
// that says something (testdata/payloads.json: the event, and the json
// payload without the event, and the Slack payload that a receiver
// should get) and compares them.
func TestPayloads(t *testing.T) {
	raw, err := os.ReadFile("testdata/payloads.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name  string
		Event docket.Event
		JSON  map[string]any
		Slack map[string]any
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 8 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			tk := goldenTask(&tc.Event)
			for _, format := range []docket.WebhookFormat{docket.WebhookJSON, docket.WebhookSlack} {
				tk.Hook.Format = format
				body, err := Payload(tk, "https://docs.example.com")
				if err != nil {
					t.Fatal(err)
				}
				var got map[string]any
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("%s payload %s: %v", format, body, err)
				}
				want := tc.Slack
				if format == docket.WebhookJSON {
					want = tc.JSON
					delete(got, "event")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s payload (-want +got):\n%s\n%s", format, diff, body)
				}
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
