package cluster

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// Message layout on NATS (no NATS headers):
//
//	byte 0     format version (MessageVersion)
//	byte 1     WebSocket opcode (1 text, 2 binary)
//	bytes 2–9  sender node id, big endian
//	bytes 10–  the message bytes, unchanged
const (
	MessageVersion   = 1
	MessageHeaderLen = 10
)

// ErrBadMessage is returned by DecodeMessage for bytes that AppendMessage
// did not make.
var ErrBadMessage = errors.New("cluster: malformed bus message")

// AppendMessage appends the bus encoding of one room message to dst.
func AppendMessage(dst []byte, node uint64, op ws.OpCode, payload []byte) []byte {
	dst = append(dst, MessageVersion, byte(op))
	dst = binary.BigEndian.AppendUint64(dst, node)
	return append(dst, payload...)
}

// DecodeMessage splits a bus message. payload aliases b.
func DecodeMessage(b []byte) (node uint64, op ws.OpCode, payload []byte, err error) {
	if len(b) < MessageHeaderLen || b[0] != MessageVersion {
		return 0, 0, nil, ErrBadMessage
	}
	op = ws.OpCode(b[1])
	if op != ws.OpText && op != ws.OpBinary {
		return 0, 0, nil, ErrBadMessage
	}
	return binary.BigEndian.Uint64(b[2:10]), op, b[MessageHeaderLen:], nil
}
