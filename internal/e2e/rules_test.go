package e2e_test

import (
	"strings"
	"time"

	"testing"
)

// TestWebAppAmended: a document edited after its decision shows the
// banner with the number of changes, and its link opens the diff since
// the decision; the owner amends it with the page's form, which opens
// round 2 and keeps round 1.
func TestWebAppAmended(t *testing.T) {
	s := newSite(t)
	b := browser(t)
	shots := shotDir(t)
	ada, bob := s.person(b, "Ada", shots), s.person(b, "Bob", shots)
	ada.signup()
	bob.signup()
	ada.api("POST", "/api/spaces", `{"slug": "eng", "name": "Engineering"}`)
	ada.api("POST", "/api/spaces/eng/members", `{"email": "bob@example.com", "role": "editor"}`)
	ada.api("PATCH", "/api/spaces/eng/rules", `{"requireLastCall": false}`)
	created := ada.api("POST", "/api/docs", `{"space": "eng", "kind": "rfc", "body": "# Backups\n\nNightly, kept for a month.\n"}`)
	doc := jsonID(t, created)
	due := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	ada.api("POST", "/api/docs/"+doc+"/transition", `{"to": "review", "due": "`+due+`", "reviewers": ["bob@example.com"]}`)
	bob.api("POST", "/api/docs/"+doc+"/reviews", `{"verdict": "approve"}`)
	ada.api("POST", "/api/docs/"+doc+"/transition", `{"to": "accepted", "decision": {"summary": "Nightly it is."}}`)
	ada.api("POST", "/api/docs/"+doc+"/edits", `{"version": 1, "body": "# Backups\n\nNightly, kept for a month.\n\nRestores are tested weekly.\n"}`)

	bob.openDoc(doc)
	bob.waitJS(contains(".amended-banner", "Edited after the decision: 2 lines changed, see them."), wait)
	bob.screenshot("banner", true)
	if got := bob.text("#review .reviewers"); !strings.Contains(got, "Approved") || strings.Contains(got, "does not count") {
		t.Errorf("reviewers of the decided document = %q; want Bob approved, without a stale note", got)
	}
	bob.click(".amended-banner a")
	bob.waitJS(`location.pathname.endsWith("/history") && location.search === "?from=1&to=2"`, wait)
	bob.waitJS(contains("main", "Restores are tested weekly."), wait)
	bob.screenshot("diff")

	ada.openDoc(doc)
	ada.submitForm(`form:has(input[name="amend"]) button[type="submit"]`, nil)
	ada.waitJS(statusJS+` === "Review" && `+contains("#review .earlier-decisions", "Round 1: Accepted by Ada"), wait)
	if got := ada.text("#doc-head"); strings.Contains(got, "Edited after the decision") {
		t.Errorf("head in round 2 = %q; want no banner", got)
	}
	ada.screenshot("round-2")
}
