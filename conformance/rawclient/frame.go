// Package rawclient is a deliberately low-level WebSocket client for the
// conformance suite: it writes the HTTP upgrade request and every frame by
// hand, so cases can send what a normal library refuses to (unmasked frames,
// RSV bits, reserved opcodes, bad lengths, invalid UTF-8), and it reads the
// server's frames without normalising them, so cases can check masking and
// length encoding. Every close frame any Conn sees is reported to a Recorder.
//
// A Conn is used by one goroutine at a time.
package rawclient

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/ws"
)

// MaxReadPayload bounds the payload of one frame ReadFrame accepts, so a
// hostile server cannot make the suite allocate without limit.
const MaxReadPayload = 32 << 20

// Frame is one WebSocket frame as sent or received.
type Frame struct {
	Fin     bool
	Rsv     byte // the three RSV bits in the low bits (RSV1 = 4, RSV2 = 2, RSV3 = 1)
	Op      ws.OpCode
	Masked  bool
	Mask    [4]byte // used when Masked; Append picks a random one when it is zero
	Payload []byte  // unmasked payload

	// Set by ReadFrame only.
	NonMinimal bool // the length used a longer encoding than needed
}

// Append encodes f onto dst: header, then the payload masked with f.Mask
// when f.Masked. It never fails; a nonsensical frame is the point.
func (f Frame) Append(dst []byte) []byte {
	b0 := f.Rsv&7<<4 | byte(f.Op)&0x0f
	if f.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if f.Masked {
		b1 = 0x80
	}
	n := len(f.Payload)
	switch {
	case n < 126:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !f.Masked {
		return append(dst, f.Payload...)
	}
	mask := f.Mask
	if mask == ([4]byte{}) {
		_, _ = rand.Read(mask[:])
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, f.Payload...)
	ws.Cipher(dst[start:], mask, 0)
	return dst
}

// Errors ReadFrame returns for frames it cannot represent.
var (
	ErrTooLarge = errors.New("rawclient: frame payload larger than MaxReadPayload")
	ErrBadLen   = errors.New("rawclient: 64-bit frame length has its top bit set")
)

// ReadFrame reads one frame from r and unmasks its payload. It records
// whether the length was encoded minimally. Payloads above MaxReadPayload
// are refused with ErrTooLarge before anything is allocated.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [14]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return Frame{}, err
	}
	f := Frame{
		Fin:    h[0]&0x80 != 0,
		Rsv:    h[0] >> 4 & 7,
		Op:     ws.OpCode(h[0] & 0x0f),
		Masked: h[1]&0x80 != 0,
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(r, h[2:4]); err != nil {
			return f, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
		f.NonMinimal = n < 126
	case 127:
		if _, err := io.ReadFull(r, h[2:10]); err != nil {
			return f, unexpected(err)
		}
		n = binary.BigEndian.Uint64(h[2:10])
		if n>>63 != 0 {
			return f, ErrBadLen
		}
		f.NonMinimal = n <= 0xffff
	}
	if n > MaxReadPayload {
		return f, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	if f.Masked {
		if _, err := io.ReadFull(r, f.Mask[:]); err != nil {
			return f, unexpected(err)
		}
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, unexpected(err)
	}
	if f.Masked {
		ws.Cipher(f.Payload, f.Mask, 0)
	}
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// CloseBody builds a close payload: a 2-byte code and a reason.
func CloseBody(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

// ParseClose splits a close payload into code and reason. An empty payload
// gives code 1005 (no status received), as RFC 6455 §7.1.5 says; a 1-byte
// payload gives ok=false.
func ParseClose(p []byte) (code uint16, reason string, ok bool) {
	switch len(p) {
	case 0:
		return 1005, "", true
	case 1:
		return 0, "", false
	}
	return binary.BigEndian.Uint16(p), string(p[2:]), true
}
