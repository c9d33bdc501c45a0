package ot

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// vector is one case of testdata/vectors.json, written by
// testdata/gen/gen.js from the npm package ot-text-unicode@4.0.0.
type vector struct {
	Kind     string          `json:"kind"`
	Doc      *string         `json:"doc"`
	Op       json.RawMessage `json:"op"`
	Other    json.RawMessage `json:"other"`
	A        json.RawMessage `json:"a"`
	B        json.RawMessage `json:"b"`
	Side     string          `json:"side"`
	Pos      int             `json:"pos"`
	Mismatch bool            `json:"mismatch"`
	Result   json.RawMessage `json:"result"`
	Error    *string         `json:"error"`
}

type vectorFile struct {
	Package string         `json:"package"`
	Counts  map[string]int `json:"counts"`
	Cases   []vector       `json:"cases"`
}

// loadVectors reads testdata/vectors.json, or the file named by
// $OT_VECTORS for a larger local run (see testdata/gen/gen.js).
func loadVectors(tb testing.TB) vectorFile {
	tb.Helper()
	name := "testdata/vectors.json"
	if env := os.Getenv("OT_VECTORS"); env != "" {
		name = env
	}
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	if f.Package != "ot-text-unicode@4.0.0" {
		tb.Fatalf("vectors come from %s; want ot-text-unicode@4.0.0", f.Package)
	}
	if len(f.Cases) < 1000 {
		tb.Fatalf("only %d vectors", len(f.Cases))
	}
	return f
}

// laxOp reads an op as the npm type sees it, without any checks, so that
// malformed ops (0, "", {d:0}, -1, adjacent skips) reach Check. It fails the
// test for what a Component cannot express (fractions, other types).
func laxOp(tb testing.TB, raw json.RawMessage) Op {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var items []any
	if err := dec.Decode(&items); err != nil {
		tb.Fatalf("op %s: %v", raw, err)
	}
	num := func(v json.Number) int {
		n, err := v.Int64()
		if err != nil {
			tb.Fatalf("op %s: number %s: %v", raw, v, err)
		}
		return int(n)
	}
	op := Op{}
	for _, it := range items {
		switch v := it.(type) {
		case json.Number:
			op = append(op, Component{Skip: num(v)})
		case string:
			op = append(op, Component{Insert: v})
		case map[string]any:
			switch d := v["d"].(type) {
			case json.Number:
				op = append(op, Component{Delete: num(d)})
			case string:
				op = append(op, Component{DeleteText: d})
			default:
				tb.Fatalf("op %s: bad delete %v", raw, v)
			}
		default:
			tb.Fatalf("op %s: component %v", raw, it)
		}
	}
	return op
}

