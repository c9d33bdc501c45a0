package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/export"
	"github.com/docket-dev/docket/markdown"
)

// scriptRFC writes into db (which has Ada) an RFC with every kind of
// record: versions, tags, threads with anchors and replies, a resolved
// thread, reviews with a concern, a hand-off, transitions through review
// and last call to accepted with frozen minutes, an action item and a
// recorded live session. Cy, who writes one thread, is the author the
// target server will not know.
func scriptRFC(t *testing.T, db *bolt.DB) {
	t.Helper()
	sys := docket.NewSystemContext(context.Background())
	users := bolt.NewUserService(db)
	ada, err := users.FindUserByEmail(sys, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	as := func(u *docket.User) context.Context { return docket.NewContextWithUser(context.Background(), u) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	newUser := func(name, email string) *docket.User {
		u, err := users.CreateUser(sys, docket.UserCreate{Name: name, Email: email, Password: "long enough"})
		must(err)
		return u
	}
	bob, cy := newUser("Bob", "bob@example.com"), newUser("Cy Twombly", "cy@example.com")
	spaces := bolt.NewSpaceService(db)
	_, err = spaces.CreateSpace(as(ada), "rfcs", "RFCs")
	must(err)
	// Rules other than the defaults, which the export must keep: no minimum
	// last call, and acceptance need not wait for one; an owner who may
	// approve (Bob approves, then the document is handed to him).
	_, err = spaces.SetDecisionRules(as(ada), "rfcs", docket.DecisionRules{
		MinLastCallSeconds: 0, RequireLastCall: false, MinApprovals: 1, OwnerMayApprove: true, ApprovalsResetOnChange: true,
	})
	must(err)
	_, err = spaces.SetMember(as(ada), "rfcs", bob.ID, docket.RoleEditor)
	must(err)
	_, err = spaces.SetMember(as(ada), "rfcs", cy.ID, docket.RoleCommenter)
	must(err)

	docs := bolt.NewDocumentService(db)
	renderer := markdown.New(markdown.Options{})
	threads := bolt.NewThreadService(db, renderer, markdown.Mentions)
	actions := bolt.NewActionService(db, markdown.ActionItems)
	decisions := bolt.NewDecisionService(db, renderer, bolt.NewMinutesService(db, actions, markdown.Minutes))
	body := "# Summary\n\nFeature Name: `shared_cache`\n\nWe share one cache.\n"
	d, err := docs.CreateDocument(as(ada), docket.DocumentCreate{Space: "rfcs", Title: "Shared cache", Body: body, Kind: docket.KindRFC, Tags: []string{"cache", "perf"}})
	must(err)
	for _, add := range []string{"\n## Motivation\n\nIt is slow.\n", "\n- [ ] @bob write the migration plan due:2026-12-01\n"} {
		body += add
		cur, err := docs.FindDocumentByID(as(ada), d.ID)
		must(err)
		_, err = docs.EditDocument(as(bob), d.ID, docket.Edit{Version: cur.Version, Body: &body})
		must(err)
	}
	must(actions.Refresh(sys, d.ID))
	cur, err := docs.FindDocumentByID(as(ada), d.ID)
	must(err)
	anchored, err := threads.CreateThread(as(bob), docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: cur.Version, Start: 2, End: 9}, Body: "Why *summary*?"})
	must(err)
	_, err = threads.AddComment(as(ada), anchored.ID, "The template says so.")
	must(err)
	_, err = threads.ResolveThread(as(bob), anchored.ID, "Fair.")
	must(err)
	_, err = threads.CreateThread(as(cy), docket.ThreadCreate{DocID: d.ID, Body: "What about eviction?"})
	must(err)

	now := time.Now()
	_, err = decisions.Transition(as(ada), d.ID, docket.Transition{To: docket.StatusReview, Due: now.Add(48 * time.Hour), Reviewers: []string{bob.ID}})
	must(err)
	concern, err := decisions.AddReview(as(bob), docket.ReviewCreate{DocID: d.ID, Verdict: docket.VerdictConcern, Body: "Eviction is unclear."})
	must(err)
	_, err = threads.ResolveThread(as(ada), concern.ThreadID, "Eviction is LRU now.")
	must(err)
	_, err = decisions.AddReview(as(bob), docket.ReviewCreate{DocID: d.ID, Verdict: docket.VerdictApprove})
	must(err)
	_, err = decisions.SetOwner(as(ada), d.ID, bob.ID)
	must(err)
	_, err = decisions.Transition(as(ada), d.ID, docket.Transition{To: docket.StatusLastCall, Due: now.Add(24 * time.Hour)})
	must(err)
	start := now.Add(-time.Hour).UTC().Truncate(time.Second)
	must(bolt.NewRecordingService(db).SaveRecording(sys, &docket.Recording{
		DocID: d.ID, StartedAt: start, EndedAt: start.Add(20 * time.Minute), StartVersion: 1, EndVersion: 3,
		Participants: []docket.RecordingParticipant{{UserID: ada.ID, JoinedAt: start, Joins: 1, Ops: 1}, {UserID: bob.ID, JoinedAt: start, Joins: 1, Ops: 2}},
	}))
	_, err = decisions.Transition(as(ada), d.ID, docket.Transition{To: docket.StatusAccepted, Summary: "Bob approved; eviction settled."})
	must(err)
}

