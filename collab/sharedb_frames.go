package collab

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

// The wire format of ShareDB protocol 1.2 as a stock `sharedb` client
// expects it; see shared/protocol/SHAREDB-NOTES.md part A.

const (
	// shareDBCollection is the only collection served.
	shareDBCollection = "docs"
	// jsonTypeURI must be named as the default type in init and hs, or the
	// stock client refuses the server (ERR_DEFAULT_TYPE_MISMATCH).
	jsonTypeURI = "http://sharejs.org/types/JSONv0"
	// presencePrefix starts the presence channel of a document.
	presencePrefix = shareDBCollection + "."
	// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER.
	maxSafeInteger = 1<<53 - 1
	// maxBulk is the most documents in one bulk message.
	maxBulk = 1000
	// maxPresenceIDs is the most presence ids a connection keeps on one
	// document.
	maxPresenceIDs = 32
)

// Error codes of the protocol. Most are ShareDB's own (lib/error.js);
// ERR_RATE_LIMITED, ERR_UNAVAILABLE and ERR_CATCH_UP_TOO_LONG are ours.
const (
	errBadMessage      = "ERR_MESSAGE_BADLY_FORMED"
	errDocMissing      = "ERR_DOC_DOES_NOT_EXIST"
	errRejected        = "ERR_OP_SUBMIT_REJECTED"
	errNotApplied      = "ERR_OT_OP_NOT_APPLIED"
	errVersionAhead    = "ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT"
	errNoOp            = "ERR_NO_OP"
	errUnknown         = "ERR_UNKNOWN_ERROR"
	errRateLimited     = "ERR_RATE_LIMITED"
	errUnavailable     = "ERR_UNAVAILABLE"
	errCatchUpTooLong  = "ERR_CATCH_UP_TOO_LONG"
	msgCreateDelRefuse = "Documents are created with POST /api/docs and deleted with DELETE /api/docs/:id; the live socket only edits them."
)

// message is a request from a client. Fields that may hold more than one
// JSON type stay raw until the handler reads them.
type message struct {
	A        string          `json:"a"`
	C        string          `json:"c"`
	D        string          `json:"d"`
	V        json.RawMessage `json:"v"`
	Seq      json.RawMessage `json:"seq"`
	Src      json.RawMessage `json:"src"`
	Op       json.RawMessage `json:"op"`
	Create   json.RawMessage `json:"create"`
	Del      json.RawMessage `json:"del"`
	B        json.RawMessage `json:"b"`
	ID       json.RawMessage `json:"id"`
	Ch       string          `json:"ch"`
	P        json.RawMessage `json:"p"`
	PV       json.RawMessage `json:"pv"`
	Protocol json.RawMessage `json:"protocol"`
}

// isNull reports whether a raw field is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// parseInt reads a raw field as a JSON integer between min and
// maxSafeInteger.
func parseInt(raw json.RawMessage, min int64) (int64, bool) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n < min || n > maxSafeInteger {
		return 0, false
	}
	return n, true
}

// parseVersion reads an optional version: -1 when absent or null.
func parseVersion(raw json.RawMessage) (int64, bool) {
	if isNull(raw) {
		return -1, true
	}
	return parseInt(raw, 0)
}

// parseString reads a raw field as a JSON string; ok is false for any
// other type. Absent and null give "".
func parseString(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// docFrame starts a frame addressed to a document: {"a":A,"c":"docs","d":ID
func docFrame(b []byte, action, id string) []byte {
	b = append(b, `{"a":`...)
	b = appendString(b, action)
	b = append(b, `,"c":"docs","d":`...)
	return appendString(b, id)
}

// initFrame is the unsolicited legacy hello sent on accept.
func initFrame(src string) []byte {
	return handshakeFrame("init", src)
}

// handshakeFrame answers hs (and is the init frame).
func handshakeFrame(action, src string) []byte {
	b := []byte(`{"a":`)
	b = appendString(b, action)
	b = append(b, `,"protocol":1,"protocolMinor":2,"id":`...)
	b = appendString(b, src)
	b = append(b, `,"type":"`+jsonTypeURI+`"}`...)
	return b
}

// opFrame is a committed op as sent to subscribers: the op as committed
// and the version it was committed at. Version 0 is the document's
// creation, sent as a create.
func opFrame(id string, rec *docket.OpRecord) []byte {
	b := make([]byte, 0, 96+len(rec.Op)+len(rec.Src))
	b = docFrame(b, "op", id)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, rec.Version, 10)
	b = append(b, `,"src":`...)
	b = appendString(b, rec.Src)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, rec.Seq, 10)
	if rec.Version == 0 {
		text := ""
		var op ot.Op
		if op.UnmarshalJSON(rec.Op) == nil {
			text, _ = ot.Apply("", op)
		}
		data, _ := json.Marshal(text)
		b = append(b, `,"create":{"type":"`+ot.TypeURI+`","data":`...)
		b = append(b, data...)
		b = append(b, '}')
	} else if len(rec.Op) == 0 {
		b = append(b, `,"op":[]`...)
	} else {
		b = append(b, `,"op":`...)
		b = append(b, rec.Op...)
	}
	return append(b, '}')
}

