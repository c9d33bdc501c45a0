package bolt

import (
	"encoding/json"
	"testing"
	"time"

	docket "github.com/docket-dev/docket"
	"github.com/docket-dev/docket/collab/ot"
)

func mustOp(t *testing.T, s string) ot.Op {
	t.Helper()
	var op ot.Op
	if err := json.Unmarshal([]byte(s), &op); err != nil {
		t.Fatalf("op %s: %v", s, err)
	}
	return op
}

// The range arithmetic anchors use (ot.TransformRange, ot.Shape,
// ot.ScanShape) is tested in collab/ot; moveAnchors is tested through the
// thread service (thread_test.go).

// TestDecodeRecordOp checks the fast path and the fallback of op decoding.
func TestDecodeRecordOp(t *testing.T) {
	rec := docket.OpRecord{Version: 3, Src: `"op":[1]`, Author: "a", Time: time.Unix(0, 0), Op: json.RawMessage(`[2,"say \"op\":[9]",{"d":1}]`)}
	stored, _ := json.Marshal(rec)
	op, err := decodeRecordOp(stored)
	if err != nil {
		t.Fatal(err)
	}
	want := mustOp(t, string(rec.Op))
	if got, _ := op.MarshalJSON(); string(got) != string(rec.Op) {
		t.Errorf("decodeRecordOp = %s; want %v", got, want)
	}
	// A record with a field after the op is decoded the slow way.
	odd := []byte(`{"v":3,"op":[2,"x"],"extra":"\"op\":[1]"}`)
	if op, err := decodeRecordOp(odd); err != nil || len(op) != 2 || op[1].Insert != "x" {
		t.Errorf("decodeRecordOp(%s) = %v, %v; want [2,\"x\"]", odd, op, err)
	}
	if _, err := decodeRecordOp([]byte(`{"v":3,"op":{"x":1}}`)); err == nil {
		t.Error("decodeRecordOp of a bad op succeeded")
	}
}
