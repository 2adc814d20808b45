package client

import (
	"bytes"
	"compress/flate"
	"io"
	"testing"
)

// inflate reverses deflater.compress (RFC 7692 7.2.2: append 00 00 ff ff).
func inflate(t *testing.T, p []byte) string {
	t.Helper()
	r := flate.NewReader(bytes.NewReader(append(append([]byte{}, p...), 0, 0, 0xff, 0xff)))
	b, err := io.ReadAll(r)
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("inflate: %v", err)
	}
	return string(b)
}