// knownIDs returns the ids an export gives its records, in the order
// they first appear in its files, read in manifest order.
func readExport(t *testing.T, dir string) (string, []string) {
	t.Helper()
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	var m export.Manifest
	manifest := read("manifest.json")
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, u := range m.Users {
		ids[u.ID] = true
	}
	var all strings.Builder
	all.WriteString(manifest)
	for _, s := range m.Spaces {
		ids[s.ID] = true
		all.WriteString(read(s.Record))
	}
	for _, e := range m.Documents {
		var rec docket.DocumentRecord
		text := read(e.Record)
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			t.Fatal(err)
		}
		for _, id := range rec.OwnIDs() {
			ids[id] = true
		}
		all.WriteString("== " + e.Path + "\n" + read(e.Path) + "== " + e.Record + "\n" + text)
	}
	var order []string
	seen := map[string]bool{}
	for _, tok := range idToken.FindAllString(all.String(), -1) {
		if ids[tok] && !seen[tok] {
			seen[tok] = true
			order = append(order, tok)
		}
	}
	return all.String(), order
}

var (
	idToken      = regexp.MustCompile(`[a-z0-9]{16}`)
	exportedLine = regexp.MustCompile(`"(exportedAt|docketVersion)": "[^"]*"`)
	// minutesText matches the frozen minutes, which keep the ids they
	// were frozen with: they are compared byte for byte instead.
	minutesText = regexp.MustCompile(`"markdown": "(?:[^"\\]|\\.)*"`)
)

