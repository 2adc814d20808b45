// Package client opens the loadgen's WebSocket connections: dialing with a
// connect timeout from a chosen local address, ramping at a fixed number of
// new connections per second, raising the file-descriptor limit, and
// writing masked client frames (compressed when permessage-deflate was
// negotiated). A Handshake adds headers, Origin, subprotocols, TLS roots
// or --insecure and the deflate offer; Resolve looks the server up once
// per run and Dialer.Addr dials that address for every connection.
//
// A Conn is read by exactly one goroutine (the receive package's Reader);
// writes (broadcasts, pongs, the closing handshake) may come from several
// goroutines and are serialised by the Conn.
package client
