package frame

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// ValidCloseCode reports whether code may appear in a close frame on the
// wire: 1000–1003, 1007–1014 and 3000–4999. 1004–1006 and 1015 are reserved
// (1005, 1006 and 1015 are for reporting only), 1016–2999 are unassigned and
// everything below 1000 or from 5000 up is not a close code.
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose decodes the body of a close frame. An empty body yields code 0
// (RFC 6455's "no status received", 1005, which is never sent). Invalid
// bodies are reported as *Error: a 1-byte body or an invalid code (1002), a
// reason that is not UTF-8 (1007).
func ParseClose(p []byte) (ws.StatusCode, string, *Error) {
	switch len(p) {
	case 0:
		return 0, "", nil
	case 1:
		return 0, "", errCloseLen1
	}
	code := ws.StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, "", errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return code, "", errCloseUTF8
	}
	return code, string(p[2:]), nil
}
