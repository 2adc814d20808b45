package payload

import (
	"bytes"
	"errors"
)

// The text token carries the Header as ASCII letters, digits and dots only,
// so that it survives JSON escaping, string handling and re-encoding by a
// chat server that wraps each message (`{"from":…,"text":"<token>"}`):
//
//	wsb1.RRRRRRRRRRRRRRRR.SSSSSSSS.QQQQQQQQQQQQQQQQ.TTTTTTTTTTTTTTTT
//
// "wsb1." then run id (16), sender (8), sequence (16) and intended send
// time in Unix ns (16), lowercase hex, dot-separated: TokenLen bytes.
// Fixed width, so a receiver that finds the prefix anywhere in a message
// knows where every field is.
const (
	TokenPrefix = "wsb1."
	TokenLen    = len(TokenPrefix) + 16 + 1 + 8 + 1 + 16 + 1 + 16
)

// ErrNoToken is returned by FindToken when b holds no complete token.
var ErrNoToken = errors.New("payload: no token")

var tokenPrefix = []byte(TokenPrefix)

const hexDigits = "0123456789abcdef"

// AppendToken appends the token of h to dst. It does not allocate when dst
// has TokenLen bytes of spare capacity.
func AppendToken(dst []byte, h Header) []byte {
	dst = append(dst, TokenPrefix...)
	dst = appendHex(dst, h.RunID, 16)
	dst = append(dst, '.')
	dst = appendHex(dst, uint64(h.Sender), 8)
	dst = append(dst, '.')
	dst = appendHex(dst, h.Seq, 16)
	dst = append(dst, '.')
	return appendHex(dst, uint64(h.Intended), 16)
}

func appendHex(dst []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*uint(i)))&0xf])
	}
	return dst
}

// FindToken returns the first complete token anywhere in b. A prefix that
// does not start a well-formed token is skipped, so stray "wsb1." text
// before the real token does not hide it. It does not allocate.
func FindToken(b []byte) (Header, error) {
	for len(b) >= TokenLen {
		i := bytes.Index(b, tokenPrefix)
		if i < 0 || len(b)-i < TokenLen {
			return Header{}, ErrNoToken
		}
		if h, ok := parseToken(b[i : i+TokenLen]); ok {
			return h, nil
		}
		b = b[i+1:]
	}
	return Header{}, ErrNoToken
}

// parseToken parses exactly TokenLen bytes that start with TokenPrefix.
func parseToken(t []byte) (Header, bool) {
	p := len(TokenPrefix)
	run, ok1 := parseHex(t[p : p+16])
	p += 16
	if t[p] != '.' {
		return Header{}, false
	}
	sender, ok2 := parseHex(t[p+1 : p+9])
	p += 9
	if t[p] != '.' {
		return Header{}, false
	}
	seq, ok3 := parseHex(t[p+1 : p+17])
	p += 17
	if t[p] != '.' {
		return Header{}, false
	}
	at, ok4 := parseHex(t[p+1 : p+17])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return Header{}, false
	}
	return Header{RunID: run, Sender: uint32(sender), Seq: seq, Intended: int64(at)}, true
}

// parseHex parses lowercase hex digits (at most 16).
func parseHex(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
