package frame

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// Encode returns one unmasked, final frame carrying payload with opcode op:
// the exact bytes the server writes. The result is freshly allocated and
// never modified afterwards, so it may be written to any number of
// connections concurrently. It costs one allocation.
func Encode(op ws.OpCode, payload []byte) []byte {
	n := len(payload)
	var hl int
	switch {
	case n <= 125:
		hl = 2
	case n <= 0xffff:
		hl = 4
	default:
		hl = 10
	}
	b := make([]byte, hl+n)
	b[0] = 0x80 | byte(op)
	switch hl {
	case 2:
		b[1] = byte(n)
	case 4:
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	copy(b[hl:], payload)
	return b
}

// EncodeClose returns a close frame with code and reason (code 0: empty
// body). The reason is cut to fit the 125-byte control payload limit,
// without splitting a UTF-8 sequence.
func EncodeClose(code ws.StatusCode, reason string) []byte {
	if code == 0 {
		return Encode(ws.OpClose, nil)
	}
	if len(reason) > MaxControlPayload-2 {
		reason = reason[:MaxControlPayload-2]
		for len(reason) > 0 && !validTail(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	p := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], reason)
	return Encode(ws.OpClose, p)
}

func validTail(s string) bool {
	var v UTF8
	return v.Write([]byte(s)) && v.Complete()
}