// normalized returns an export's files in manifest order with its ids
// numbered by first appearance and without its export time.
func normalized(t *testing.T, dir string) string {
	text, ids := readExport(t, dir)
	pairs := []string{}
	for i, id := range ids {
		pairs = append(pairs, id, "ID"+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	text = minutesText.ReplaceAllString(text, `"markdown": "-"`)
	return exportedLine.ReplaceAllString(strings.NewReplacer(pairs...).Replace(text), `"$1": "-"`)
}

func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcData, dstData := t.TempDir(), t.TempDir()
	src := openTestDataAt(t, dbPath(srcData))
	scriptRFC(t, src)
	src.Close()
	dst := openTestDataAt(t, dbPath(dstData))
	dst.Close()

	first, second := t.TempDir(), t.TempDir()
	var out bytes.Buffer
	for _, args := range [][]string{
		{"export", first, "--data", srcData},
		{"import", first, "--data", dstData},
		{"export", second, "--data", dstData},
	} {
		if err := run(ctx, args, nil, &out, &out); err != nil {
			t.Fatalf("docket %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	if got, want := normalized(t, second), normalized(t, first); got != want {
		t.Errorf("export after import differs from the first export:\n%s", lineDiff(want, got))
	}
	// The same export downloaded as a .tar.gz imports the same.
	tgz, tgzData, third := filepath.Join(t.TempDir(), "rfcs.tar.gz"), t.TempDir(), t.TempDir()
	tarDir(t, first, tgz)
	openTestDataAt(t, dbPath(tgzData)).Close()
	for _, args := range [][]string{{"import", tgz, "--data", tgzData}, {"export", third, "--data", tgzData}} {
		if err := run(ctx, args, nil, &out, &out); err != nil {
			t.Fatalf("docket %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	if got, want := normalized(t, third), normalized(t, first); got != want {
		t.Errorf("export after importing the .tar.gz differs from the first export:\n%s", lineDiff(want, got))
	}

	text, _ := readExport(t, first)
	text2, _ := readExport(t, second)
	if got, want := minutesText.FindAllString(text2, -1), minutesText.FindAllString(text, -1); len(want) != 1 || !slices.Equal(got, want) {
		t.Errorf("frozen minutes after the import:\n%q\nwant one, byte-equal to before:\n%q", got, want)
	}
	for _, want := range []string{
		`"status": "resolved"`, `"verdict": "concern"`, `"outcome": "accepted"`, `"liveSessions": [`,
		`write the migration plan`, `"quote": "Summary"`, "title: \"Shared cache\"", `owner: "bob@example.com"`,
		`decision: "Bob approved; eviction settled."`, `"type": "doc.transitioned"`, `"markdown": "`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the first export lacks %s", want)
		}
	}

	dst = bolt.NewDB(dbPath(dstData))
	if err := dst.Open(); err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	sys := docket.NewSystemContext(ctx)
	// The history replays, the threads find their anchors, and the
	// document takes new edits where it left off.
	docs := bolt.NewDocumentService(dst)
	list, _, err := docs.FindDocuments(sys, docket.DocumentFilter{Space: "rfcs"})
	if err != nil || len(list) != 1 {
		t.Fatalf("imported documents: %v %v", list, err)
	}
	d, err := docs.FindDocumentByID(sys, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if v1, err := docs.DocumentAt(sys, d.ID, 1); err != nil || !strings.HasPrefix(d.Body, v1) || v1 == d.Body {
		t.Errorf("version 1 = %q, %v; want the first text, a prefix of %q", v1, err, d.Body)
	}
	if d.Version != 3 || d.Status != docket.StatusAccepted || d.Decision == nil {
		t.Errorf("imported document = v%d %s decision %v; want v3, accepted with its decision", d.Version, d.Status, d.Decision)
	}
	ths, err := bolt.NewThreadService(dst, markdown.New(markdown.Options{}), markdown.Mentions).FindThreads(sys, d.ID, docket.ThreadFilter{})
	if err != nil || len(ths) != 3 {
		t.Fatalf("imported threads = %d, %v; want 3", len(ths), err)
	}
	body := "# Shared cache\n\n" + d.Body
	ada, err := bolt.NewUserService(dst).FindUserByEmail(sys, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := docs.EditDocument(docket.NewContextWithUser(ctx, ada), d.ID, docket.Edit{Version: d.Version, Body: &body}); err != nil {
		t.Errorf("editing the imported document: %v", err)
	}
	cy, err := bolt.NewUserService(dst).FindUserByEmail(sys, "cy@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !cy.Deactivated || cy.Name != "Cy Twombly" {
		t.Errorf("Cy after the import = %+v; want a deactivated account named Cy Twombly", cy)
	}
	dst.Close()
	out.Reset()
	if err := run(ctx, []string{"user", "list", "--data", dstData}, nil, &out, &out); err != nil || !regexp.MustCompile(`Cy Twombly +cy@example.com +member \(deactivated\)`).MatchString(out.String()) {
		t.Errorf("docket user list: %v\n%s\nwant Cy shown as deactivated", err, out.String())
	}
	if err := dst.Open(); err != nil {
		t.Fatal(err)
	}
	_, err = bolt.NewUserService(dst).Authenticate(ctx, "cy@example.com", "long enough")
	if got, want := docket.ErrorCode(err), docket.EFORBIDDEN; got != want || !strings.Contains(docket.ErrorMessage(err), "deactivated") {
		t.Errorf("Cy signing in: %v (%s); want %s saying the account is deactivated", err, got, want)
	}
}

// lineDiff returns the lines of a and b from the first that differs, a
// few of each.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	part := func(l []string) string { return strings.Join(l[i:min(len(l), i+8)], "\n") }
	return fmt.Sprintf("line %d:\n--- first export\n%s\n--- second export\n%s", i+1, part(al), part(bl))
}

// tarDir writes the files under dir as a .tar.gz at file.
func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink := export.NewTarSink(f, time.Now())
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		return sink.Put(filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}