// ackFrame acknowledges a submitted op: no op key, only src, seq and the
// version the op was committed at.
func ackFrame(id, src string, seq, version int64) []byte {
	b := docFrame(nil, "op", id)
	b = append(b, `,"src":`...)
	b = appendString(b, src)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"v":`...)
	b = strconv.AppendInt(b, version, 10)
	return append(b, '}')
}

// appendSnapshot appends {"v":N,"data":"text","type":URI}.
func appendSnapshot(b []byte, version int64, text string) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, version, 10)
	data, _ := json.Marshal(text)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, `,"type":"`+ot.TypeURI+`"}`...)
}

// snapshotFrame answers f or s without a version.
func snapshotFrame(action, id string, version int64, text string) []byte {
	b := docFrame(make([]byte, 0, 96+len(text)), action, id)
	b = append(b, `,"data":`...)
	b = appendSnapshot(b, version, text)
	return append(b, '}')
}

// docReply answers f, s or u with no data.
func docReply(action, id string) []byte {
	return append(docFrame(nil, action, id), '}')
}

// bulkReply answers bf, bs or bu: with data (snapshots by id) or, when
// data is nil, echoing b.
func bulkReply(action string, data map[string]json.RawMessage, b json.RawMessage) []byte {
	out := []byte(`{"a":`)
	out = appendString(out, action)
	out = append(out, `,"c":"docs"`...)
	if data != nil {
		raw, _ := json.Marshal(data)
		out = append(out, `,"data":`...)
		out = append(out, raw...)
	} else {
		out = append(out, `,"b":`...)
		out = append(out, b...)
	}
	return append(out, '}')
}

// errorObject is {"code":..., "message":...}.
func errorObject(code, msg string) json.RawMessage {
	raw, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	return raw
}

// errorFrame is the request sent back with an error added, as ShareDB
// answers every failed request. A request that is not a JSON object (or
// not UTF-8) gets a bare {"error":...}.
func errorFrame(request []byte, code, msg string) []byte {
	var m map[string]json.RawMessage
	if request != nil && json.Unmarshal(request, &m) == nil && m != nil {
		m["error"] = errorObject(code, msg)
		if out, err := json.Marshal(m); err == nil {
			return out
		}
	}
	out, _ := json.Marshal(map[string]json.RawMessage{"error": errorObject(code, msg)})
	return out
}

// presenceFrame is a presence update as relayed to the channel and acked
// to its sender. When the value is an object with a numeric "v" (the
// version its positions refer to), v is set to the version the hub moved
// the positions to.
func presenceFrame(ch string, p Presence) []byte {
	value := p.Value
	if len(value) == 0 {
		value = json.RawMessage("null")
	}
	if len(value) > 0 && value[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(value, &m) == nil {
			if v, ok := m["v"]; ok {
				if _, isNum := parseInt(v, 0); isNum {
					m["v"] = strconv.AppendInt(nil, p.Version, 10)
					if out, err := json.Marshal(m); err == nil {
						value = out
					}
				}
			}
		}
	}
	b := make([]byte, 0, 96+len(value))
	b = append(b, `{"a":"p","ch":`...)
	b = appendString(b, ch)
	b = append(b, `,"src":`...)
	b = appendString(b, p.Src)
	b = append(b, `,"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"p":`...)
	b = append(b, value...)
	b = append(b, `,"pv":`...)
	b = strconv.AppendInt(b, p.Seq, 10)
	if id, ok := strings.CutPrefix(ch, presencePrefix); ok {
		// What the stock client's doc presence (connection.getDocPresence)
		// reads: the document, the version the positions are at, and its
		// type. Plain presence on the channel ignores these.
		b = append(b, `,"c":`...)
		b = appendString(b, shareDBCollection)
		b = append(b, `,"d":`...)
		b = appendString(b, id)
		b = append(b, `,"v":`...)
		b = strconv.AppendInt(b, p.Version, 10)
		b = append(b, `,"t":"`+ot.TypeURI+`"`...)
	}
	return append(b, '}')
}

// presenceValueVersion returns the numeric "v" of a presence value, or -1.
func presenceValueVersion(value json.RawMessage) int64 {
	if len(value) == 0 || value[0] != '{' {
		return -1
	}
	var m struct {
		V json.RawMessage `json:"v"`
	}
	if json.Unmarshal(value, &m) != nil || isNull(m.V) {
		return -1
	}
	if v, ok := parseInt(m.V, 0); ok {
		return v
	}
	return -1
}

// channelFrame is {"a":A,"ch":CH,"seq":SEQ} (seq left out when absent).
func channelFrame(action, ch string, seq json.RawMessage) []byte {
	b := []byte(`{"a":`)
	b = appendString(b, action)
	b = append(b, `,"ch":`...)
	b = appendString(b, ch)
	if len(seq) > 0 {
		b = append(b, `,"seq":`...)
		b = append(b, seq...)
	}
	return append(b, '}')
}

// closePayload is the body of a close frame: the code and a reason of at
// most 123 bytes.
func closePayload(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

// wireCodes maps the domain's error codes to the protocol's. EINVALID is
// errNotApplied only for an op submission (see wireError).
var wireCodes = map[string]string{
	docket.ENOTFOUND:     errDocMissing,
	docket.EFORBIDDEN:    errRejected,
	docket.EUNAUTHORIZED: errRejected,
	docket.ECONFLICT:     errVersionAhead,
	docket.EINVALID:      errNotApplied,
	docket.ETOOLARGE:     errNotApplied,
	docket.EUNPROCESS:    errNotApplied,
	docket.ERATELIMIT:    errRateLimited,
	docket.EUNAVAILABLE:  errUnavailable,
}

// wireError translates an error of the domain or the hub into a protocol
// error code and a message safe to show. forOp selects the codes of op
// submissions, which the stock client acts on.
func wireError(err error, forOp bool) (code, msg string) {
	if errors.Is(err, ErrNoOp) {
		return errNoOp, docket.ErrorMessage(err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errUnavailable, "The server did not answer in time; try again."
	}
	ec := docket.ErrorCode(err)
	if ec == docket.EINVALID && !forOp {
		return errBadMessage, docket.ErrorMessage(err)
	}
	if wc, ok := wireCodes[ec]; ok {
		return wc, docket.ErrorMessage(err)
	}
	return errUnknown, "Internal error."
}
