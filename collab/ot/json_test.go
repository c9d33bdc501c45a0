package ot

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestMarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   Op
		want string
	}{
		{"nil", nil, `[]`},
		{"all kinds", Op{{Skip: 3}, {Insert: "hi"}, {Delete: 2}, {DeleteText: "ab"}}, `[3,"hi",{"d":2},{"d":"ab"}]`},
		// JSON.stringify escapes only quotes, backslashes and control
		// characters, with lower-case hex.
		{"escapes", Op{{Insert: "\"\\\b\f\n\r\t\x00\x1f\x7f"}}, `["\"\\\b\f\n\r\t\u0000\u001f` + "\x7f" + `"]`},
		{"no html escaping", Op{{Insert: "<a&b>\u2028\u2029"}}, `["<a&b>` + "\u2028\u2029" + `"]`},
		{"astral", Op{{DeleteText: "😭🤸🏼"}}, `[{"d":"😭🤸🏼"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.op.MarshalJSON()
			if err != nil || string(got) != tc.want {
				t.Fatalf("MarshalJSON(%#v) = %s, %v; want %s", tc.op, got, err, tc.want)
			}
		})
	}
	for _, bad := range []Op{{{}}, {{Skip: 1, Insert: "x"}}, {{Insert: "\xff"}}, {{DeleteText: "\xff"}}} {
		if got, err := bad.MarshalJSON(); err == nil {
			t.Errorf("MarshalJSON(%#v) = %s; want error", bad, got)
		}
	}
}

func TestUnmarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Op // nil means an error is expected
	}{
		{"empty", `[]`, Op{}},
		{"all kinds", ` [ 3 , "hi" , { "d" : 2 } , {"d":"ab"} ] `, Op{{Skip: 3}, {Insert: "hi"}, {Delete: 2}, {DeleteText: "ab"}}},
		{"escapes", `["\"\\\/\b\f\n\r\t\u00e9\u0000"]`, Op{{Insert: "\"\\/\b\f\n\r\t\u00e9\x00"}}},
		{"surrogate pair", `["\ud83d\ude2d"]`, Op{{Insert: "😭"}}},
		{"upper-case hex pair", `["\uD83D\uDE2D"]`, Op{{Insert: "😭"}}},
		{"integral float", `[1.0,"x"]`, Op{{Skip: 1}, {Insert: "x"}}},
		{"exponent", `[1e2,"x"]`, Op{{Skip: 100}, {Insert: "x"}}},
		{"max length", `[2147483647,"x"]`, Op{{Skip: MaxLength}, {Insert: "x"}}},
		{"adjacent inserts", `["x","y"]`, Op{{Insert: "x"}, {Insert: "y"}}},
		{"raw U+FFFD", `["` + "\uFFFD" + `"]`, Op{{Insert: "\uFFFD"}}},

		{"null", `null`, nil},
		{"object", `{"d":1}`, nil},
		{"empty input", ``, nil},
		{"trailing data", `[] []`, nil},
		{"trailing comma", `[1,"x",]`, nil},
		{"missing comma", `[1 "x"]`, nil},
		{"unterminated", `["x"`, nil},
		{"unterminated string", `["x`, nil},
		{"true", `[true]`, nil},
		{"null component", `[null]`, nil},
		{"nested array", `[[1]]`, nil},
		{"zero", `[0,"x"]`, nil},
		{"negative zero", `[-0,"x"]`, nil},
		{"negative", `[-1,"x"]`, nil},
		{"fraction", `[1.5,"x"]`, nil},
		{"too long", `[2147483648,"x"]`, nil},
		{"huge", `[1e400,"x"]`, nil},
		{"leading zero", `[01,"x"]`, nil},
		{"bare minus", `[-,"x"]`, nil},
		{"empty insert", `[""]`, nil},
		{"empty delete", `[{"d":""}]`, nil},
		{"zero delete", `[{"d":0}]`, nil},
		{"delete of bool", `[{"d":true}]`, nil},
		{"empty object", `[{}]`, nil},
		{"unknown key", `[{"i":"x"}]`, nil},
		{"extra key", `[{"d":1,"x":2}]`, nil},
		{"duplicate key", `[{"d":1,"d":2}]`, nil},
		{"trailing skip", `["x",1]`, nil},
		{"adjacent skips", `[1,2,"x"]`, nil},
		{"lone high surrogate", `["\ud800"]`, nil},
		{"lone low surrogate", `["\udc00"]`, nil},
		{"high then letter", `["\ud800ab"]`, nil},
		{"reversed pair", `["\ude2d\ud83d"]`, nil},
		{"high then non-surrogate escape", `["\ud83d\u0041"]`, nil},
		{"lone surrogate in delete", `[{"d":"\ud800"}]`, nil},
		{"invalid UTF-8", "[\"a\xffb\"]", nil},
		{"encoded surrogate", "[\"\xed\xa0\x80\"]", nil},
		{"raw control character", "[\"a\nb\"]", nil},
		{"bad escape", `["\x"]`, nil},
		{"short unicode escape", `["\u12"]`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Op{{Insert: "unchanged"}}
			err := json.Unmarshal([]byte(tc.in), &got)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %v; want error", tc.in, got)
				}
				if !slices.Equal(got, Op{{Insert: "unchanged"}}) {
					t.Fatalf("Unmarshal(%s) changed the op to %v on error", tc.in, got)
				}
				var syn *json.SyntaxError
				if !errors.Is(err, ErrInvalidOp) && !errors.As(err, &syn) {
					t.Fatalf("Unmarshal(%s) = %v; want ErrInvalidOp", tc.in, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Unmarshal(%s) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestOpInMessage decodes an op the way the ShareDB server will: as a field
// of a message.
func TestOpInMessage(t *testing.T) {
	type msg struct {
		A  string `json:"a"`
		Op *Op    `json:"op,omitempty"`
	}
	var m msg
	if err := json.Unmarshal([]byte(`{"a":"op","op":[2,"A"]}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Op == nil || m.Op.String() != `[2,"A"]` {
		t.Fatalf("op = %v; want [2,\"A\"]", m.Op)
	}
	m = msg{}
	if err := json.Unmarshal([]byte(`{"a":"op","op":null}`), &m); err != nil || m.Op != nil {
		t.Fatalf("null op = %v, %v; want nil, nil", m.Op, err)
	}
	if err := json.Unmarshal([]byte(`{"a":"op","op":[1,"\ud800"]}`), &m); !errors.Is(err, ErrInvalidOp) {
		t.Fatalf("lone surrogate op: %v; want ErrInvalidOp", err)
	}
	// encoding/json escapes <, > and & in MarshalJSON output unless told
	// not to; a Node server would not. Either form parses the same.
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg{A: "op", Op: &Op{{Skip: 1}, {Insert: "<x>\u2028"}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), `{"a":"op","op":[1,"<x>`+"\u2028"+`"]}`+"\n"; got != want {
		t.Fatalf("Encode = %s; want %s", got, want)
	}
}
