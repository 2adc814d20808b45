// Package cluster spreads the chat rooms of several wsbench server nodes
// over NATS, so that clients connected to different nodes share rooms.
//
// The data path of one message sent by a client of node A:
//
//	client → A's reader → Node.Publish ─┬→ A.DeliverLocal (A's members, at once)
//	                                    └→ NATS "wsbench.room.<room>" → B, C …
//	                                          → Node.relay → DeliverLocal (their members)
//
// A node delivers its own messages locally and publishes them with the
// NATS no-echo option, so it never receives them back (and would ignore
// them by node id if it did): every member gets a message exactly once,
// the sender included. Per-sender order holds at every receiver because a
// sender's messages are published one at a time by its reader goroutine on
// the node's single NATS connection (NATS keeps one publisher's order), and
// the node's single subscription "wsbench.room.>" hands them to DeliverLocal
// one at a time, in arrival order. Delivering locally first (rather than
// only from NATS) keeps local members served when NATS is lost and spares
// them the NATS round trip.
//
// The pieces:
//   - Node (node.go): the bus of one server: Join, Publish (a
//     chatserver.Fanout), Status, Close.
//   - Message and subject encoding (message.go, subject.go): payload = one
//     version byte, opcode, 8-byte node id, then the message bytes; no NATS
//     headers.
//   - StartNATS (embed.go): an embedded NATS server for single-machine
//     setups (the server's --nats-embed).
//   - ListenReusePort (reuseport.go): several nodes on one port via
//     SO_REUSEPORT.
package cluster
