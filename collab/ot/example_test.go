package ot_test

import (
	"encoding/json"
	"fmt"

	"github.com/docket-dev/docket/collab/ot"
)

// A server receives an op made at an older version and transforms it, as
// the left side, against each op committed since, one at a time.
func ExampleTransform() {
	doc := "hi"
	var committed, incoming ot.Op
	_ = json.Unmarshal([]byte(`[2,"B"]`), &committed)
	_ = json.Unmarshal([]byte(`[2,"A"]`), &incoming)

	doc, _ = ot.Apply(doc, committed)
	op, err := ot.Transform(ot.Normalize(incoming), committed, ot.Left)
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ = ot.Apply(doc, op)
	fmt.Println(op, doc)
	// Output: [2,"A"] hiAB
}

// Positions count code points: the emoji is one.
func ExampleApply() {
	var op ot.Op
	_ = json.Unmarshal([]byte(`[1,{"d":1},"ü"]`), &op)
	doc, err := ot.Apply("😭x!", op)
	fmt.Println(doc, err)
	// Output: 😭ü! <nil>
}

// A whole new text, as a REST save sends it, becomes a small op.
func ExampleDiff() {
	op := ot.Diff("The meeting is on Monday.", "The meeting is on Tuesday!")
	fmt.Println(op)
	// Output: [18,{"d":3},"Tues",3,{"d":1},"!"]
}

func ExampleTransformPosition() {
	var op ot.Op
	_ = json.Unmarshal([]byte(`[1,"xx",1,{"d":2}]`), &op)
	for _, pos := range []int{0, 1, 2, 3, 5} {
		fmt.Print(ot.TransformPosition(pos, op), " ")
	}
	// Output: 0 1 4 4 5
}
