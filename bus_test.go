package docket_test

import (
	"strings"
	"testing"

	docket "github.com/docket-dev/docket"
)

func TestCheckSubject(t *testing.T) {
	tests := []struct {
		subject string
		want    string // the error code, "" for valid
	}{
		{"doc", ""},
		{"doc.k3j2h1.ops", ""},
		{"A-b_9.x", ""},
		{strings.Repeat("a", docket.MaxSubjectLength), ""},
		{"", docket.EINVALID},
		{strings.Repeat("a", docket.MaxSubjectLength+1), docket.EINVALID},
		{"doc ops", docket.EINVALID},
		{"doc.*", docket.EINVALID},
		{"doc.>", docket.EINVALID},
		{"doc..ops", docket.EINVALID},
		{".doc", docket.EINVALID},
		{"doc.", docket.EINVALID},
		{"doc\tops", docket.EINVALID},
		{"doc/ops", docket.EINVALID},
		{"dóc", docket.EINVALID},
	}
	for _, tc := range tests {
		err := docket.CheckSubject(tc.subject)
		if got := docket.ErrorCode(err); got != tc.want {
			t.Errorf("CheckSubject(%q) = %v; want code %q", tc.subject, err, tc.want)
		}
		if err != nil && !strings.Contains(docket.ErrorMessage(err), "Bus subject") {
			t.Errorf("CheckSubject(%q) message %q does not say what is wrong", tc.subject, docket.ErrorMessage(err))
		}
	}
}
