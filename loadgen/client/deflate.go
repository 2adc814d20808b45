package client

import (
	"bytes"
	"compress/flate"
	"sync"
)

// deflater compresses one message at a time for permessage-deflate
// without context takeover: every message is compressed from a reset
// state, so senders can share a pool of them instead of each keeping a
// flate.Writer (hundreds of KiB) for the whole run.
type deflater struct {
	w   *flate.Writer
	out bytes.Buffer
}

var deflaters sync.Pool // of *deflater

func getDeflater() *deflater {
	if z, ok := deflaters.Get().(*deflater); ok {
		return z
	}
	z := &deflater{}
	z.w, _ = flate.NewWriter(&z.out, flate.BestSpeed) // level is valid: no error
	return z
}

func putDeflater(z *deflater) { deflaters.Put(z) }

// compress returns p compressed as one permessage-deflate message (RFC
// 7692 7.2.1: a sync flush, its trailing 00 00 ff ff removed). The result
// is valid until the deflater's next use.
func (z *deflater) compress(p []byte) ([]byte, error) {
	z.out.Reset()
	z.w.Reset(&z.out)
	if _, err := z.w.Write(p); err != nil {
		return nil, err
	}
	if err := z.w.Flush(); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(z.out.Bytes(), []byte{0, 0, 0xff, 0xff}), nil
}
