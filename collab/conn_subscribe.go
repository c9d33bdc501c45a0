package collab

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// This file serves the requests that bring a client's copy of documents
// up to date: fetch (f, nf), subscribe and unsubscribe (s, u) and their
// bulk forms (bf, bs, bu).

// fetch answers f: the current snapshot, or with a version the ops since.
func (c *conn) fetch(m *message, raw []byte) {
	v, ok := c.version(m, raw)
	if !ok {
		return
	}
	if _, err := c.checkDoc(m.C, m.D); err != nil {
		c.replyErr(raw, err, false)
		return
	}
	if v < 0 {
		ctx, cancel := c.hubCtx()
		version, text, err := c.hub.Snapshot(ctx, m.D)
		cancel()
		if err != nil {
			c.replyErr(raw, err, false)
			return
		}
		c.send(snapshotFrame("f", m.D, version, text))
		return
	}
	d, err := c.fetchOps(m.D, v)
	if err != nil {
		if !c.catchUpError(raw, err) {
			c.replyErr(raw, err, false)
		}
		return
	}
	c.enqueue(outItem{sync: &syncItem{docs: []syncDoc{d}, reply: docReply("f", m.D)}})
}

// fetchOps reads the ops from version v to the current one.
func (c *conn) fetchOps(id string, v int64) (syncDoc, error) {
	ctx, cancel := c.hubCtx()
	current, _, err := c.hub.snapshotAt(ctx, id, v)
	cancel()
	if err != nil {
		return syncDoc{}, err
	}
	if v > current {
		return syncDoc{}, &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version %d is newer than the document (%d).", v, current)}
	}
	ops, err := c.loadOps(id, v, current)
	if err != nil {
		return syncDoc{}, err
	}
	return syncDoc{id: id, ops: ops, at: v + int64(len(ops))}, nil
}

// loadOps reads the op log from from to to, at most MaxCatchUp ops.
func (c *conn) loadOps(id string, from, to int64) ([]*docket.OpRecord, error) {
	if to-from > c.opts.MaxCatchUp {
		return nil, errBehind(to - from)
	}
	ctx, cancel := c.hubCtx()
	defer cancel()
	return docket.FindAllOps(ctx, c.store, id, from, to)
}

// errBehind refuses to catch up a client that is n versions behind.
func errBehind(n int64) error {
	return &docket.Error{Code: docket.EUNPROCESS, Message: fmt.Sprintf("The client is %d versions behind; fetch the document again.", n), Data: map[string]any{"behind": n}}
}

// catchUpError sends the reply for a client too far behind, if err says so.
func (c *conn) catchUpError(request []byte, err error) bool {
	if _, ok := docket.ErrorData(err)["behind"]; ok {
		c.sendError(request, errCatchUpTooLong, docket.ErrorMessage(err))
		return true
	}
	return false
}

