package ot

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestTransformRange checks the boundary rules on "abcdefgh" with the
// range [2, 5) = "cde".
func TestTransformRange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		op         string
		start, end int
	}{
		{"insert before", `[1,"XY"]`, 4, 7},
		{"insert at start stays outside", `[2,"XY"]`, 4, 7},
		{"insert inside grows", `[3,"XY"]`, 2, 7},
		{"insert at end stays outside", `[5,"XY"]`, 2, 5},
		{"insert after", `[6,"XY"]`, 2, 5},
		{"astral insert counts one", `[3,"😀"]`, 2, 6},
		{"delete before", `[{"d":2}]`, 0, 3},
		{"delete across start", `[1,{"d":2}]`, 1, 3},
		{"delete inside", `[3,{"d":1}]`, 2, 4},
		{"delete across end", `[4,{"d":3}]`, 2, 4},
		{"delete after", `[5,{"d":3}]`, 2, 5},
		{"delete exactly the range", `[2,{"d":3}]`, 2, 2},
		{"delete around the range", `[1,{"d":6}]`, 1, 1},
		{"replace the range", `[2,"XY",{"d":3}]`, 4, 4},
		{"replace inside", `[3,"XY",{"d":1}]`, 2, 6},
		{"delete then insert at end", `[4,{"d":1},"XY"]`, 2, 4},
		{"two edits", `[1,"X",3,{"d":1},"Y"]`, 3, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e := TransformRange(2, 5, op(t, tc.op))
			if s != tc.start || e != tc.end {
				t.Errorf("TransformRange(2, 5, %s) = [%d, %d); want [%d, %d)", tc.op, s, e, tc.start, tc.end)
			}
		})
	}
	// A collapsed range moves as a cursor and never opens again.
	if s, e := TransformRange(3, 3, op(t, `[3,"XY"]`)); s != 3 || e != 3 {
		t.Errorf("TransformRange(3, 3, insert at 3) = [%d, %d); want [3, 3)", s, e)
	}
}

// TestShapeTransformRange checks that the shortcut through an op's shape
// gives the same ranges as moving through the op itself, and that the
// shape scanned from the op's JSON is the shape of the op.
func TestShapeTransformRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20000 {
		n := 30
		var comps []any
		pos := 0
		for range 1 + rng.IntN(3) {
			skip := rng.IntN(6)
			if pos+skip >= n {
				break
			}
			if skip > 0 {
				comps = append(comps, skip)
			}
			pos += skip
			switch rng.IntN(3) {
			case 0:
				comps = append(comps, "ab")
			case 1:
				d := 1 + rng.IntN(min(4, n-pos))
				comps = append(comps, map[string]int{"d": d})
				pos += d
			case 2:
				d := 1 + rng.IntN(min(4, n-pos))
				comps = append(comps, "é😀\n\"\x01", map[string]int{"d": d})
				pos += d
			}
		}
		raw, _ := json.Marshal(comps)
		o := Normalize(op(t, string(raw)))
		sh := ShapeOf(o)
		s := rng.IntN(n)
		e := s + rng.IntN(n-s+1)
		ws, we := TransformRange(s, e, o)
		gs, ge, ok := sh.TransformRange(s, e)
		if !ok {
			gs, ge = TransformRange(s, e, o)
		}
		raw2, _ := o.MarshalJSON()
		if got, ok := ScanShape(raw2); !ok || got != sh {
			t.Fatalf("ScanShape(%s) = %+v, %v; want %+v", raw2, got, ok, sh)
		}
		if gs != ws || ge != we {
			t.Fatalf("%d: op %s shape %+v on [%d, %d): shortcut [%d, %d); want [%d, %d)", i, raw, sh, s, e, gs, ge, ws, we)
		}
	}
}

// TestScanShape checks the shape scanned from JSON against the shape of
// the decoded op, also for JSON that this package would not write itself.
func TestScanShape(t *testing.T) {
	for _, tc := range []struct {
		json string
		ok   bool
	}{
		{`[3,"ab",{"d":2}]`, true},
		{` [ 3 , "a\u00e9\ud83d\ude00\n" , { "d" : "xy" } , 4 , {"d":1} ] `, true},
		{`[{"d":"😀é"},"\"\\"]`, true},
		{`[]`, true},
		{`[0]`, false},
		{`[3,{"e":1}]`, false},
		{`[3,"ab"`, false},
		{`[3] x`, false},
		{`{"d":1}`, false},
	} {
		got, ok := ScanShape([]byte(tc.json))
		if ok != tc.ok {
			t.Errorf("ScanShape(%s) ok = %v; want %v", tc.json, ok, tc.ok)
			continue
		}
		if ok {
			if want := ShapeOf(op(t, tc.json)); got != want {
				t.Errorf("ScanShape(%s) = %+v; want %+v", tc.json, got, want)
			}
		}
	}
}
