package bolt_test

import (
	"testing"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/webhook"
	gocmp "github.com/google/go-cmp/cmp"
)

// TestCreateWebhookValidation checks what CreateWebhook accepts, with
// the receiver URL policy cmd/docket gives it (webhook.CheckURL).
func TestCreateWebhookValidation(t *testing.T) {
	db := mustOpenDB(t)
	hooks := bolt.NewWebhookService(db, webhook.CheckURL)
	ada := seed(t, db) // an admin of the space eng
	for _, tc := range []struct {
		name    string
		wc      docket.WebhookCreate
		private bool
		code    string
	}{
		{"ok", docket.WebhookCreate{URL: "https://example.com/h"}, false, ""},
		{"ftp", docket.WebhookCreate{URL: "ftp://example.com/h"}, false, docket.EINVALID},
		{"loopback", docket.WebhookCreate{URL: "http://127.0.0.1:8080/h"}, false, docket.EINVALID},
		{"metadata", docket.WebhookCreate{URL: "http://169.254.169.254/"}, false, docket.EINVALID},
		{"loopback allowed", docket.WebhookCreate{URL: "http://127.0.0.1:8080/h"}, true, ""},
		{"format", docket.WebhookCreate{URL: "https://example.com", Format: "xml"}, false, docket.EINVALID},
		{"event", docket.WebhookCreate{URL: "https://example.com", Events: []docket.EventType{"doc.exploded"}}, false, docket.EINVALID},
		{"slack", docket.WebhookCreate{URL: "https://example.com", Format: docket.WebhookSlack, Events: []docket.EventType{docket.EventDocCreated}}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hooks.AllowPrivate = tc.private
			tc.wc.Space = "eng"
			_, _, err := hooks.CreateWebhook(ada, tc.wc)
			wantCode(t, "CreateWebhook", err, tc.code)
		})
	}
	hooks.AllowPrivate = false
	h, _, err := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://example.com",
		Events: []docket.EventType{docket.EventDocCreated, docket.EventDocCreated, docket.EventDocEdited}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff([]docket.EventType{docket.EventDocCreated, docket.EventDocEdited}, h.Events); diff != "" || h.Format != docket.WebhookJSON || !h.Active {
		t.Errorf("webhook %+v; events (-want +got):\n%s", h, diff)
	}
	for {
		_, _, err := hooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://example.com"})
		if err != nil {
			wantCode(t, "too many", err, docket.ECONFLICT)
			break
		}
	}
	if list, _ := hooks.FindWebhooks(ada, "eng"); len(list) != docket.MaxWebhooksPerSpace {
		t.Errorf("%d webhooks; want %d", len(list), docket.MaxWebhooksPerSpace)
	}
}
