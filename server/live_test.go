package server_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/internal/testenv"
	"github.com/docket-dev/docket/server"
)

// liveEnv is a server with a space, an editor (Ada, its admin) and a
// document.
func liveEnv(t *testing.T, body string, cfg ...func(*server.Config)) (*env, *client, string) {
	t.Helper()
	e, ada, _ := adaSpace(t, cfg...)
	doc := ada.createDoc("eng", "Live", body)
	return e, ada, doc
}

// joinBob gives Bob role in Ada's space and returns him with Ada's and
// his sockets, both handshaken.
func joinBob(t *testing.T, e *env, ada *client, role docket.SpaceRole) (bob *client, a, b *wsClient) {
	t.Helper()
	bob = e.signup("Bob")
	ada.addMember("eng", bob, role)
	a, b = ada.live(), bob.live()
	a.handshake(nil)
	b.handshake(nil)
	return bob, a, b
}

// twoEditors makes Bob an editor of Ada's space and returns him with
// Ada's and his sockets, both handshaken and subscribed to doc.
func twoEditors(t *testing.T, e *env, ada *client, doc string) (bob *client, a, b *wsClient) {
	t.Helper()
	bob, a, b = joinBob(t, e, ada, "editor")
	a.subscribe(doc)
	b.subscribe(doc)
	return bob, a, b
}

// tokenSocket opens a live socket with a new API token of c, subscribed
// to doc, and returns it with the token's id.
func tokenSocket(e *env, c *client, doc string) (*wsClient, string) {
	e.t.Helper()
	bot := e.client()
	r := c.must(201, "POST", "/api/tokens", map[string]string{"name": "bot"})
	bot.token = r.str("token")
	sock := bot.liveOn(doc)
	return sock, r.str("id")
}

// sharePresence subscribes a and then b to the presence channel ch; a is
// asked for its presence when b joins.
func sharePresence(a, b *wsClient, ch string) {
	a.send(map[string]any{"a": "ps", "ch": ch, "seq": 1})
	a.expectRaw(fmt.Sprintf(`{"a":"ps","ch":%q,"seq":1}`, ch))
	b.send(map[string]any{"a": "ps", "ch": ch, "seq": 1})
	b.expectRaw(fmt.Sprintf(`{"a":"ps","ch":%q,"seq":1}`, ch))
	a.expectRaw(fmt.Sprintf(`{"a":"pr","ch":%q}`, ch))
}

