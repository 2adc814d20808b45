// Package payload is the loadgen's message codec: a fixed little-endian
// header that every broadcast carries, padded to the configured size; or,
// for servers that handle text (--payload text, --template), the same
// fields as an ASCII token (token.go) inside a message template
// (template.go) that receivers find anywhere in what the server relays.
//
// Layout (HeaderLen = 32 bytes, all integers little-endian):
//
//	offset size field
//	0      2    magic 0x5742 ("BW" on the wire)
//	2      1    version (1)
//	3      1    reserved, 0
//	4      4    sender id (uint32)
//	8      8    run id (uint64, random per run)
//	16     8    sequence number of this sender (uint64, from 0)
//	24     8    intended send time, Unix nanoseconds (int64)
//	32     …    padding up to the message size (random bytes, see Pad)
//
// Decode never panics on arbitrary bytes; anything that is not a complete
// header of this version is an error, which receivers count as a foreign
// message.
package payload

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderLen is the encoded header size and the smallest allowed message.
const HeaderLen = 32

// Magic and Version identify a loadgen message.
const (
	Magic   uint16 = 0x5742
	Version uint8  = 1
)

// Errors returned by Decode.
var (
	ErrShort   = errors.New("payload: shorter than the header")
	ErrMagic   = errors.New("payload: bad magic")
	ErrVersion = errors.New("payload: unsupported version")
)

// Header is what every loadgen message carries.
type Header struct {
	RunID    uint64 // random per run; messages of other runs are foreign
	Sender   uint32 // sender id, 0…senders-1 across all processes
	Seq      uint64 // the sender's sequence number, from 0
	Intended int64  // intended send time on the timetable, Unix ns
}

// Encode writes h into the first HeaderLen bytes of dst and leaves the rest
// (the padding) untouched. It returns an error if dst is too short.
func Encode(dst []byte, h Header) error {
	if len(dst) < HeaderLen {
		return fmt.Errorf("%w: %d bytes, need %d", ErrShort, len(dst), HeaderLen)
	}
	binary.LittleEndian.PutUint16(dst[0:], Magic)
	dst[2] = Version
	dst[3] = 0
	binary.LittleEndian.PutUint32(dst[4:], h.Sender)
	binary.LittleEndian.PutUint64(dst[8:], h.RunID)
	binary.LittleEndian.PutUint64(dst[16:], h.Seq)
	binary.LittleEndian.PutUint64(dst[24:], uint64(h.Intended))
	return nil
}

// Decode reads the header at the start of b. It does not allocate.
func Decode(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShort
	}
	if binary.LittleEndian.Uint16(b[0:]) != Magic {
		return Header{}, ErrMagic
	}
	if b[2] != Version {
		return Header{}, ErrVersion
	}
	return Header{
		Sender:   binary.LittleEndian.Uint32(b[4:]),
		RunID:    binary.LittleEndian.Uint64(b[8:]),
		Seq:      binary.LittleEndian.Uint64(b[16:]),
		Intended: int64(binary.LittleEndian.Uint64(b[24:])),
	}, nil
}
