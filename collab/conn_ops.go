package collab

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// This file takes an op from the client to the hub and queues its ack
// for the writer.

// submit answers op: an edit is checked, transformed, committed and
// acknowledged; create and del are refused.
func (c *conn) submit(m *message, raw []byte) {
	if !c.opLimit.Allow() {
		c.sendError(raw, errRateLimited, "Too many ops; slow down.")
		c.strike()
		return
	}
	if m.Op == nil {
		if !isNull(m.Create) || (len(m.Del) > 0 && string(m.Del) != "false" && string(m.Del) != "null") {
			c.sendError(raw, errRejected, msgCreateDelRefuse)
			return
		}
		c.sendError(raw, errBadMessage, "Missing op, create, or del")
		return
	}
	seq, ok := parseInt(m.Seq, 1)
	if !ok {
		c.sendError(raw, errBadMessage, "Invalid seq")
		return
	}
	v, ok := c.version(m, raw)
	if !ok {
		return
	}
	// The op's src names the agent that first sent it (a resend after a
	// reconnect keeps it); only this user's agent ids are accepted, so
	// nobody can de-duplicate against, or be acked as, someone else.
	src := c.src
	if claimed, ok := parseString(m.Src); ok && claimed != "" && validSrc(c.userID, claimed) {
		src = claimed
	}
	var op ot.Op
	if err := op.UnmarshalJSON(m.Op); err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "ot: "), "invalid op: ")
		c.sendError(raw, errNotApplied, "Invalid op: "+msg)
		return
	}
	// Access may have been revoked since the last check (a sign-out, a
	// deleted token): then the credentials are checked before the op is
	// taken, not seconds later. The role is read with the document.
	if c.epochMoved(&c.opEpoch) && !c.credentialsHold() {
		return
	}
	meta, err := c.checkDoc(m.C, m.D)
	if err != nil {
		c.replyErr(raw, err, true)
		return
	}
	if !meta.Role.AtLeast(docket.RoleEditor) {
		c.sendError(raw, errRejected, "You need the editor role in this space to change documents.")
		return
	}
	c.ensureSub()
	ctx, cancel := c.hubCtx()
	ack, err := c.hub.Submit(ctx, m.D, Submission{Version: v, Op: op, Src: src, Seq: seq, Author: c.userID})
	cancel()
	if err != nil {
		code := docket.ErrorCode(err)
		if !errors.Is(err, ErrNoOp) && (code == docket.EINTERNAL || code == docket.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			// The op was not stored, or may still be: close, so that the
			// client keeps it and resends it once reconnected, where it
			// is de-duplicated. An error reply would make it drop the op.
			if code == docket.EINTERNAL {
				c.log.Error("live: op not stored", slog.Any("err", err), slog.String("doc", m.D), slog.String("user", c.userID))
			}
			c.close(CloseTryAgainLater, "The op could not be stored; reconnect and resend it.")
			return
		}
		c.replyErr(raw, err, true)
		return
	}
	missed := ack.Missed
	if ack.Duplicate && v >= 0 && v < ack.Version {
		// The hub does not list what a duplicate was transformed
		// against; the client, at version v, needs it before the ack.
		missed, _ = c.loadOps(m.D, v, ack.Version)
	}
	c.enqueue(outItem{ack: &ackItem{doc: m.D, missed: missed, version: ack.Version, frame: ackFrame(m.D, src, seq, ack.Version), read: c.readAt}})
}
