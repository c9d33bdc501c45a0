package collab

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// This file is presence, the cursors and selections of the agents on a
// document: the hub's API, the document goroutine's side (positions moved
// through the ops committed since, relayed to the presence subscribers)
// and the connection's (ps, pu, p and pr). Presence is never stored.

// Presence is an agent's cursor or selection in a document. Value is
// opaque JSON except for the numeric fields "anchor", "head", "index" and
// "end", which are code point positions at Version and are moved through
// later ops; null means the agent left.
type Presence struct {
	Src     string
	ID      string
	Version int64
	Value   json.RawMessage
	Seq     int64 // the client's presence version ("pv")
}

// SubscribePresence registers sub for a document's presence; the others
// are asked to send theirs again.
func (h *Hub) SubscribePresence(ctx context.Context, docID string, sub *Subscriber) error {
	req := &presenceSubscribeRequest{sub: sub, done: make(chan struct{})}
	_, err := call(ctx, h, docID, req, req.done)
	return err
}

// SubmitPresence moves a presence's positions to the current version and
// relays it to the document's other presence subscribers. It returns the
// presence as relayed.
func (h *Hub) SubmitPresence(ctx context.Context, docID string, p Presence) (Presence, error) {
	req := &presenceRequest{p: p, done: make(chan Presence, 1)}
	out, err := call(ctx, h, docID, req, req.done)
	if err != nil {
		return p, err
	}
	return out, nil
}

// UnsubscribePresence ends sub's presence subscription only; when it had
// presence, the others are told it left.
func (h *Hub) UnsubscribePresence(docID string, sub *Subscriber) { h.unsubscribe(docID, sub, true) }

type presenceSubscribeRequest struct {
	sub  *Subscriber
	done chan struct{}
}

type presenceRequest struct {
	p    Presence
	done chan Presence
}

func (*presenceSubscribeRequest) isRequest() {}
func (*presenceRequest) isRequest()          {}

// subscribePresence adds a presence subscriber and asks the others to
// send their presence again.
func (d *document) subscribePresence(sub *Subscriber) {
	d.psubs[sub] = true
	d.broadcast(d.psubs, sub.Src, Event{DocID: d.id, PresenceRequest: true})
	d.publishPresence(presenceMessage{Src: sub.Src, Request: true})
}

// unsubscribePresence removes a presence subscriber; the others are told
// that the presences it announced left.
func (d *document) unsubscribePresence(sub *Subscriber) {
	if !d.psubs[sub] {
		return
	}
	delete(d.psubs, sub)
	for id := range d.pids[sub.Src] {
		d.broadcast(d.psubs, sub.Src, Event{DocID: d.id, Presence: &Presence{Src: sub.Src, ID: id, Version: d.version, Value: json.RawMessage("null")}})
		d.publishPresence(presenceMessage{Src: sub.Src, ID: id, Version: d.version, Value: json.RawMessage("null")})
	}
	delete(d.pids, sub.Src)
}

// relayPresence moves a presence to the current version and relays it to
// the other presence subscribers, and a local one to the other nodes; it
// returns the presence as relayed.
func (d *document) relayPresence(p Presence, local bool) Presence {
	if p.Version < 0 || p.Version > d.version {
		p.Version = d.version
	}
	if ops, err := d.opsSince(p.Version); err == nil {
		p.Value = movePresence(p.Value, ops)
		p.Version = d.version
	}
	switch {
	case !local: // its node tells when its agent leaves
	case string(p.Value) == "null":
		delete(d.pids[p.Src], p.ID)
	default:
		if d.pids[p.Src] == nil {
			d.pids[p.Src] = map[string]bool{}
		}
		d.pids[p.Src][p.ID] = true
	}
	d.broadcast(d.psubs, p.Src, Event{DocID: d.id, Presence: &p})
	if local {
		d.publishPresence(presenceMessage{Src: p.Src, ID: p.ID, Version: p.Version, Value: p.Value, Seq: p.Seq})
	}
	return p
}

// broadcast delivers an event to every subscriber but the one named src,
// forgetting those that were dropped.
func (d *document) broadcast(set map[*Subscriber]bool, src string, ev Event) {
	for s := range set {
		if s.Src == src && src != "" {
			continue
		}
		if !s.deliver(ev) {
			d.drop(s)
		}
	}
}

// positionFields are the presence fields that hold positions.
var positionFields = []string{"anchor", "head", "index", "end"}

// movePresence transforms a presence value's positions through ops.
func movePresence(value json.RawMessage, ops []committed) json.RawMessage {
	var m map[string]any
	if len(ops) == 0 || json.Unmarshal(value, &m) != nil || m == nil {
		return value
	}
	changed := false
	for _, f := range positionFields {
		pos, ok := m[f].(float64)
		if !ok || pos < 0 || pos != float64(int(pos)) {
			continue
		}
		p := int(pos)
		for _, c := range ops {
			p = ot.TransformPosition(p, c.op)
		}
		m[f] = p
		changed = true
	}
	if !changed {
		return value
	}
	out, err := json.Marshal(m)
	if err != nil {
		return value
	}
	return out
}

type presenceState struct {
	pv    int64
	value json.RawMessage
}

