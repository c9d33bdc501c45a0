package server_test

import (
	"net/http"
	"testing"
)

func TestDocTask(t *testing.T) {
	e, ada, space := adaSpace(t)
	callers := roleCallers(e, ada, space)
	body := "# Plan\n\n- [ ] @ada write the plan\n- [x] book a room\n\nPlain line\n"
	id := ada.createDoc(space, "Plan", body)
	path := "/api/docs/" + id + "/tasks"

	// Ada ticks line 3 at version 1; Bob's edit lands first above it.
	ada.must(http.StatusOK, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": 1, "op": []any{8, "Intro.\n\n"}})
	r := ada.must(http.StatusOK, "POST", path, map[string]any{"line": 3, "version": 1, "done": true})
	if got, want := r.str("body"), "# Plan\n\nIntro.\n\n- [x] @ada write the plan\n- [x] book a room\n\nPlain line\n"; got != want {
		t.Fatalf("after the tick, body = %q; want %q", got, want)
	}
	eventually(t, "the first action item done, at line 5", func() bool {
		got := ada.actions(id)
		return len(got) == 2 && got[0].Done && got[0].Line == 5 && got[1].Done
	})
	v := r.num("version")

	// Unticking at the current version; ticking again what is ticked changes nothing.
	r = callers["editor"].must(http.StatusOK, "POST", path, map[string]any{"line": 6, "done": false})
	if got, want := r.str("body"), "# Plan\n\nIntro.\n\n- [x] @ada write the plan\n- [ ] book a room\n\nPlain line\n"; got != want {
		t.Fatalf("after the untick, body = %q; want %q", got, want)
	}
	if got, want := r.num("version"), v+1; got != want {
		t.Errorf("version after the untick = %d; want %d", got, want)
	}
	if got, want := ada.must(http.StatusOK, "POST", path, map[string]any{"line": 5, "done": true}).num("version"), v+1; got != want {
		t.Errorf("version after ticking a ticked line = %d; want %d (no op)", got, want)
	}

	// A line deleted after the version the click was made at.
	cur := ada.must(http.StatusOK, "GET", "/api/docs/"+id, nil).num("version")
	ada.must(http.StatusOK, "POST", "/api/docs/"+id+"/edits", map[string]any{"version": cur, "body": "# Plan\n\nIntro.\n\n- [x] @ada write the plan\n\nPlain line\n"})

	for _, tc := range []struct {
		name, caller string
		req          any
		status       int
		code         string
	}{
		{"not a task line", "admin", map[string]any{"line": 1, "done": true}, http.StatusConflict, "conflict"},
		{"line changed meanwhile", "editor", map[string]any{"line": 6, "version": cur, "done": true}, http.StatusConflict, "conflict"},
		{"past the end", "editor", map[string]any{"line": 99, "done": true}, http.StatusBadRequest, "invalid"},
		{"line 0", "editor", map[string]any{"line": 0, "done": true}, http.StatusBadRequest, "invalid"},
		{"no done", "editor", map[string]any{"line": 5}, http.StatusBadRequest, "invalid"},
		{"future version", "editor", map[string]any{"line": 5, "version": 9999, "done": true}, http.StatusConflict, "conflict"},
		{"commenter", "commenter", map[string]any{"line": 5, "done": false}, http.StatusForbidden, "forbidden"},
		{"viewer", "viewer", map[string]any{"line": 5, "done": false}, http.StatusForbidden, "forbidden"},
		{"outsider", "outsider", map[string]any{"line": 5, "done": false}, http.StatusNotFound, "not_found"},
		{"anonymous", "anonymous", map[string]any{"line": 5, "done": false}, http.StatusUnauthorized, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callers[tc.caller].do("POST", path, tc.req)
			if r.status != tc.status || r.errCode() != tc.code {
				t.Errorf("POST tasks %v as %s = %d %s; want %d %s", tc.req, tc.caller, r.status, r.raw, tc.status, tc.code)
			}
		})
	}
	if got, want := ada.must(http.StatusOK, "GET", "/api/docs/"+id, nil).str("body"), "# Plan\n\nIntro.\n\n- [x] @ada write the plan\n\nPlain line\n"; got != want {
		t.Errorf("body after the refused ticks = %q; want %q", got, want)
	}
}
