package ot

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MarshalJSON encodes op in the wire format of the npm type:
// [3,"hi",{"d":2},{"d":"ab"}]. Strings are escaped as JavaScript's
// JSON.stringify escapes them, so frames match a Node server byte for byte.
// A nil op encodes as []. It returns an error for a component that sets no
// field or more than one, and for text that is not valid UTF-8; it does not
// otherwise check op.
func (op Op) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 16*len(op)+2)
	b = append(b, '[')
	for i, c := range op {
		if i > 0 {
			b = append(b, ',')
		}
		switch c.Kind() {
		case KindSkip:
			b = strconv.AppendInt(b, int64(c.Skip), 10)
		case KindInsert:
			if !utf8.ValidString(c.Insert) {
				return nil, invalidf("component %d: insert is not valid UTF-8", i)
			}
			b = appendString(b, c.Insert)
		case KindDelete:
			b = append(b, `{"d":`...)
			if c.DeleteText != "" {
				if !utf8.ValidString(c.DeleteText) {
					return nil, invalidf("component %d: deleted text is not valid UTF-8", i)
				}
				b = appendString(b, c.DeleteText)
			} else {
				b = strconv.AppendInt(b, int64(c.Delete), 10)
			}
			b = append(b, '}')
		default:
			return nil, invalidf("component %d sets no field or more than one", i)
		}
	}
	return append(b, ']'), nil
}

// appendString appends s as a JSON string the way JSON.stringify writes it:
// only '"', '\\' and control characters are escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// UnmarshalJSON decodes op from the wire format and checks it ([Check]).
// It is stricter than JSON.parse plus the npm type's checkOp: it rejects
// null and anything but an array; components other than a number, a string
// or an object {"d": number or string} with no other key; numbers that are
// not integers in 1..[MaxLength] (1.0 and 1e2 are integers); empty strings;
// invalid UTF-8; and \u escapes that leave a lone surrogate. All errors wrap
// [ErrInvalidOp]. On error op is left unchanged.
func (op *Op) UnmarshalJSON(data []byte) error {
	p := parser{data: data}
	res, err := p.op()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOp, err)
	}
	if err := Check(res); err != nil {
		return err
	}
	*op = res
	return nil
}

// parser reads one op from JSON text. It never recurses and never panics.
type parser struct {
	data []byte
	pos  int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *parser) op() (Op, error) {
	if p.peek() != '[' {
		return nil, p.errorf("op must be a JSON array")
	}
	p.pos++
	op := Op{}
	if p.peek() == ']' {
		p.pos++
	} else {
		for {
			c, err := p.component(len(op))
			if err != nil {
				return nil, err
			}
			op = append(op, c)
			switch p.peek() {
			case ',':
				p.pos++
				continue
			case ']':
				p.pos++
			default:
				return nil, p.errorf("expected ',' or ']'")
			}
			break
		}
	}
	if p.peek() != 0 || p.pos != len(p.data) {
		return nil, p.errorf("data after the op")
	}
	return op, nil
}

func (p *parser) component(i int) (Component, error) {
	switch ch := p.peek(); {
	case ch == '-' || (ch >= '0' && ch <= '9'):
		n, err := p.length()
		if err != nil {
			return Component{}, fmt.Errorf("component %d: skip %w", i, err)
		}
		return Component{Skip: n}, nil
	case ch == '"':
		s, err := p.text("insert")
		if err != nil {
			return Component{}, fmt.Errorf("component %d: %w", i, err)
		}
		return Component{Insert: s}, nil
	case ch == '{':
		p.pos++
		if p.peek() != '"' {
			return Component{}, p.errorf("component %d: a delete must be {\"d\": N} or {\"d\": \"text\"}", i)
		}
		key, err := p.str()
		if err != nil {
			return Component{}, fmt.Errorf("component %d: %w", i, err)
		}
		if key != "d" {
			return Component{}, fmt.Errorf("component %d: unknown key %q", i, key)
		}
		if p.peek() != ':' {
			return Component{}, p.errorf("expected ':'")
		}
		p.pos++
		var c Component
		switch ch := p.peek(); {
		case ch == '"':
			s, err := p.text("delete")
			if err != nil {
				return Component{}, fmt.Errorf("component %d: %w", i, err)
			}
			c.DeleteText = s
		case ch == '-' || (ch >= '0' && ch <= '9'):
			n, err := p.length()
			if err != nil {
				return Component{}, fmt.Errorf("component %d: delete %w", i, err)
			}
			c.Delete = n
		default:
			return Component{}, p.errorf("component %d: delete must be a number or a string", i)
		}
		if p.peek() != '}' {
			return Component{}, p.errorf("component %d: a delete has only the key \"d\"", i)
		}
		p.pos++
		return c, nil
	case ch == 0:
		return Component{}, p.errorf("unexpected end of the op")
	}
	return Component{}, p.errorf("component %d: unknown component: want a number, a string or {\"d\": ...}", i)
}

// text reads a JSON string that must not be empty: the text of an insert
// or a delete, named what in the error.
func (p *parser) text(what string) (string, error) {
	s, err := p.str()
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("%s is empty", what)
	}
	return s, nil
}

var (
	errNumber = errors.New("is not a valid JSON number")
	errLength = errors.New("must be an integer from 1 to " + strconv.Itoa(MaxLength))
)

// length reads a JSON number and returns it if it is an integer in
// 1..MaxLength.
func (p *parser) length() (int, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return 0, errNumber
	}
	plain := true
	if i < len(d) && d[i] == '.' {
		plain = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, errNumber
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		plain = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return 0, errNumber
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	text := string(d[start:i])
	if plain {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 1 || n > MaxLength {
			return 0, errLength
		}
		return int(n), nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 1 || f > MaxLength || f != math.Trunc(f) {
		return 0, errLength
	}
	return int(f), nil
}

// str reads a JSON string. It rejects raw control characters, invalid UTF-8
// and escapes that leave a lone surrogate.
func (p *parser) str() (string, error) {
	d := p.data
	i := p.pos + 1 // after the opening quote
	var buf []byte // nil until the first escape
	start := i
	for {
		if i >= len(d) {
			p.pos = i
			return "", p.errorf("unterminated string")
		}
		c := d[i]
		switch {
		case c == '"':
			var s string
			if buf == nil {
				s = string(d[start:i])
			} else {
				s = string(append(buf, d[start:i]...))
			}
			p.pos = i + 1
			return s, nil
		case c < 0x20:
			p.pos = i
			return "", p.errorf("control character in string")
		case c < utf8.RuneSelf && c != '\\':
			i++
		case c == '\\':
			buf = append(buf, d[start:i]...)
			if i+1 >= len(d) {
				p.pos = i
				return "", p.errorf("unterminated string")
			}
			esc := d[i+1]
			i += 2
			switch esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(d, i)
				if !ok {
					p.pos = i
					return "", p.errorf("invalid \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					var r2 rune
					if r < 0xdc00 && i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						r2, ok = hex4(d, i+2)
					} else {
						ok = false
					}
					r = utf16.DecodeRune(r, r2)
					if !ok || r == utf8.RuneError {
						p.pos = i
						return "", p.errorf("lone surrogate in string")
					}
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.pos = i
				return "", p.errorf("invalid escape")
			}
			start = i
		default:
			r, w := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && w == 1 {
				p.pos = i
				return "", p.errorf("invalid UTF-8 in string")
			}
			i += w
		}
	}
}

// hex4 reads four hex digits at d[i:].
func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
