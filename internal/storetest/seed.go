package storetest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/testenv"
	"golang.org/x/crypto/bcrypt"
)

// SeedEdits is the number of live ops Seed commits on every document.
const SeedEdits = 60

// SeedFile writes a data file at path filled by Seed with n documents of
// the Go proposals corpus, closes it and returns the ids of its documents.
// Without the corpus the test ends through testenv.Missing.
func SeedFile(tb testing.TB, path string, n int) []string {
	tb.Helper()
	dir := testenv.Corpus(tb, "go-proposals")
	db := bolt.NewDB(path)
	db.PasswordCost = bcrypt.MinCost
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	ids := Seed(tb, db, dir, n)
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// Seed fills db as a store in use holds data, for the tests of copying
// one store into another: the first n markdown files of dir (by name) as
// documents of the space "eng", each with SeedEdits live ops, an anchored
// thread mentioning Bob on every third (an inbox item and a queued mail),
// a webhook with a delivery of every event, and the first document
// reviewed, approved and accepted, with frozen minutes. It returns the
// ids of the documents in the order of the files.
func Seed(tb testing.TB, db *bolt.DB, dir string, n int) []string {
	tb.Helper()
	s := NewServices(db)
	ctx := context.Background()
	check := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	newUser := func(name string) (context.Context, *docket.User) {
		u, err := s.Users.CreateUser(ctx, docket.UserCreate{Name: name, Email: strings.ToLower(name) + "@example.com", Password: "long enough"})
		check(err)
		return docket.NewContextWithUser(ctx, u), u
	}
	ada, adaUser := newUser("Ada")
	bob, bobUser := newUser("Bob")
	_, err := s.Spaces.CreateSpace(ada, "eng", "Engineering")
	check(err)
	_, err = s.Spaces.SetMember(ada, "eng", bobUser.ID, docket.RoleEditor)
	check(err)
	_, err = s.Spaces.SetDecisionRules(ada, "eng", docket.DecisionRules{MinApprovals: 1})
	check(err)
	check(db.SetMail(ctx, true))
	_, _, err = s.Webhooks.CreateWebhook(ada, docket.WebhookCreate{Space: "eng", URL: "https://hooks.example.com/docket"})
	check(err)

	entries, err := os.ReadDir(dir)
	check(err)
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".md") {
			files = append(files, e.Name())
		}
	}
	slices.Sort(files)
	if len(files) < n {
		tb.Fatalf("%s has %d markdown files; want %d", dir, len(files), n)
	}
	var ids []string
	for i, name := range files[:n] {
		body, err := os.ReadFile(filepath.Join(dir, name))
		check(err)
		d, err := s.Docs.CreateDocument(ada, docket.DocumentCreate{Space: "eng", Title: strings.TrimSuffix(name, ".md"), Body: string(body), Kind: docket.KindRFC})
		check(err)
		ids = append(ids, d.ID)
		// Live ops, committed in one group as the hub does.
		text, commits := d.Body, make([]docket.OpCommit, 0, SeedEdits)
		for v := d.Version; v < d.Version+SeedEdits; v++ {
			op, _ := json.Marshal([]any{utf8.RuneCountInString(text), "."})
			text += "."
			commits = append(commits, docket.OpCommit{DocID: d.ID, Text: text, Rec: docket.OpRecord{Version: v, Src: "seed", Seq: v, Author: adaUser.ID, Time: time.Now(), Op: op}})
		}
		check(s.Ops.CommitOps(ctx, commits))
		if i%3 == 0 {
			_, err := s.Threads.CreateThread(ada, docket.ThreadCreate{DocID: d.ID, Anchor: &docket.Anchor{Version: 1, Start: 0, End: 10}, Body: "@bob is this still right?"})
			check(err)
		}
	}
	_, err = s.Decisions.Transition(ada, ids[0], docket.Transition{To: docket.StatusReview, Due: time.Now().Add(7 * 24 * time.Hour), Reviewers: []string{bobUser.ID}})
	check(err)
	_, err = s.Decisions.AddReview(bob, docket.ReviewCreate{DocID: ids[0], Verdict: docket.VerdictApprove})
	check(err)
	lc, err := s.Decisions.Transition(ada, ids[0], docket.Transition{To: docket.StatusAccepted, Summary: "Accepted as proposed."})
	check(err)
	if lc.Decision == nil || lc.Decision.MinutesID == "" {
		tb.Fatalf("seeded decision %+v has no frozen minutes", lc.Decision)
	}
	return ids
}