// checkOpResult compares an op result with the npm result, in JSON as
// JSON.stringify writes it. The npm result also has to pass UnmarshalJSON.
func checkOpResult(t *testing.T, name string, got Op, err error, v vector) {
	t.Helper()
	if v.Error != nil {
		if err == nil {
			t.Fatalf("%s = %v, nil; want error (npm: %s)", name, got, *v.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v; want %s", name, err, v.Result)
	}
	b, merr := got.MarshalJSON()
	if merr != nil {
		t.Fatalf("%s: MarshalJSON(%#v): %v", name, got, merr)
	}
	if string(b) != string(v.Result) {
		t.Fatalf("%s = %s; want %s", name, b, v.Result)
	}
	var want Op
	if err := want.UnmarshalJSON(v.Result); err != nil {
		t.Fatalf("UnmarshalJSON(%s): %v", v.Result, err)
	}
	if err := Check(got); err != nil {
		t.Fatalf("Check(%v) = %v", got, err)
	}
}

func sideOf(s string) Side {
	switch s {
	case "left":
		return Left
	case "right":
		return Right
	}
	return 0
}

// TestVectors replays every case the npm package computed.
func TestVectors(t *testing.T) {
	f := loadVectors(t)
	seen := map[string]int{}
	for i, v := range f.Cases {
		seen[v.Kind]++
		t.Run(fmt.Sprintf("%04d_%s", i, v.Kind), func(t *testing.T) {
			doc := ""
			if v.Doc != nil {
				doc = *v.Doc
			}
			switch v.Kind {
			case "apply":
				op := laxOp(t, v.Op)
				got, err := Apply(doc, op)
				switch {
				case v.Error != nil:
					if err == nil {
						t.Fatalf("Apply(%q, %v) = %q; want error (npm: %s)", doc, op, got, *v.Error)
					}
				case v.Mismatch:
					// npm ignores the text of deletes; we reject a mismatch.
					if !errors.Is(err, ErrDeleteMismatch) {
						t.Fatalf("Apply(%q, %v) = %q, %v; want ErrDeleteMismatch", doc, op, got, err)
					}
				default:
					var want string
					if err := json.Unmarshal(v.Result, &want); err != nil {
						t.Fatal(err)
					}
					if err != nil || got != want {
						t.Fatalf("Apply(%q, %v) = %q, %v; want %q", doc, op, got, err, want)
					}
				}
			case "transform":
				op, other := laxOp(t, v.Op), laxOp(t, v.Other)
				got, err := Transform(op, other, sideOf(v.Side))
				checkOpResult(t, fmt.Sprintf("Transform(%v, %v, %s)", op, other, v.Side), got, err, v)
			case "compose":
				a, b := laxOp(t, v.A), laxOp(t, v.B)
				got, err := Compose(a, b)
				checkOpResult(t, fmt.Sprintf("Compose(%v, %v)", a, b), got, err, v)
				if v.Doc != nil && err == nil {
					mid, err1 := Apply(doc, a)
					want, err2 := Apply(mid, b)
					res, err3 := Apply(doc, got)
					if err1 != nil || err2 != nil || err3 != nil || res != want {
						t.Fatalf("Apply(%q, Compose) = %q, %v; want %q (%v, %v)", doc, res, err3, want, err1, err2)
					}
				}
			case "transformPosition":
				op := laxOp(t, v.Op)
				var want int
				if err := json.Unmarshal(v.Result, &want); err != nil {
					t.Fatal(err)
				}
				if got := TransformPosition(v.Pos, op); got != want {
					t.Fatalf("TransformPosition(%d, %v) = %d; want %d", v.Pos, op, got, want)
				}
			case "checkOp":
				op := laxOp(t, v.Op)
				err := Check(op)
				if gotErr, wantErr := err != nil, v.Error != nil; gotErr != wantErr {
					t.Fatalf("Check(%s) = %v; npm error: %v", v.Op, err, wantErr)
				}
				if err != nil && !errors.Is(err, ErrInvalidOp) {
					t.Fatalf("Check(%s) = %v; want ErrInvalidOp", v.Op, err)
				}
				// The wire decoder agrees with Check.
				var dec Op
				if err := dec.UnmarshalJSON(v.Op); (err != nil) != (v.Error != nil) {
					t.Fatalf("UnmarshalJSON(%s) = %v; npm error: %v", v.Op, err, v.Error != nil)
				}
			case "normalize":
				op := laxOp(t, v.Op)
				checkOpResult(t, fmt.Sprintf("Normalize(%s)", v.Op), Normalize(op), nil, v)
			case "makeInvertible":
				op := laxOp(t, v.Op)
				got, err := MakeInvertible(op, doc)
				checkOpResult(t, fmt.Sprintf("MakeInvertible(%v, %q)", op, doc), got, err, v)
			case "invert":
				op := laxOp(t, v.Op)
				got, err := Invert(op)
				checkOpResult(t, fmt.Sprintf("Invert(%v)", op), got, err, v)
				if err != nil && !errors.Is(err, ErrNotInvertible) {
					t.Fatalf("Invert(%v) = %v; want ErrNotInvertible", op, err)
				}
			case "stripInvertible":
				op := laxOp(t, v.Op)
				checkOpResult(t, fmt.Sprintf("StripInvertible(%v)", op), StripInvertible(op), nil, v)
			case "isInvertible":
				op := laxOp(t, v.Op)
				var want bool
				if err := json.Unmarshal(v.Result, &want); err != nil {
					t.Fatal(err)
				}
				if got := IsInvertible(op); got != want {
					t.Fatalf("IsInvertible(%v) = %v; want %v", op, got, want)
				}
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
	}
	for k, n := range f.Counts {
		if seen[k] != n {
			t.Errorf("%d %s cases; header says %d", seen[k], k, n)
		}
	}
}

// TestVectorsConverge checks the transform cases that have a document: both
// orders of applying the pair give the same text. Only normalized ops
// converge: with adjacent inserts, which checkOp accepts, the npm type does
// not (see TestTransformUnnormalizedDiverges), so those cases are left out.
func TestVectorsConverge(t *testing.T) {
	f := loadVectors(t)
	n := 0
	for _, v := range f.Cases {
		if v.Kind != "transform" || v.Doc == nil || v.Side != "left" || v.Error != nil {
			continue
		}
		doc, a, b := *v.Doc, laxOp(t, v.Op), laxOp(t, v.Other)
		if !slices.Equal(a, Normalize(a)) || !slices.Equal(b, Normalize(b)) {
			continue
		}
		a2, err1 := Transform(a, b, Left)
		b2, err2 := Transform(b, a, Right)
		if err1 != nil || err2 != nil {
			t.Fatalf("Transform: %v, %v", err1, err2)
		}
		x1, err1 := applyAll(doc, b, a2)
		x2, err2 := applyAll(doc, a, b2)
		if err1 != nil || err2 != nil || x1 != x2 {
			t.Errorf("doc %q a %v b %v: b then a' = %q (%v); a then b' = %q (%v)", doc, a, b, x1, err1, x2, err2)
		}
		n++
	}
	if n < 500 {
		t.Fatalf("only %d convergence cases", n)
	}
}

func applyAll(doc string, ops ...Op) (string, error) {
	for _, op := range ops {
		var err error
		if doc, err = Apply(doc, op); err != nil {
			return "", err
		}
	}
	return doc, nil
}