// subscribeDoc subscribes to a document's ops from version from, or from
// a snapshot when from < 0, and returns what the writer must send.
func (c *conn) subscribeDoc(coll, id string, from int64) (syncDoc, string, error) {
	meta, err := c.checkDoc(coll, id)
	if err != nil {
		return syncDoc{}, "", err
	}
	if from > meta.Version {
		return syncDoc{}, "", &docket.Error{Code: docket.ECONFLICT, Message: fmt.Sprintf("Version %d is newer than the document (%d).", from, meta.Version)}
	}
	if from >= 0 && meta.Version-from > c.opts.MaxCatchUp {
		return syncDoc{}, "", errBehind(meta.Version - from)
	}
	if c.tooMany(id) {
		return syncDoc{}, "", errTooManyDocs
	}
	sub := c.ensureSub()
	c.mu.Lock()
	st := c.stateFor(id)
	was := st.subscribed
	st.subscribed, st.syncing = true, true
	c.mu.Unlock()

	ctx, cancel := c.hubCtx()
	version, text, ops, err := c.hub.Subscribe(ctx, id, sub, from)
	cancel()

	c.mu.Lock()
	revoked := c.state[id] != st
	if err != nil && !revoked {
		st.syncing = false
		if !was {
			st.subscribed, st.pending = false, nil
			c.gc(id)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return syncDoc{}, "", err
	}
	if revoked {
		// Access was revoked while subscribing.
		c.hub.Unsubscribe(id, sub)
		return syncDoc{}, "", docket.Errorf(docket.ENOTFOUND, "Document not found.")
	}
	return syncDoc{id: id, ops: ops, at: version, subscribe: true}, text, nil
}

// subscribe answers s.
func (c *conn) subscribe(m *message, raw []byte) {
	v, ok := c.version(m, raw)
	if !ok {
		return
	}
	d, text, err := c.subscribeDoc(m.C, m.D, v)
	if err != nil {
		if !c.catchUpError(raw, err) {
			c.replyErr(raw, err, false)
		}
		return
	}
	reply := docReply("s", m.D)
	if v < 0 {
		reply = snapshotFrame("s", m.D, d.at, text)
	}
	c.enqueue(outItem{sync: &syncItem{docs: []syncDoc{d}, reply: reply}})
}

// unsubscribeDoc ends the op subscription of a document.
func (c *conn) unsubscribeDoc(id string) {
	c.mu.Lock()
	st := c.state[id]
	if st == nil || !st.subscribed {
		c.mu.Unlock()
		return
	}
	st.subscribed, st.syncing, st.pending, st.next = false, false, nil, 0
	c.gc(id)
	c.mu.Unlock()
	// The presence subscription, if any, goes on.
	c.hub.Unsubscribe(id, c.sub.Load())
}

// unsubscribe answers u.
func (c *conn) unsubscribe(m *message, raw []byte) {
	if m.C != shareDBCollection || !docket.ValidID(m.D) {
		c.send(docReply("u", m.D))
		return
	}
	c.unsubscribeDoc(m.D)
	c.send(docReply("u", m.D))
}

// bulk answers bf, bs and bu. With a list of ids, bf and bs answer with a
// snapshot (or an error) per id; with a map of versions they send the
// ops each document missed and echo b, all or nothing.
func (c *conn) bulk(m *message, raw []byte) {
	if m.C != shareDBCollection {
		c.sendError(raw, errDocMissing, fmt.Sprintf("Unknown collection %q.", m.C))
		return
	}
	var ids []string
	var versions map[string]json.RawMessage
	if json.Unmarshal(m.B, &ids) != nil {
		if json.Unmarshal(m.B, &versions) != nil || versions == nil {
			c.sendError(raw, errBadMessage, "Invalid bulk subscribe data")
			return
		}
		for id := range versions {
			ids = append(ids, id)
		}
		slices.Sort(ids)
	}
	if len(ids) > maxBulk {
		c.sendError(raw, errBadMessage, fmt.Sprintf("At most %d documents per bulk request.", maxBulk))
		return
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	action := m.A
	if action == "bu" {
		for _, id := range ids {
			if docket.ValidID(id) {
				c.unsubscribeDoc(id)
			}
		}
		c.send(bulkReply(action, nil, m.B))
		return
	}
	if versions == nil {
		// Snapshots, one answer per id.
		data := map[string]json.RawMessage{}
		var docs []syncDoc
		for _, id := range ids {
			var d syncDoc
			var text string
			var err error
			if action == "bs" {
				d, text, err = c.subscribeDoc(m.C, id, -1)
			} else if _, err = c.checkDoc(m.C, id); err == nil {
				ctx, cancel := c.hubCtx()
				d.at, text, err = c.hub.Snapshot(ctx, id)
				cancel()
			}
			if err != nil {
				code, msg := wireError(err, false)
				data[id] = json.RawMessage(`{"error":` + string(errorObject(code, msg)) + `}`)
				continue
			}
			data[id] = appendSnapshot(nil, d.at, text)
			if action == "bs" {
				docs = append(docs, d)
			}
		}
		c.enqueue(outItem{sync: &syncItem{docs: docs, reply: bulkReply(action, data, nil)}})
		return
	}
	// Versions: ops since each version, then b echoed; one failure fails
	// the request and undoes the subscriptions it made.
	var docs []syncDoc
	var failed error
	for _, id := range ids {
		v, ok := parseInt(versions[id], 0)
		if !ok {
			failed = docket.Errorf(docket.EINVALID, "Invalid version")
			break
		}
		var d syncDoc
		var err error
		if action == "bs" {
			d, _, err = c.subscribeDoc(m.C, id, v)
		} else if _, err = c.checkDoc(m.C, id); err == nil {
			d, err = c.fetchOps(id, v)
		}
		if err != nil {
			failed = err
			break
		}
		docs = append(docs, d)
	}
	if failed != nil {
		if action == "bs" {
			for _, d := range docs {
				c.unsubscribeDoc(d.id)
			}
		}
		if !c.catchUpError(raw, failed) {
			c.replyErr(raw, failed, false)
		}
		return
	}
	c.enqueue(outItem{sync: &syncItem{docs: docs, reply: bulkReply(action, nil, m.B)}})
}

// snapshotAt answers nf: the text at a version (the current one when v is
// null or past it).
func (c *conn) snapshotAt(m *message, raw []byte) {
	v, ok := c.version(m, raw)
	if !ok {
		return
	}
	meta, err := c.checkDoc(m.C, m.D)
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	if v < 0 || v > meta.Version {
		v = meta.Version
	}
	ctx, cancel := c.hubCtx()
	text, err := c.store.DocumentAt(ctx, m.D, v)
	cancel()
	if err != nil {
		c.replyErr(raw, err, false)
		return
	}
	id := m.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b := []byte(`{"a":"nf","id":`)
	b = append(b, id...)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, v, 10)
	if v == 0 {
		b = append(b, `,"type":null,"m":null}`...)
	} else {
		data, _ := json.Marshal(text)
		b = append(b, `,"type":"`+ot.TypeURI+`","data":`...)
		b = append(b, data...)
		b = append(b, `,"m":null}`...)
	}
	c.send(b)
}