// The frames of a handshake are exactly ShareDB's: init on accept, and an
// hs reply to every hs, adopting the id a reconnecting client sends.
func TestLiveHandshake(t *testing.T) {
	e, ada, doc := liveEnv(t, "hi")
	w := ada.live()
	if !strings.HasPrefix(w.src, ada.id()+".") {
		t.Fatalf("agent id %q does not name the user", w.src)
	}
	// The init frame as it was sent, byte for byte.
	conn, _, err := ada.dialLive(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := newWSClient(t, conn)
	first := string(raw.nextRaw())
	var init frame
	json.Unmarshal([]byte(first), &init)
	want := fmt.Sprintf(`{"a":"init","protocol":1,"protocolMinor":2,"id":%q,"type":"http://sharejs.org/types/JSONv0"}`, init.str("id"))
	if first != want {
		t.Fatalf("init = %s\n want %s", first, want)
	}
	// A stock client sends hs twice; both are answered with the same id.
	hsWant := fmt.Sprintf(`{"a":"hs","protocol":1,"protocolMinor":2,"id":%q,"type":"http://sharejs.org/types/JSONv0"}`, init.str("id"))
	for range 2 {
		raw.send(`{"a":"hs","id":null,"protocol":1,"protocolMinor":2}`)
		raw.expectRaw(hsWant)
	}
	// A reconnecting client keeps its id.
	old := w.src
	w.conn.Close()
	w2 := ada.live()
	if w2.src == old {
		t.Fatal("a new connection reused an id")
	}
	if got := w2.handshake(old).str("id"); got != old {
		t.Fatalf("hs with old id = %q; want %q adopted", got, old)
	}
	// A client that reconnects while its old socket is still open on the
	// server takes its id over; the old socket is closed.
	w2.subscribe(doc)
	w3 := ada.live()
	if got := w3.handshake(old).str("id"); got != old {
		t.Fatalf("takeover hs = %q; want %q", got, old)
	}
	if code := w2.closed(5 * time.Second); code != websocket.CloseNormalClosure {
		t.Fatalf("replaced socket closed with %d", code)
	}
	w3.ping()
	// Someone else's id is never adopted.
	bob := e.signup("Bob")
	wb := bob.live()
	if got := wb.handshake(old).str("id"); got == old {
		t.Fatal("another user's agent id was adopted")
	}
	wb.ping()
	// Unknown actions and junk are answered with errors; the socket stays.
	wb.send(`{"a":"zz"}`)
	wb.expectRaw(`{"a":"zz","error":{"code":"ERR_MESSAGE_BADLY_FORMED","message":"Invalid or unknown message"}}`)
	wb.send(`not json`)
	if f := wb.next(); f.errCode() != "ERR_MESSAGE_BADLY_FORMED" {
		t.Fatalf("junk reply = %v", f)
	}
	wb.send([]byte{'{', 0xff, '}'})
	if f := wb.next(); f.errCode() != "ERR_MESSAGE_BADLY_FORMED" {
		t.Fatalf("invalid UTF-8 reply = %v", f)
	}
	wb.ping()
}

// Row 33: a cross-origin upgrade carrying the victim's cookie is refused
// at the handshake; an upgrade without credentials is 401.
func TestLiveOriginAndAuth(t *testing.T) {
	e, ada, _ := liveEnv(t, "hi")
	for _, origin := range []string{"https://evil.example", "null", "http://127.0.0.1.evil.example"} {
		_, resp, err := ada.dialLive(http.Header{"Origin": {origin}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("Origin %s: err %v, resp %v; want 403", origin, err, resp)
		}
	}
	// Same origin is fine.
	conn, _, err := ada.dialLive(http.Header{"Origin": {e.http.URL}})
	if err != nil {
		t.Fatalf("same-origin upgrade: %v", err)
	}
	conn.Close()
	// No credentials, or a bad token.
	anon := e.client()
	_, resp, err := anon.dialLive(nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous upgrade: %v %v; want 401", err, resp)
	}
	anon.token = "nope"
	_, resp, err = anon.dialLive(nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token upgrade: %v %v; want 401", err, resp)
	}
	// A bearer token works, from any origin-less client.
	bob := e.signup("Bob")
	bob.useToken()
	bob.hc = &http.Client{} // no cookies
	conn, _, err = bob.dialLive(nil)
	if err != nil {
		t.Fatalf("bearer upgrade: %v", err)
	}
	conn.Close()
	// A plain GET is not an upgrade.
	ada.must(400, "GET", "/api/live", nil)
}

// Subscribe, op, ack and broadcast between two clients, with a concurrent
// op transformed on the server.
func TestLiveOpAckBroadcast(t *testing.T) {
	e, ada, doc := liveEnv(t, "hi")
	_, a, b := joinBob(t, e, ada, "editor")
	if v, text := a.subscribe(doc); v != 1 || text != "hi" {
		t.Fatalf("snapshot = %d %q", v, text)
	}
	b.subscribe(doc)

	a.op(doc, 1, 1, []any{2, "A"})
	a.ack(doc, 1, 1)
	b.expectRaw(fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"src":%q,"seq":1,"op":[2,"A"]}`, doc, a.src))

	// Both type at version 2 at the same place; the later one is
	// transformed as the left side, so its insert goes first.
	b.op(doc, 2, 1, []any{3, "B"})
	b.ack(doc, 1, 2)
	a.op(doc, 2, 2, []any{3, "C"})
	// Ada first receives Bob's op (from her subscription, and possibly a
	// second time before her ack), then her ack at version 3.
	for {
		f := a.next()
		if f.has("op") {
			if f.num("v") != 2 || f.str("src") != b.src {
				t.Fatalf("ada got %v", f)
			}
			continue
		}
		if f.num("v") != 3 || f.num("seq") != 2 || f.str("src") != a.src {
			t.Fatalf("ada's ack = %v", f)
		}
		break
	}
	f := b.next()
	if f.num("v") != 3 || f.str("src") != a.src {
		t.Fatalf("bob got %v", f)
	}
	if got, _ := json.Marshal(f["op"]); string(got) != `[3,"C"]` {
		t.Fatalf("bob got op %s; want the transformed [3,\"C\"]", got)
	}
	if text, v := ada.docText(doc); text != "hiACB" || v != 4 {
		t.Fatalf("text = %q v%d; want hiACB v4", text, v)
	}
	a.quiet(100 * time.Millisecond)
	b.quiet(10 * time.Millisecond)

	// Unsubscribed, Bob no longer hears about ops.
	b.send(map[string]any{"a": "u", "c": "docs", "d": doc})
	b.expectRaw(fmt.Sprintf(`{"a":"u","c":"docs","d":%q}`, doc))
	a.op(doc, 4, 3, []any{"!"})
	a.ack(doc, 3, 4)
	b.quiet(200 * time.Millisecond)

	// Fetches: a snapshot, and the ops since a version.
	b.send(map[string]any{"a": "f", "c": "docs", "d": doc})
	b.expectRaw(fmt.Sprintf(`{"a":"f","c":"docs","d":%q,"data":{"v":5,"data":"!hiACB","type":"http://sharejs.org/types/text-unicode"}}`, doc))
	b.send(map[string]any{"a": "f", "c": "docs", "d": doc, "v": 3})
	for _, v := range []int64{3, 4} {
		if f := b.next(); f.num("v") != v || !f.has("op") {
			t.Fatalf("fetch op = %v; want v%d", f, v)
		}
	}
	b.expectRaw(fmt.Sprintf(`{"a":"f","c":"docs","d":%q}`, doc))
	// A resubscription from a version catches up first.
	b.send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": 4})
	if f := b.next(); f.num("v") != 4 || f.str("src") != a.src {
		t.Fatalf("catch-up = %v", f)
	}
	b.expectRaw(fmt.Sprintf(`{"a":"s","c":"docs","d":%q}`, doc))
	a.op(doc, 5, 4, []any{"?"})
	a.ack(doc, 4, 5)
	if f := b.next(); f.num("v") != 5 {
		t.Fatalf("after resubscribe bob got %v", f)
	}
	// Text at a version.
	b.send(map[string]any{"a": "nf", "id": 7, "c": "docs", "d": doc, "v": 2})
	b.expectRaw(`{"a":"nf","id":7,"v":2,"type":"http://sharejs.org/types/text-unicode","data":"hiA","m":null}`)
}

// A resubmission with the same src and seq after a reconnect is acked
// once, with the version of the original, and applied once.
func TestLiveResubmitAfterReconnect(t *testing.T) {
	e, ada, doc := liveEnv(t, "hi")
	bob := e.signup("Bob")
	ada.addMember("eng", bob, "editor")
	b := bob.liveOn(doc)

	a := ada.liveOn(doc)
	src := a.src
	// The op goes out and the socket dies before the ack is read.
	a.op(doc, 1, 1, []any{"x"})
	a.conn.Close()
	if f := b.next(); f.num("v") != 1 || f.str("src") != src {
		t.Fatalf("bob got %v", f)
	}
	// Bob writes meanwhile.
	b.op(doc, 2, 1, []any{3, "y"})
	b.ack(doc, 1, 2)

	// Ada reconnects as the same agent and resends the op as it was,
	// then resubscribes from the version she had.
	a2 := ada.live()
	a2.handshake(src)
	a2.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 1, "src": src, "seq": 1, "x": map[string]any{}, "op": []any{"x"}})
	a2.ack(doc, 1, 1)
	a2.send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": 1})
	for _, v := range []int64{1, 2} {
		if f := a2.next(); f.num("v") != v || !f.has("op") {
			t.Fatalf("catch-up = %v; want op v%d", f, v)
		}
	}
	a2.expectRaw(fmt.Sprintf(`{"a":"s","c":"docs","d":%q}`, doc))
	// A duplicate on a subscribed document is not acked a second time.
	a2.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 1, "src": src, "seq": 1, "x": map[string]any{}, "op": []any{"x"}})
	a2.ping()
	a2.quiet(100 * time.Millisecond)
	b.quiet(10 * time.Millisecond)
	if text, v := ada.docText(doc); text != "xhiy" || v != 3 {
		t.Fatalf("text = %q v%d; want xhiy v3 (applied once)", text, v)
	}
	// A resend whose ack was lost while others wrote: the ops it missed
	// come first, then the ack at its original version.
	a2.op(doc, 3, 2, []any{"z"})
	a2.ack(doc, 2, 3)
	b.next()
	b.op(doc, 4, 2, []any{"w"})
	b.ack(doc, 2, 4)
	a2.next()
	a2.conn.Close()
	a3 := ada.live()
	a3.handshake(src)
	a3.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 3, "src": src, "seq": 2, "x": map[string]any{}, "op": []any{"z"}})
	a3.ack(doc, 2, 3)
	a3.quiet(100 * time.Millisecond)
	a3.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 2, "src": src, "seq": 2, "x": map[string]any{}, "op": []any{"z"}})
	if f := a3.next(); f.num("v") != 2 || f.str("src") != b.src || !f.has("op") {
		t.Fatalf("missed op = %v", f)
	}
	a3.ack(doc, 2, 3)
	if text, v := ada.docText(doc); text != "wzxhiy" || v != 5 {
		t.Fatalf("text = %q v%d; want wzxhiy v5", text, v)
	}
}

// Rows 35 and 36: malformed ops get an error reply and change nothing;
// the connection stays usable and the other client hears nothing.
func TestLiveBadOps(t *testing.T) {
	e, ada, doc := liveEnv(t, "hello")
	_, a, b := twoEditors(t, e, ada, doc)
	base := fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":%%d,"x":{},"op":%%s}`, doc)
	for i, op := range []string{
		`[100,"z"]`,           // skip past the end
		`[6]`,                 // trailing skip, past the end
		`[1]`,                 // trailing skip
		`[-1,"x"]`,            // negative skip
		`[0,"x"]`,             // zero skip
		`[1.5,"x"]`,           // fractional skip
		`["\ud800"]`,          // lone surrogate
		`["a\udc00b"]`,        // lone low surrogate
		`[{"d":0}]`,           // empty delete
		`[{"d":-2}]`,          // negative delete
		`[{"d":"xy"}]`,        // deleted text that is not there
		`[{"x":1}]`,           // unknown component
		`[true,"x"]`,          // unknown component
		`[null]`,              // null component
		`[""]`,                // empty insert
		`[1,1,"x"]`,           // adjacent skips
		`{"op":[1]}`,          // not an array
		`"x"`,                 // not an array
		`null`,                // null op
		`[{"d":1,"i":"x"}]`,   // two kinds at once
		`[9007199254740993]`,  // over MaxLength
		`[{"d":99999999999}]`, // over MaxLength
	} {
		a.send(fmt.Sprintf(base, i+1, op))
		f := a.next()
		if f.errCode() != "ERR_OT_OP_NOT_APPLIED" || f.num("seq") != int64(i+1) || f.str("a") != "op" {
			t.Fatalf("op %s: reply %v; want the request back with ERR_OT_OP_NOT_APPLIED", op, f)
		}
	}
	// A number JSON allows but no float holds.
	a.send(fmt.Sprintf(base, 99, `[1e400,"x"]`))
	if got := string(a.nextRaw()); !strings.Contains(got, "ERR_OT_OP_NOT_APPLIED") {
		t.Fatalf("huge number: %s", got)
	}
	// Frames that are not valid JSON at all.
	for _, junk := range []string{base[:40], `{"a":"op","c":"docs","d":"` + doc + `","v":1,"seq":1,"op":[1,}`} {
		a.send(junk)
		if f := a.next(); f.errCode() != "ERR_MESSAGE_BADLY_FORMED" {
			t.Fatalf("junk %s: reply %v", junk, f)
		}
	}
	// Bad seq, version, document, collection.
	for _, m := range []string{
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"op":["x"]}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":0,"op":["x"]}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":"1","op":["x"]}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":-1,"seq":1,"op":["x"]}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":"1","seq":1,"op":["x"]}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":1}`, doc),
		fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"v":1,"seq":1,"op":["x"]}`, "../../x"),
		fmt.Sprintf(`{"a":"op","c":"other","d":%q,"v":1,"seq":1,"op":["x"]}`, doc),
		`{"a":"op","c":"docs","d":5,"v":1,"seq":1,"op":["x"]}`,
	} {
		a.send(m)
		if f := a.next(); f.errCode() == "" || f.str("a") != "op" && !strings.Contains(m, `"d":5`) {
			t.Fatalf("%s: reply %v", m, f)
		}
	}
	a.ping()
	b.quiet(100 * time.Millisecond)
	if text, v := ada.docText(doc); text != "hello" || v != 1 {
		t.Fatalf("doc = %q v%d; want unchanged", text, v)
	}
	if n := len(ada.history(doc)); n != 1 {
		t.Fatalf("history has %d ops; want 1", n)
	}
	// Everyone can still edit.
	b.op(doc, 1, 1, []any{5, "!"})
	b.ack(doc, 1, 1)
	if f := a.next(); f.num("v") != 1 {
		t.Fatalf("ada got %v", f)
	}
	if text, _ := ada.docText(doc); text != "hello!" {
		t.Fatalf("doc = %q", text)
	}
	// Astral characters count as one position, as in ot-text-unicode.
	a.op(doc, 2, 1, []any{"😭", 6, "é"})
	a.ack(doc, 1, 2)
	a.op(doc, 3, 2, []any{1, map[string]any{"d": 1}})
	a.ack(doc, 2, 3)
	if text, _ := ada.docText(doc); text != "😭ello!é" {
		t.Fatalf("doc = %q", text)
	}
}

// Row 37: an op or subscription at a version the document has not reached
// is refused ("resync required"), never silently dropped; row 39: an op
// that changes nothing is not stored.
func TestLiveVersionAheadAndNoOp(t *testing.T) {
	_, ada, doc := liveEnv(t, "abc")
	a := ada.liveOn(doc)
	a.op(doc, 99, 1, []any{"x"})
	if f := a.next(); f.errCode() != "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT" || f.num("seq") != 1 {
		t.Fatalf("op ahead: %v", f)
	}
	a.send(map[string]any{"a": "s", "c": "docs", "d": doc, "v": 99})
	if f := a.next(); f.errCode() != "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT" {
		t.Fatalf("subscribe ahead: %v", f)
	}
	a.send(map[string]any{"a": "f", "c": "docs", "d": doc, "v": 1e12})
	if f := a.next(); f.errCode() == "" {
		t.Fatalf("fetch ahead: %v", f)
	}
	// No-ops: an empty op, and deleting text someone already deleted.
	a.op(doc, 1, 2, []any{})
	if f := a.next(); f.errCode() != "ERR_NO_OP" || f.num("seq") != 2 {
		t.Fatalf("empty op: %v", f)
	}
	a.op(doc, 1, 3, []any{1, map[string]any{"d": 1}})
	a.ack(doc, 3, 1)
	a.op(doc, 1, 4, []any{1, map[string]any{"d": 1}})
	if f := a.next(); f.errCode() != "ERR_NO_OP" {
		t.Fatalf("transformed to a no-op: %v", f)
	}
	// The same no-op again and again is refused every time and stored
	// never.
	for i := range 20 {
		a.op(doc, 2, int64(10+i), []any{})
		if f := a.next(); f.errCode() != "ERR_NO_OP" {
			t.Fatalf("no-op %d: %v", i, f)
		}
	}
	if text, v := ada.docText(doc); text != "ac" || v != 2 {
		t.Fatalf("doc = %q v%d; want ac v2", text, v)
	}
	// Create and delete over the socket are refused, naming the REST API.
	a.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 0, "seq": 40, "create": map[string]any{"type": "http://sharejs.org/types/text-unicode", "data": "x"}})
	if f := a.next(); f.errCode() == "" || !strings.Contains(f["error"].(map[string]any)["message"].(string), "POST /api/docs") {
		t.Fatalf("create: %v", f)
	}
	a.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 2, "seq": 41, "del": true})
	if f := a.next(); f.errCode() == "" || !strings.Contains(f["error"].(map[string]any)["message"].(string), "DELETE /api/docs") {
		t.Fatalf("del: %v", f)
	}
	if text, v := ada.docText(doc); text != "ac" || v != 2 {
		t.Fatalf("doc = %q v%d; want ac v2", text, v)
	}
	// A missing document is indistinguishable from an unreadable one.
	a.send(map[string]any{"a": "s", "c": "docs", "d": "nosuchdoc"})
	if f := a.next(); f.errCode() != "ERR_DOC_DOES_NOT_EXIST" {
		t.Fatalf("missing doc: %v", f)
	}
}

// Viewers may subscribe but not edit; the author of an op is always the
// signed-in user (row 43), whatever the message claims.
func TestLivePermissions(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	vic, eve, mal := e.signup("Vic"), e.signup("Eve"), e.signup("Mal")
	ada.addMember("eng", vic, "viewer")
	ada.addMember("eng", mal, "editor")
	a, v := ada.live(), vic.live()
	a.handshake(nil)
	v.handshake(nil)
	a.subscribe(doc)
	if ver, text := v.subscribe(doc); ver != 1 || text != "abc" {
		t.Fatalf("viewer snapshot = %d %q", ver, text)
	}
	v.op(doc, 1, 1, []any{"x"})
	if f := v.next(); f.errCode() != "ERR_OP_SUBMIT_REJECTED" {
		t.Fatalf("viewer op: %v", f)
	}
	// Strangers see nothing, as if the document did not exist.
	x := eve.live()
	x.handshake(nil)
	for _, m := range []map[string]any{
		{"a": "s", "c": "docs", "d": doc},
		{"a": "f", "c": "docs", "d": doc},
		{"a": "f", "c": "docs", "d": doc, "v": 0},
		{"a": "nf", "id": 1, "c": "docs", "d": doc, "v": 1},
		{"a": "op", "c": "docs", "d": doc, "v": 1, "seq": 1, "op": []any{"x"}},
		{"a": "ps", "ch": "docs." + doc, "seq": 1},
		{"a": "p", "ch": "docs." + doc, "id": "p1", "p": map[string]any{"index": 1}, "pv": 0},
	} {
		x.send(m)
		if f := x.next(); f.errCode() != "ERR_DOC_DOES_NOT_EXIST" {
			t.Fatalf("stranger %v: %v", m, f)
		}
	}
	x.send(map[string]any{"a": "bs", "c": "docs", "b": []string{doc}})
	if f := x.next(); !strings.Contains(f.String(), "ERR_DOC_DOES_NOT_EXIST") {
		t.Fatalf("stranger bulk: %v", f)
	}
	a.quiet(100 * time.Millisecond)

	// Mal claims to be Ada, by author field and by Ada's agent id.
	m := mal.live()
	m.handshake(a.src)
	if m.src == a.src {
		t.Fatal("Mal adopted Ada's agent id")
	}
	m.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 1, "seq": 1, "src": a.src, "author": ada.id(), "x": map[string]any{}, "op": []any{"m"}})
	m.ack(doc, 1, 1)
	ops := ada.history(doc)
	last := ops[len(ops)-1]
	if last["author"] != mal.id() || last["src"] != m.src {
		t.Fatalf("stored op %v; want author %s src %s", last, mal.id(), m.src)
	}
	// And Ada's own op with the same seq is not taken for a duplicate.
	a.next()
	a.op(doc, 2, 1, []any{"a"})
	a.ack(doc, 1, 2)
	if text, _ := ada.docText(doc); text != "amabc" {
		t.Fatalf("text = %q", text)
	}
}

// A member whose access is revoked is cut off within seconds.
func TestLiveRevokedMemberCutOff(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	bob, a, b := twoEditors(t, e, ada, doc)
	b.send(map[string]any{"a": "ps", "ch": "docs." + doc, "seq": 1})
	b.next()
	a.send(map[string]any{"a": "ps", "ch": "docs." + doc, "seq": 1})
	a.next()
	b.next() // Ada's presence request
	b.send(map[string]any{"a": "p", "ch": "docs." + doc, "id": "bob-cursor", "p": map[string]any{"index": 1}, "pv": 3})
	b.next()
	if f := a.next(); f.str("id") != "bob-cursor" {
		t.Fatalf("ada got %v", f)
	}

	start := time.Now()
	ada.must(204, "DELETE", "/api/spaces/eng/members/"+bob.id(), nil)
	// Ada is told Bob's cursor left, with Bob's presence version.
	if f := a.next(); f.str("id") != "bob-cursor" || f["p"] != nil || f.num("pv") != 3 {
		t.Fatalf("ada got %v; want bob's presence cleared", f)
	}
	f := b.next()
	if f.errCode() != "ERR_DOC_DOES_NOT_EXIST" || f.str("d") != doc {
		t.Fatalf("bob got %v; want a revocation error", f)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("revocation took %v", d)
	}
	b.send(map[string]any{"a": "op", "c": "docs", "d": doc, "v": 1, "seq": 1, "op": []any{"x"}})
	if f := b.next(); f.errCode() != "ERR_DOC_DOES_NOT_EXIST" {
		t.Fatalf("revoked op: %v", f)
	}
	a.op(doc, 1, 1, []any{"y"})
	a.ack(doc, 1, 1)
	b.quiet(300 * time.Millisecond)
	b.ping()
}

// Row 34: a 16 MB message (and a frame claiming 2^63-1 bytes) closes the
// connection with 1009 before the server reads it; memory stays flat.
func TestLiveHugeFrame(t *testing.T) {
	_, ada, _ := liveEnv(t, "abc")
	for _, size := range []uint64{16 << 20, 1<<63 - 1} {
		w := ada.live()
		w.handshake(nil)
		nc := w.conn.NetConn()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		// A masked text frame header with a 64-bit length, then the
		// payload streamed from a small buffer.
		hdr := []byte{0x81, 0x80 | 127}
		hdr = binary.BigEndian.AppendUint64(hdr, size)
		hdr = append(hdr, 1, 2, 3, 4)
		go func() {
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(hdr); err != nil {
				return
			}
			chunk := make([]byte, 64<<10)
			for sent := uint64(0); sent < 16<<20; sent += uint64(len(chunk)) {
				if _, err := nc.Write(chunk); err != nil {
					return
				}
			}
		}()
		if code := w.closed(10 * time.Second); code != websocket.CloseMessageTooBig {
			t.Fatalf("size %d: close code %d (%v); want 1009", size, code, w.readErr())
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Fatalf("size %d: allocated %d bytes", size, grew)
		}
	}
}

// Row 40: a client flooding ops is throttled with errors and then closed
// with 1008, while another client's ops keep their round trip.
func TestLiveFlood(t *testing.T) {
	e, ada, doc := liveEnv(t, "")
	_, flood, b := joinBob(t, e, ada, "editor")
	version, _ := b.subscribe(doc)

	stop := make(chan struct{})
	floodDone := make(chan struct{})
	floodStart := time.Now()
	go func() {
		defer close(floodDone)
		for i := 1; i <= 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// One character inserts at the current version, as fast as
			// the socket takes them, without waiting for acks.
			msg := fmt.Sprintf(`{"a":"op","c":"docs","d":%q,"seq":%d,"op":["f"]}`, doc, i)
			flood.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := flood.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				return
			}
		}
	}()
	var worst time.Duration
	seq := int64(0)
	flooded := 0 // the flood's ops Bob has received
	for i := range 20 {
		// Bob's ops go out spread over the flood: each once five more of
		// the flood's have reached him (the limit lets a burst of 200 in).
		for flooded < 5*i {
			if f := b.next(); f.has("op") {
				version = f.num("v") + 1
				flooded++
			}
		}
		seq++
		start := time.Now()
		b.op(doc, version, seq, []any{"b"})
		for {
			f := b.next()
			if f.has("op") {
				version = f.num("v") + 1
				flooded++
				continue
			}
			if f.errCode() != "" {
				t.Fatalf("bob's op refused: %v", f)
			}
			version = f.num("v") + 1
			break
		}
		if d := time.Since(start); d > worst {
			worst = d
		}
	}
	code := flood.closed(10 * time.Second)
	floodTime := time.Since(floodStart)
	close(stop)
	<-floodDone
	if code != websocket.ClosePolicyViolation {
		t.Fatalf("flooder closed with %d (%v); want 1008", code, flood.readErr())
	}
	if worst > time.Second {
		t.Fatalf("bob's worst round trip during the flood: %v", worst)
	}
	t.Logf("bob's worst round trip during the flood: %v", worst)
	// The flooder got no more ops in than the limit lets through while it
	// was connected (a burst of 200, then 100 a second), far fewer than
	// it sent.
	if _, v := ada.docText(doc); float64(v) > 1+20+200+100*floodTime.Seconds()+10 {
		t.Fatalf("version %d after %v: the flood was not throttled", v, floodTime)
	}
}

// Presence on the channel docs.<id>: subscribe, relay with src, positions
// moved through ops committed since the version they refer to, cleared on
// disconnect.
func TestLivePresence(t *testing.T) {
	e, ada, doc := liveEnv(t, "hello")
	_, a, b := joinBob(t, e, ada, "viewer")
	ch := "docs." + doc
	sharePresence(a, b, ch) // Ada is asked for her presence because Bob joined

	// Bob (a viewer) shares a cursor at version 1; Ada types before it.
	a.subscribe(doc)
	a.op(doc, 1, 1, []any{"XY"})
	a.ack(doc, 1, 1)
	b.send(map[string]any{"a": "p", "ch": ch, "id": "bc", "p": map[string]any{"index": 3, "end": 4, "v": 1, "color": "red"}, "pv": 0})
	// Relayed frames name the document, version and type as the stock
	// client's doc presence expects.
	want := fmt.Sprintf(`{"a":"p","ch":%q,"src":%q,"id":"bc","p":{"color":"red","end":6,"index":5,"v":2},"pv":0,"c":"docs","d":%q,"v":2,"t":"http://sharejs.org/types/text-unicode"}`, ch, b.src, doc)
	b.expectRaw(want)
	a.expectRaw(want)
	// Presence without a version is taken as current.
	b.send(map[string]any{"a": "p", "ch": ch, "id": "bc", "p": map[string]any{"index": 1}, "pv": 1})
	b.next()
	if f := a.next(); f["p"].(map[string]any)["index"] != 1.0 {
		t.Fatalf("ada got %v", f)
	}
	// Bad presence messages.
	for _, m := range []map[string]any{
		{"a": "p", "ch": "docs.", "id": "x", "p": 1, "pv": 0},
		{"a": "p", "ch": "other." + doc, "id": "x", "p": 1, "pv": 0},
		{"a": "p", "ch": ch, "id": 5, "p": 1, "pv": 0},
		{"a": "p", "ch": ch, "id": "x", "p": 1, "pv": -1},
		{"a": "p", "ch": ch, "id": "x", "p": strings.Repeat("x", 20000), "pv": 0},
	} {
		b.send(m)
		if f := b.next(); f.errCode() == "" {
			t.Fatalf("%v: %v", m, f)
		}
	}
	a.quiet(100 * time.Millisecond)
	// Bob leaves: Ada is told his cursor is gone.
	b.conn.Close()
	if f := a.next(); f.str("id") != "bc" || f["p"] != nil || f.num("pv") != 1 || f.str("src") != b.src {
		t.Fatalf("ada got %v; want bob's presence cleared", f)
	}
	// Unsubscribing from presence stops it.
	a.send(map[string]any{"a": "pu", "ch": ch, "seq": 2})
	a.expectRaw(fmt.Sprintf(`{"a":"pu","ch":%q,"seq":2}`, ch))
}

// Bulk subscribe, fetch and unsubscribe, as a stock client sends them
// after a reconnect.
func TestLiveBulk(t *testing.T) {
	_, ada, doc := liveEnv(t, "one")
	doc2 := ada.createDoc("eng", "Two", "two")
	a := ada.live()
	a.handshake(nil)
	a.send(map[string]any{"a": "bs", "c": "docs", "b": []string{doc, doc2, "missing"}})
	f := a.next()
	data, _ := f["data"].(map[string]any)
	if f.str("a") != "bs" || len(data) != 3 {
		t.Fatalf("bs = %v", f)
	}
	if s := data[doc2].(map[string]any); s["data"] != "two" || s["v"] != 1.0 || s["type"] != "http://sharejs.org/types/text-unicode" {
		t.Fatalf("bs %s = %v", doc2, s)
	}
	if !strings.Contains(fmt.Sprint(data["missing"]), "ERR_DOC_DOES_NOT_EXIST") {
		t.Fatalf("bs missing = %v", data["missing"])
	}
	// Others' ops arrive for both.
	other := ada.live()
	other.handshake(nil)
	other.op(doc, 1, 1, []any{"1"})
	other.ack(doc, 1, 1)
	other.op(doc2, 1, 2, []any{"2"})
	other.ack(doc2, 2, 1)
	for range 2 {
		if f := a.next(); f.num("v") != 1 || !f.has("op") {
			t.Fatalf("got %v", f)
		}
	}
	// Resubscribe both from versions: the ops, then b echoed.
	a.send(fmt.Sprintf(`{"a":"bs","c":"docs","b":{%q:0,%q:1}}`, doc, doc2))
	seen := 0
	for {
		f := a.next()
		if f.str("a") == "bs" {
			if f.has("data") || f["b"] == nil {
				t.Fatalf("bs reply = %v", f)
			}
			break
		}
		seen++
	}
	if seen != 3 {
		t.Fatalf("catch-up sent %d ops; want 3", seen)
	}
	a.send(map[string]any{"a": "bu", "c": "docs", "b": []string{doc, doc2}})
	if f := a.next(); f.str("a") != "bu" {
		t.Fatalf("bu = %v", f)
	}
	other.op(doc, 2, 3, []any{"3"})
	other.ack(doc, 3, 2)
	a.quiet(200 * time.Millisecond)
	a.send(map[string]any{"a": "bf", "c": "docs", "b": []string{doc}})
	if f := a.next(); !strings.Contains(f.String(), `"data":"31one"`) {
		t.Fatalf("bf = %v", f)
	}
}

// An op that would make the document larger than 1 MiB is refused and
// changes nothing.
func TestLiveTooLarge(t *testing.T) {
	_, ada, doc := liveEnv(t, "")
	a := ada.liveOn(doc)
	chunk := strings.Repeat("x", 250_000)
	for i := range 4 {
		a.op(doc, int64(1+i), int64(1+i), []any{chunk})
		a.ack(doc, int64(1+i), int64(1+i))
	}
	a.op(doc, 5, 5, []any{chunk})
	f := a.next()
	if f.errCode() != "ERR_OT_OP_NOT_APPLIED" || !strings.Contains(f.String(), "larger than") {
		t.Fatalf("reply %.300s; want ERR_OT_OP_NOT_APPLIED", f.String())
	}
	a.ping()
	if _, v := ada.docText(doc); v != 5 {
		t.Fatalf("version %d; want 5", v)
	}
}

// CloseLive closes every socket with 1001 and refuses new ones.
func TestCloseLive(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	a := ada.liveOn(doc)
	if n := e.srv.LiveConnections(); n != 1 {
		t.Fatalf("LiveConnections = %d", n)
	}
	done := make(chan struct{})
	go func() {
		e.srv.CloseLive()
		close(done)
	}()
	if code := a.closed(5 * time.Second); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d; want 1001", code)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("CloseLive did not return")
	}
	if n := e.srv.LiveConnections(); n != 0 {
		t.Fatalf("LiveConnections = %d after CloseLive", n)
	}
	conn, _, err := ada.dialLive(nil)
	if err == nil {
		w := newWSClient(t, conn)
		if code := w.closed(5 * time.Second); code != websocket.CloseGoingAway {
			t.Fatalf("new connection after CloseLive: close %d", code)
		}
	}
}

// Signing out, or revoking the token a socket was opened with, closes the
// Deleting a document that is open for live editing tells its sockets at
// once, with the doc's error, and later ops for it are refused.
func TestLiveDocumentDeleted(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	_, a, b := twoEditors(t, e, ada, doc)
	ada.must(204, "DELETE", "/api/docs/"+doc, nil)
	for _, w := range []*wsClient{a, b} {
		f := w.next()
		// The hub says it was deleted, or a recheck that it cannot be
		// read, whichever reaches the socket first.
		if f.errCode() != "ERR_DOC_DOES_NOT_EXIST" || f.str("d") != doc {
			t.Fatalf("got %v; want the document's deletion", f)
		}
	}
	b.op(doc, 1, 1, []any{"x"})
	if f := b.next(); f.errCode() != "ERR_DOC_DOES_NOT_EXIST" {
		t.Fatalf("op on a deleted document: %v", f)
	}
}

// Revocation takes effect on the next op, not at the next periodic
// recheck: an op sent right after a sign-out or a deleted token is not
// applied (the socket closes with 1008), and a removed member is cut off
// before the next op of another editor reaches them.
func TestLiveRevokedAtOnce(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	bob, a, b := twoEditors(t, e, ada, doc)

	// Bob loses the space; Ada types at once. Bob gets the revocation and
	// never Ada's op.
	ada.must(204, "DELETE", "/api/spaces/eng/members/"+bob.id(), nil)
	a.op(doc, 1, 1, []any{"y"})
	a.ack(doc, 1, 1)
	if f := b.next(); f.errCode() != "ERR_DOC_DOES_NOT_EXIST" || f.str("d") != doc {
		t.Fatalf("bob got %v; want the revocation before anything else", f)
	}
	b.quiet(200 * time.Millisecond)

	// A deleted token and a sign-out: the op sent right after is refused.
	tokenSock, tokenID := tokenSocket(e, ada, doc)
	ada.must(204, "DELETE", "/api/tokens/"+tokenID, nil)
	tokenSock.op(doc, 2, 1, []any{"T"})
	if code := tokenSock.closed(5 * time.Second); code != 1008 {
		t.Fatalf("op after the token was deleted: closed with %d; want 1008", code)
	}
	reader := e.client()
	reader.token = ada.must(201, "POST", "/api/tokens", map[string]string{"name": "reader"}).str("token")
	ada.must(204, "POST", "/api/auth/logout", nil)
	a.op(doc, 2, 2, []any{"C"})
	if code := a.closed(5 * time.Second); code != 1008 {
		t.Fatalf("op after signing out: closed with %d; want 1008", code)
	}
	if text, v := reader.docText(doc); text != "yabc" || v != 2 {
		t.Fatalf("doc = %q v%d; want yabc v2: no op after a revocation is applied", text, v)
	}
}

// socket within seconds.
func TestLiveSignedOutClosed(t *testing.T) {
	e, ada, doc := liveEnv(t, "abc")
	cookieSock := ada.liveOn(doc)

	tokenSock, tokenID := tokenSocket(e, ada, doc)

	start := time.Now()
	ada.must(204, "DELETE", "/api/tokens/"+tokenID, nil)
	if code := tokenSock.closed(10 * time.Second); code != 1008 {
		t.Fatalf("socket of a revoked token closed with %d; want 1008", code)
	}
	ada.must(204, "POST", "/api/auth/logout", nil)
	if code := cookieSock.closed(10 * time.Second); code != 1008 {
		t.Fatalf("socket of a signed-out session closed with %d; want 1008", code)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
}

// One account holds at most LiveConnsPerUser sockets: one more is refused
// with 429 before the upgrade, other accounts are not affected, and a
// closed socket frees its place.
func TestLiveConnsPerUser(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.LiveConnsPerUser = 3 })
	ada := e.signup("Ada")
	bob := e.signup("Bob")
	var open []*wsClient
	for range 3 {
		open = append(open, ada.live())
	}
	_, resp, err := ada.dialLive(nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th socket: err %v, resp %v; want 429", err, resp)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	bob.live() // another account has its own allowance
	open[0].conn.Close()
	// The server lets the socket go once it has read the close: until
	// then the 4th is refused.
	if !testenv.Eventually(5*time.Second, func() bool {
		var conn *websocket.Conn
		conn, resp, err = ada.dialLive(nil)
		if err == nil {
			conn.Close()
			return true
		}
		return resp == nil || resp.StatusCode != http.StatusTooManyRequests
	}) || err != nil {
		t.Fatalf("after closing one socket: %v %v; want an upgrade", err, resp)
	}
}

// Unsubscribing from a document's ops leaves its presence alone: the
// others keep seeing the cursor (no flicker to null and back) and the
// client keeps receiving theirs.
func TestLiveUnsubscribeKeepsPresence(t *testing.T) {
	e, ada, doc := liveEnv(t, "hello")
	_, a, b := joinBob(t, e, ada, "editor")
	ch := "docs." + doc
	a.subscribe(doc)
	sharePresence(a, b, ch)
	a.send(map[string]any{"a": "p", "ch": ch, "id": "ac", "p": map[string]any{"index": 1}, "pv": 0})
	a.next()
	if f := b.next(); f.str("id") != "ac" {
		t.Fatalf("bob got %v; want ada's cursor", f)
	}
	a.send(map[string]any{"a": "u", "c": "docs", "d": doc})
	if f := a.next(); f.str("a") != "u" || f.errCode() != "" {
		t.Fatalf("unsubscribe reply %v", f)
	}
	b.quiet(150 * time.Millisecond) // no null presence, no pr
	b.send(map[string]any{"a": "p", "ch": ch, "id": "bc", "p": map[string]any{"index": 2}, "pv": 0})
	b.next()
	if f := a.next(); f.str("id") != "bc" || f.str("a") != "p" {
		t.Fatalf("ada got %v; want bob's cursor after unsubscribing from ops", f)
	}
}

// Pacing batches broadcast frames, never replies: with a pace far longer
// than the test, a client that has just been sent an op still gets the
// ack of its own op at once, and the ops that arrive during the pause
// come together after it.
func TestLiveAckNotPaced(t *testing.T) {
	const pace = 3 * time.Second
	e, ada, doc := liveEnv(t, "hi", func(c *server.Config) { c.LiveWritePace = pace })
	_, a, b := twoEditors(t, e, ada, doc)

	a.op(doc, 1, 1, []any{"A"})
	a.ack(doc, 1, 1)
	if f := b.next(); f.num("v") != 1 || f.str("src") != a.src {
		t.Fatalf("bob got %v; want ada's op", f)
	}
	// Bob's writer has just written: its next broadcast write waits for
	// the pace, but his ack does not.
	start := time.Now()
	b.op(doc, 2, 1, []any{"B"})
	b.ack(doc, 1, 2)
	if d := time.Since(start); d > pace/2 {
		t.Fatalf("ack after %v: replies must not wait for the %v pace", d, pace)
	}
	// Ada's writer is in its pause since her ack: Bob's op waits for it,
	// and goes out with the ack of her next op.
	a.op(doc, 3, 2, []any{"C"})
	if f := a.next(); f.num("v") != 2 || f.str("src") != b.src {
		t.Fatalf("ada got %v; want bob's op", f)
	}
	a.ack(doc, 2, 3)
	if d := time.Since(start); d > pace/2 {
		t.Fatalf("ack after %v: replies must not wait for the %v pace", d, pace)
	}
	if f := b.next(); f.num("v") != 3 {
		t.Fatalf("bob got %v; want ada's second op", f)
	}
}
