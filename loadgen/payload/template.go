package payload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Placeholders of templates (--template, --on-open, --header, --url).
const (
	PhToken  = "{{token}}"  // the message's token (--template only)
	PhClient = "{{client}}" // the client's index, from 0
	PhRoom   = "{{room}}"   // the client's room index, from 0
	PhPad    = "{{pad}}"    // filler up to --size (--template only)
)

// ErrTemplate is wrapped by template errors.
var ErrTemplate = errors.New("template")

// Template is a parsed message template: literal text around the
// placeholders. A Template is immutable and safe for concurrent use.
type Template struct {
	src   string
	parts []part
}

type part struct {
	lit string // literal text, or empty for a placeholder
	ph  string // placeholder, or empty for literal text
}

// ParseTemplate parses s. data says whether s is a data-message template
// ({{token}} required once, {{pad}} at most once) or a per-client text
// (on-open message, header, URL: {{client}} and {{room}} only).
func ParseTemplate(s string, data bool) (*Template, error) {
	t := &Template{src: s}
	rest := s
	tokens, pads := 0, 0
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%w %q: %q is not closed with }}", ErrTemplate, s, rest[i:])
		}
		ph := rest[i : i+j+2]
		switch ph {
		case PhClient, PhRoom:
		case PhToken, PhPad:
			if !data {
				return nil, fmt.Errorf("%w %q: %s belongs in --template only; here use {{client}} or {{room}}", ErrTemplate, s, ph)
			}
			if ph == PhToken {
				tokens++
			} else {
				pads++
			}
		default:
			return nil, fmt.Errorf("%w %q: unknown placeholder %s; use {{token}}, {{client}}, {{room}} or {{pad}}", ErrTemplate, s, ph)
		}
		t.parts = append(t.parts, part{ph: ph})
		rest = rest[i+j+2:]
	}
	if data && tokens != 1 {
		return nil, fmt.Errorf("%w %q: put {{token}} in it exactly once (it carries the run, sender, sequence and send time), e.g. '{\"type\":\"msg\",\"text\":\"{{token}}\"}'", ErrTemplate, s)
	}
	if pads > 1 {
		return nil, fmt.Errorf("%w %q: {{pad}} may appear once", ErrTemplate, s)
	}
	return t, nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// Has reports whether the template contains placeholder ph.
func (t *Template) Has(ph string) bool {
	for _, p := range t.parts {
		if p.ph == ph {
			return true
		}
	}
	return false
}

// Expand returns the text for one client, with {{client}} and {{room}}
// filled in. It is for per-client texts (headers, on-open messages, URL).
func (t *Template) Expand(client, room int) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case "":
			b.WriteString(p.lit)
		case PhClient:
			b.WriteString(strconv.Itoa(client))
		case PhRoom:
			b.WriteString(strconv.Itoa(room))
		}
	}
	return b.String()
}

// Message is a data template bound to one sender: {{client}} and {{room}}
// are filled in, {{token}} and {{pad}} stay open. It is used by one
// goroutine.
type Message struct {
	before, between, after string // text around token and pad
	padFirst               bool
	hasPad                 bool
	fixed                  int // bytes without pad
}

// Bind fills in {{client}} and {{room}}.
func (t *Template) Bind(client, room int) *Message {
	m := &Message{}
	cur := &m.before
	var b strings.Builder
	flush := func() { *cur = b.String(); b.Reset() }
	for _, p := range t.parts {
		switch p.ph {
		case "":
			b.WriteString(p.lit)
		case PhClient:
			b.WriteString(strconv.Itoa(client))
		case PhRoom:
			b.WriteString(strconv.Itoa(room))
		case PhToken, PhPad:
			flush()
			if p.ph == PhPad {
				m.hasPad = true
				if cur == &m.before {
					m.padFirst = true
				}
			}
			if cur == &m.before {
				cur = &m.between
			} else {
				cur = &m.after
			}
		}
	}
	flush()
	m.fixed = len(m.before) + len(m.between) + len(m.after) + TokenLen
	return m
}

// PlainText is the message of --payload text without --template: the token
// followed by the pad.
var PlainText = &Template{src: PhToken + PhPad, parts: []part{{ph: PhToken}, {ph: PhPad}}}

// Len returns the message length for a target size: the fixed text plus
// the pad needed to reach size (no pad when the fixed text is longer, or
// the template has no {{pad}}).
func (m *Message) Len(size int) int {
	if !m.hasPad || size <= m.fixed {
		return m.fixed
	}
	return size
}

// TokenAt returns the offset of the token in a message of target size.
func (m *Message) TokenAt(size int) int {
	if m.padFirst {
		return m.Len(size) - len(m.after) - TokenLen
	}
	return len(m.before)
}

// MinLen returns the length of the message without pad.
func (m *Message) MinLen() int { return m.fixed }

// Append appends the message for h, padded from pad towards size, to dst.
// It does not allocate when dst has Len(size) bytes of spare capacity.
func (m *Message) Append(dst []byte, h Header, size int, pad *Pad) []byte {
	padN := 0
	if m.hasPad && size > m.fixed {
		padN = size - m.fixed
	}
	dst = append(dst, m.before...)
	if m.padFirst {
		dst = append(dst, pad.Slice(h.Seq+uint64(h.Sender), padN)...)
		dst = append(dst, m.between...)
		dst = AppendToken(dst, h)
	} else {
		dst = AppendToken(dst, h)
		dst = append(dst, m.between...)
		if m.hasPad {
			dst = append(dst, pad.Slice(h.Seq+uint64(h.Sender), padN)...)
		}
	}
	return append(dst, m.after...)
}

// padWindow is how far Pad.Slice moves between messages: more than
// deflate's 32 KiB window, so that consecutive messages' pads share no text
// a compressor could refer back to.
const padWindow = 64 << 10

// padAlphabet keeps the pad inside the token's character set, so that it
// needs no escaping in JSON or any text protocol.
const padAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Pad is random filler that is not trivially compressible: random letters,
// digits, '-' and '_' (6 bits of entropy per byte) for text, random bytes
// for binary. Each message takes a different window of it. A Pad is
// immutable after NewPad and safe for concurrent use.
type Pad struct{ b []byte }

// NewPad returns filler for messages of up to n pad bytes; text selects
// the text alphabet, otherwise the bytes are uniformly random.
func NewPad(n int, text bool, seed uint64) *Pad {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n+padWindow)
	for i := range b {
		v := r.Uint32()
		if text {
			b[i] = padAlphabet[v&63]
		} else {
			b[i] = byte(v)
		}
	}
	return &Pad{b: b}
}

// Slice returns n pad bytes for message number k (n at most the size given
// to NewPad); successive k give different, far-apart windows.
func (p *Pad) Slice(k uint64, n int) []byte {
	if n <= 0 {
		return nil
	}
	off := int((k * 7919) % padWindow)
	if off+n > len(p.b) {
		off = 0
	}
	return p.b[off : off+n]
}