// presence answers ps, pu, p and pr on a document's channel "docs.<id>".
// Presence is untyped: the value is relayed as is, except that its numeric
// fields anchor, head, index and end are moved by the hub through the ops
// committed since the version they refer to (the message's v, or the
// value's own "v").
func (c *conn) presence(m *message, raw []byte) {
	id, ok := strings.CutPrefix(m.Ch, presencePrefix)
	if !ok || !docket.ValidID(id) {
		c.sendError(raw, errBadMessage, "Unknown presence channel; use \"docs.<document id>\".")
		return
	}
	if _, err := c.checkDoc(shareDBCollection, id); err != nil {
		c.replyErr(raw, err, false)
		return
	}
	switch m.A {
	case "ps":
		c.presenceSubscribe(id, m, raw)
	case "pu":
		c.presenceUnsubscribe(id)
		c.send(channelFrame("pu", m.Ch, m.Seq))
	case "pr":
		c.mu.Lock()
		st := c.state[id]
		subscribed := st != nil && st.presenceSub
		c.mu.Unlock()
		if subscribed {
			// Subscribing again asks the others to send their presence.
			ctx, cancel := c.hubCtx()
			c.hub.SubscribePresence(ctx, id, c.ensureSub())
			cancel()
		}
		c.send([]byte(`{"a":"pr"}`))
	case "p":
		c.submitPresence(id, m, raw)
	}
}

func (c *conn) presenceSubscribe(id string, m *message, raw []byte) {
	if c.tooMany(id) {
		c.replyErr(raw, errTooManyDocs, false)
		return
	}
	sub := c.ensureSub()
	c.mu.Lock()
	st := c.stateFor(id)
	already := st.presenceSub
	st.presenceSub = true
	c.mu.Unlock()
	if !already {
		ctx, cancel := c.hubCtx()
		err := c.hub.SubscribePresence(ctx, id, sub)
		cancel()
		c.mu.Lock()
		revoked := c.state[id] != st
		if err != nil && !revoked {
			st.presenceSub = false
			c.gc(id)
		}
		c.mu.Unlock()
		if err == nil && revoked {
			c.hub.UnsubscribePresence(id, sub)
			err = docket.Errorf(docket.ENOTFOUND, "Document not found.")
		}
		if err != nil {
			c.replyErr(raw, err, false)
			return
		}
	}
	c.send(channelFrame("ps", m.Ch, m.Seq))
}

// presenceUnsubscribe ends the presence subscription of a document and,
// as ShareDB does, clears this client's presences there.
func (c *conn) presenceUnsubscribe(id string) {
	c.mu.Lock()
	st := c.state[id]
	if st == nil {
		c.mu.Unlock()
		return
	}
	was := st.presenceSub
	pres := st.presences
	st.presenceSub, st.presences = false, nil
	c.gc(id)
	c.mu.Unlock()
	c.clearPresences(id, pres)
	if was {
		c.hub.UnsubscribePresence(id, c.sub.Load())
	}
}

// clearPresences tells the others that presences left, with the presence
// version the client last used (stock clients ignore an older one).
func (c *conn) clearPresences(id string, pres map[string]presenceState) {
	if len(pres) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.HubTimeout)
	defer cancel()
	for pid, p := range pres {
		c.hub.SubmitPresence(ctx, id, Presence{Src: c.src, ID: pid, Version: -1, Value: json.RawMessage("null"), Seq: p.pv})
	}
}

func (c *conn) submitPresence(id string, m *message, raw []byte) {
	if !c.presenceLimit.Allow() {
		c.sendError(raw, errRateLimited, "Too many presence updates; slow down.")
		c.strike()
		return
	}
	pid, ok := parseString(m.ID)
	if !ok || pid == "" || len(pid) > 100 {
		c.sendError(raw, errBadMessage, "Invalid presence ID")
		return
	}
	pv, ok := parseInt(m.PV, 0)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid presence version")
		return
	}
	value := m.P
	if len(value) == 0 {
		value = json.RawMessage("null")
	}
	if len(value) > c.opts.MaxPresenceBytes {
		c.sendError(raw, errBadMessage, fmt.Sprintf("Presence values are limited to %d bytes.", c.opts.MaxPresenceBytes))
		return
	}
	version, ok := c.version(m, raw)
	if !ok {
		return
	}
	if version < 0 {
		version = presenceValueVersion(value)
	}
	null := isNull(value)
	c.mu.Lock()
	st := c.state[id]
	if !null && (st == nil || st.presences[pid].value == nil) {
		if (st == nil && len(c.state) >= c.opts.MaxDocuments) || (st != nil && len(st.presences) >= maxPresenceIDs) {
			c.mu.Unlock()
			c.sendError(raw, errBadMessage, "Too many presences.")
			return
		}
	}
	c.mu.Unlock()
	c.ensureSub()
	ctx, cancel := c.hubCtx()
	out, err := c.hub.SubmitPresence(ctx, id, Presence{Src: c.src, ID: pid, Version: version, Value: value, Seq: pv})
	cancel()
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	c.mu.Lock()
	if null {
		if st := c.state[id]; st != nil {
			delete(st.presences, pid)
			c.gc(id)
		}
	} else {
		st := c.stateFor(id)
		if st.presences == nil {
			st.presences = map[string]presenceState{}
		}
		if old, ok := st.presences[pid]; !ok || old.pv <= pv {
			st.presences[pid] = presenceState{pv: pv, value: out.Value}
		}
	}
	c.mu.Unlock()
	c.send(presenceFrame(m.Ch, out))
}
