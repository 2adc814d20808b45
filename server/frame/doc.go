// Package frame reads and writes RFC 6455 frames on the server side of a
// WebSocket connection, with every check that github.com/gobwas/ws leaves to
// its caller: client masking, reserved bits and opcodes, control frame rules,
// continuation sequences, message size limits (checked from the header,
// before any payload is read or allocated) and streaming UTF-8 validation of
// text messages that fails as soon as an impossible byte arrives.
//
// The data path is Reader (socket → validated messages) and Encode (message
// → the bytes of one unmasked frame, built once and shared by every
// receiver). Violations are reported as *Error values carrying the close code
// the server must send.
package frame
