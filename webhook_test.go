package docket_test

import (
	"testing"

	docket "github.com/docket-dev/docket"
)

func TestWebhookWants(t *testing.T) {
	all := &docket.Webhook{Active: true}
	some := &docket.Webhook{Active: true, Events: []docket.EventType{docket.EventDocCreated}}
	off := &docket.Webhook{}
	for _, tc := range []struct {
		h    *docket.Webhook
		t    docket.EventType
		want bool
	}{
		{all, docket.EventCommentCreated, true},
		{some, docket.EventDocCreated, true},
		{some, docket.EventDocEdited, false},
		{off, docket.EventDocCreated, false},
	} {
		if got := tc.h.Wants(tc.t); got != tc.want {
			t.Errorf("%+v.Wants(%s) = %v; want %v", tc.h, tc.t, got, tc.want)
		}
	}
}
