package bolt_test

import (
	"context"
	"sync"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/bolt"
	"github.com/docket-dev/docket/internal/membus"
)

// twoNodes returns two DBs on one engine, told of each other's commits
// over an in-memory bus: a cluster in one process.
func twoNodes(t *testing.T) (a, b *bolt.DB, net *membus.Network) {
	t.Helper()
	a = bolt.OpenTestDB(t)
	b = bolt.NewDB("")
	b.PasswordCost = a.PasswordCost
	if err := b.OpenStore(a.Store()); err != nil {
		t.Fatal(err)
	}
	net = membus.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, db := range []*bolt.DB{a, b} {
		if err := db.SetBus(ctx, net.Node(), nil); err != nil {
			t.Fatal(err)
		}
	}
	return a, b, net
}

// TestClusterNotes: a node's watchers hear of the commits of another, and
// what a node cached ends with a commit elsewhere: at once when the note
// arrives, within a second when it was lost.
func TestClusterNotes(t *testing.T) {
	a, b, net := twoNodes(t)
	var mu sync.Mutex
	var changes []docket.Change
	var events []docket.EventType
	b.OnChange(func(ch docket.Change) { mu.Lock(); changes = append(changes, ch); mu.Unlock() })
	b.OnEvent(func(ev docket.Event) { mu.Lock(); events = append(events, ev.Type); mu.Unlock() })

	usersA, usersB := bolt.NewUserService(a), bolt.NewUserService(b)
	ctx := context.Background()
	ada, err := usersA.CreateUser(ctx, docket.UserCreate{Name: "Ada", Email: "ada@example.com", Password: "long enough"})
	if err != nil {
		t.Fatal(err)
	}
	asAda := docket.NewContextWithUser(ctx, ada)
	if _, err := bolt.NewSpaceService(a).CreateSpace(asAda, "eng", "Eng"); err != nil {
		t.Fatal(err)
	}
	d, err := bolt.NewDocumentService(a).CreateDocument(asAda, docket.DocumentCreate{Space: "eng", Title: "Plan", Body: "text"})
	if err != nil {
		t.Fatal(err)
	}
	net.Settle()
	mu.Lock()
	gotChange := len(changes) > 0 && changes[len(changes)-1].DocID == d.ID
	gotEvent := len(events) > 0 && events[len(events)-1] == docket.EventDocCreated
	mu.Unlock()
	if !gotChange || !gotEvent {
		t.Errorf("node b heard changes %v and events %v, want the creation of %s", changes, events, d.ID)
	}

	for _, tc := range []struct {
		name string
		lose bool
		by   time.Duration
	}{{"note arrives", false, 0}, {"note lost", true, 1500 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			secret, tok, err := usersA.CreateToken(asAda, "ci")
			if err != nil {
				t.Fatal(err)
			}
			net.Settle()
			if _, err := usersB.FindUserByToken(ctx, secret); err != nil { // cached on b
				t.Fatalf("token on node b: %v", err)
			}
			net.Drop(func(string, []byte) bool { return tc.lose })
			defer net.Drop(nil)
			if err := usersA.DeleteToken(asAda, tok.ID); err != nil {
				t.Fatal(err)
			}
			net.Settle()
			start, deadline := time.Now(), time.Now().Add(tc.by)
			for {
				_, err := usersB.FindUserByToken(ctx, secret)
				if docket.ErrorCode(err) == docket.EUNAUTHORIZED {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node b still takes the deleted token after %v: %v", tc.by, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if tc.lose && time.Since(start) < 100*time.Millisecond {
				t.Errorf("refused after %v although the note was lost: the cache was not used", time.Since(start))
			}
		})
	}
}
