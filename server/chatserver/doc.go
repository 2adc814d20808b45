// Package chatserver is the wsbench reference WebSocket broadcast server: a
// chat room per URL path, where every text or binary message a client sends
// is relayed byte for byte, with its opcode, to every open connection of the
// room, the sender included.
//
// Data path: an HTTP request arrives at Server.ServeHTTP; an upgrade request
// is validated (handshake.go), hijacked and upgraded with gobwas/ws, and
// becomes a conn (conn.go) with three sides: read.go turns socket bytes into
// validated messages (package frame) and hands each to the Fanout
// (fanout.go), by default straight to Server.DeliverLocal, which encodes the
// outgoing frame once for every member of the room (hub.go); write.go sends
// it, inline with one non-blocking write when the member is idle
// (inline.go), else through its bounded send queue and a writer goroutine
// that exists only while the queue is non-empty; close.go holds the close
// sequence as two explicit states. An idle connection costs one parked
// reader slot and no buffers. With Config.Deflate (deflate.go), members
// that agreed on permessage-deflate get the message compressed, once per
// broadcast, and their compressed messages are inflated on the read side.
//
// Lock order: hub.mu, then room.mu, then conn.mu. No lock is held while a
// write can block: the inline write, under conn.mu, never waits.
package chatserver
