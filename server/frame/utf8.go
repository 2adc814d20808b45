package frame

import "unicode/utf8"

// UTF8 is a streaming UTF-8 validator. Write may be called with arbitrary
// chunks (a rune may be split between calls, e.g. across frames of a
// fragmented message); it reports an error at the first byte that cannot be
// part of any valid encoding, without waiting for the rest of the message.
// The zero value is ready to use. A UTF8 is not safe for concurrent use.
type UTF8 struct {
	need   uint8 // continuation bytes still expected for the current rune
	lo, hi byte  // allowed range of the next continuation byte
}

// Reset forgets any partial rune.
func (v *UTF8) Reset() { *v = UTF8{} }

// Complete reports whether the bytes written so far end on a rune boundary.
func (v *UTF8) Complete() bool { return v.need == 0 }

// Write validates p as the continuation of everything written before. It
// returns false as soon as p contains a byte that makes the stream invalid;
// the validator then stays invalid until Reset.
func (v *UTF8) Write(p []byte) bool {
	if v.need == 0 && utf8.Valid(p) {
		return true // fast path: p is complete, valid UTF-8 on its own
	}
	for _, b := range p {
		if v.need > 0 {
			if b < v.lo || b > v.hi {
				v.need, v.lo, v.hi = 0xff, 1, 0 // sticky invalid state
				return false
			}
			v.need--
			v.lo, v.hi = 0x80, 0xbf
			continue
		}
		switch {
		case b < 0x80:
		case b >= 0xc2 && b <= 0xdf:
			v.need, v.lo, v.hi = 1, 0x80, 0xbf
		case b == 0xe0:
			v.need, v.lo, v.hi = 2, 0xa0, 0xbf // no overlong 3-byte forms
		case b == 0xed:
			v.need, v.lo, v.hi = 2, 0x80, 0x9f // no UTF-16 surrogates
		case b >= 0xe1 && b <= 0xef:
			v.need, v.lo, v.hi = 2, 0x80, 0xbf
		case b == 0xf0:
			v.need, v.lo, v.hi = 3, 0x90, 0xbf // no overlong 4-byte forms
		case b >= 0xf1 && b <= 0xf3:
			v.need, v.lo, v.hi = 3, 0x80, 0xbf
		case b == 0xf4:
			v.need, v.lo, v.hi = 3, 0x80, 0x8f // nothing above U+10FFFF
		default: // 0x80–0xc1 (stray continuation, overlong 2-byte), 0xf5–0xff
			v.need, v.lo, v.hi = 0xff, 1, 0
			return false
		}
	}
	return true
}
