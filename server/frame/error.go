package frame

import (
	"fmt"

	"github.com/gobwas/ws"
)

// Error is a protocol violation by the peer. Code is the close code the
// server sends before closing (1002, 1007 or 1009).
type Error struct {
	Code   ws.StatusCode
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("frame: %d %s", e.Code, e.Reason) }

func protocolError(reason string) *Error {
	return &Error{Code: ws.StatusProtocolError, Reason: reason}
}

var (
	errUnmasked       = protocolError("unmasked client frame")
	errRsv            = protocolError("reserved bits set without extension")
	errReservedOp     = protocolError("reserved opcode")
	errFragControl    = protocolError("fragmented control frame")
	errBigControl     = protocolError("control frame payload over 125 bytes")
	errLength64       = protocolError("64-bit length with the top bit set")
	errNoContinuation = protocolError("continuation frame without a started message")
	errNewMidMessage  = protocolError("new data frame before the previous message ended")
	errTooBig         = &Error{Code: ws.StatusMessageTooBig, Reason: "message too big"}
	errBadUTF8        = &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8 in text message"}
	errCloseLen1      = protocolError("close frame body of 1 byte")
	errCloseCode      = protocolError("invalid close code")
	errCloseUTF8      = &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8 in close reason"}
)
