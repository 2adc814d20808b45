package frame

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// permessage-deflate (RFC 7692) with no context takeover either way (the
// server asks for client_no_context_takeover and keeps none itself): each
// message is compressed and inflated on its own, so a broadcast is
// compressed once and the same bytes go to every receiver that agreed.

// deflateTail ends every compressed message on the wire's side (RFC 7692
// §7.2.1 strips it); inflateEnd adds it back plus a final empty block.
var (
	deflateTail = []byte{0x00, 0x00, 0xff, 0xff}
	inflateEnd  = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
)

// flate writers cost ~600 KB each and readers ~40 KB: pooled.
var (
	writerPool = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}
	readerPool = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}
)

var errBadDeflate = &Error{Code: 1007, Reason: "invalid compressed data"}

// Deflate compresses one message payload for a frame with RSV1 set (see
// EncodeCompressed). The result is freshly allocated.
func Deflate(p []byte) []byte {
	var b bytes.Buffer
	w := writerPool.Get().(*flate.Writer)
	w.Reset(&b)
	_, _ = w.Write(p)
	_ = w.Flush()
	writerPool.Put(w)
	return bytes.TrimSuffix(b.Bytes(), deflateTail)
}

// Inflate decompresses one compressed message of at most max bytes (max
// <= 0: no limit); a message that inflates past max is refused with 1009
// after reading max+1 bytes, so a compression bomb costs no more than an
// ordinary message. Data that does not inflate is refused with 1007, and
// so is a text message (text) that is not UTF-8.
func Inflate(p []byte, max int64, text bool) ([]byte, error) {
	fr := readerPool.Get().(io.ReadCloser)
	defer readerPool.Put(fr)
	if err := fr.(flate.Resetter).Reset(io.MultiReader(bytes.NewReader(p), bytes.NewReader(inflateEnd)), nil); err != nil {
		return nil, errBadDeflate
	}
	var src io.Reader = fr
	if max > 0 {
		src = io.LimitReader(fr, max+1)
	}
	out, err := io.ReadAll(src)
	switch {
	case err != nil:
		return nil, errBadDeflate
	case max > 0 && int64(len(out)) > max:
		return nil, errTooBig
	case text && !utf8.Valid(out):
		return nil, errBadUTF8
	}
	return out, nil
}

// EncodeCompressed is Encode for a payload Deflate produced: the frame
// carries RSV1, "Per-Message Compressed".
func EncodeCompressed(op ws.OpCode, deflated []byte) []byte {
	b := Encode(op, deflated)
	b[0] |= 0x40
	return b
}
