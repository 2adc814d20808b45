// Package chatserver is the wsbench reference WebSocket broadcast server: a
// chat room per URL path, where every text or binary message a client sends
// is relayed byte for byte, with its opcode, to every open connection of the
// room, the sender included.
//
// Data path: an HTTP request arrives at Server.ServeHTTP; an upgrade request
// is validated (handshake.go), hijacked and upgraded with gobwas/ws, and the
// connection (conn.go) gets one reader goroutine that turns socket bytes into
// validated messages (package frame). Each message goes to the Fanout
// (fanout.go), by default straight to Server.DeliverLocal, which encodes the
// outgoing frame once and appends the same bytes to the bounded send queue of
// every member of the room (hub.go). A writer goroutine exists only while a
// connection's queue is non-empty, so an idle connection costs one parked
// reader goroutine and no buffers.
//
// Lock order: hub.mu, then room.mu, then conn.mu. No lock is held while
// writing to a socket.
package chatserver
