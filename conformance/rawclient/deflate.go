package rawclient

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Extension is one entry of a Sec-WebSocket-Extensions header: a name and
// its parameters (a parameter without a value maps to "").
type Extension struct {
	Name   string
	Params map[string]string
	// Dup names a parameter given twice (RFC 7692 §7: a server MUST NOT
	// send a parameter twice); "" when none was.
	Dup string
}

// ParseExtensions splits every Sec-WebSocket-Extensions header of h into
// extensions (RFC 6455 §9.1 grammar; quoted values unquoted).
func ParseExtensions(h http.Header) []Extension {
	var out []Extension
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for _, ext := range strings.Split(v, ",") {
			parts := strings.Split(ext, ";")
			name := strings.TrimSpace(parts[0])
			if name == "" {
				continue
			}
			e := Extension{Name: name, Params: map[string]string{}}
			for _, p := range parts[1:] {
				k, val, _ := strings.Cut(p, "=")
				k, val = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(val), `"`)
				if _, dup := e.Params[k]; dup && e.Dup == "" {
					e.Dup = k
				}
				e.Params[k] = val
			}
			out = append(out, e)
		}
	}
	return out
}

// Deflate is the client side of a negotiated permessage-deflate (RFC 7692):
// it compresses the messages the client sends and inflates the ones the
// server sends, keeping the server's sliding window between messages
// unless server_no_context_takeover was agreed. Not safe for concurrent
// use: one reader and one writer goroutine may use Decompress and Compress
// respectively.
type Deflate struct {
	// ServerNoContext: the server resets its window after each message.
	ServerNoContext bool
	// ClientWindowBits is client_max_window_bits as agreed (15 when absent).
	ClientWindowBits int

	dict []byte // the server's window: the last 32 KiB it sent
}

// tail is what RFC 7692 §7.2.1 strips from the end of each compressed
// message; block ends with a final empty stored block so the reader sees
// a complete stream.
var (
	tail  = []byte{0x00, 0x00, 0xff, 0xff}
	final = []byte{0x01, 0x00, 0x00, 0xff, 0xff}
)

// ErrNotNegotiated is returned by NewDeflate when the response carries no
// permessage-deflate.
var ErrNotNegotiated = errors.New("rawclient: permessage-deflate not negotiated")

// NewDeflate checks the server's permessage-deflate response against RFC
// 7692 §7.1 for an offer that did (offeredClientBits) or did not include
// client_max_window_bits, and returns the agreed state. A response with
// parameters the RFC forbids is an error that says which.
func NewDeflate(h http.Header, offeredClientBits bool) (*Deflate, error) {
	var pmd []Extension
	for _, e := range ParseExtensions(h) {
		if strings.EqualFold(e.Name, "permessage-deflate") {
			pmd = append(pmd, e)
		}
	}
	switch len(pmd) {
	case 0:
		return nil, ErrNotNegotiated
	case 1:
	default:
		return nil, fmt.Errorf("permessage-deflate accepted %d times in one response (RFC 7692 §5: at most one)", len(pmd))
	}
	e := pmd[0]
	if e.Dup != "" {
		return nil, fmt.Errorf("parameter %s given twice (RFC 7692 §7: MUST NOT)", e.Dup)
	}
	d := &Deflate{ClientWindowBits: 15}
	for k, v := range e.Params {
		switch k {
		case "server_no_context_takeover", "client_no_context_takeover":
			if v != "" {
				return nil, fmt.Errorf("%s=%s: the parameter takes no value (RFC 7692 §7.1.1)", k, v)
			}
			d.ServerNoContext = d.ServerNoContext || k == "server_no_context_takeover"
		case "server_max_window_bits", "client_max_window_bits":
			n, err := strconv.Atoi(v)
			if err != nil || n < 8 || n > 15 || v != strconv.Itoa(n) {
				return nil, fmt.Errorf("%s=%q: must be 8-15 (RFC 7692 §7.1.2)", k, v)
			}
			if k == "client_max_window_bits" {
				if !offeredClientBits {
					return nil, errors.New("client_max_window_bits in the response to an offer without it (RFC 7692 §7.1.2.2: MUST NOT)")
				}
				d.ClientWindowBits = n
			}
		default:
			return nil, fmt.Errorf("unknown parameter %q in the response (RFC 7692 §7: MUST NOT)", k)
		}
	}
	return d, nil
}

// Compress returns p compressed as one permessage-deflate message body
// (the tail stripped). Each message is compressed on its own (a client may
// always forgo context takeover); below a 15-bit window only Huffman
// coding is used, so no back-reference can reach past the agreed window.
func (d *Deflate) Compress(p []byte) []byte {
	var b bytes.Buffer
	level := flate.BestSpeed
	if d.ClientWindowBits < 15 {
		level = flate.HuffmanOnly
	}
	w, _ := flate.NewWriter(&b, level)
	_, _ = w.Write(p)
	_ = w.Flush()
	return bytes.TrimSuffix(b.Bytes(), tail)
}

// ErrInflatedTooBig is returned by Decompress when a message inflates past
// its limit.
var ErrInflatedTooBig = errors.New("rawclient: message inflates past the limit")

// Decompress inflates one compressed message body from the server,
// reading at most limit bytes of output (ErrInflatedTooBig beyond).
func (d *Deflate) Decompress(p []byte, limit int64) ([]byte, error) {
	in := io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail), bytes.NewReader(final))
	r := flate.NewReaderDict(in, d.dict)
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if int64(len(out)) > limit {
		return nil, ErrInflatedTooBig
	}
	if d.ServerNoContext {
		d.dict = nil
	} else {
		d.dict = append(d.dict, out...)
		if len(d.dict) > 32<<10 {
			d.dict = append([]byte(nil), d.dict[len(d.dict)-32<<10:]...)
		}
	}
	return out, nil
}
