// Package client opens the loadgen's WebSocket connections: dialing with a
// connect timeout from a chosen local address, ramping at a fixed number of
// new connections per second, raising the file-descriptor limit, and
// writing masked client frames.
//
// A Conn is read by exactly one goroutine (the receive package's Reader);
// writes (broadcasts, pongs, the closing handshake) may come from several
// goroutines and are serialised by the Conn.
package client
