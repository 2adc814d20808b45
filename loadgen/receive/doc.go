// Package receive is the loadgen's receive path: one Reader per connection
// reads frames with gobwas/ws's low-level header reader into buffers owned
// by the Reader, decodes the payload header, and records delivery latency
// (receipt − intended send time) into sharded HdrHistograms in Stats.
//
// Each Reader keeps a Tracker: a bitmap over the measured broadcasts (global
// timetable slots) that counts deliveries, duplicates and reorders for its
// connection. Memory is one bit per measured broadcast per receiver,
// allocated on the first measured message, so idle connections cost nothing.
//
// Options adapt a Reader to servers other than a binary relay: with Text
// it looks for the payload token anywhere in the first ScanBytes of a
// message; Room and Self with Window.Rooms and Window.ExpectOthers decide
// which messages the receiver is owed (others are counted Unexpected);
// Ignore and Await classify server chatter; a connection that negotiated
// permessage-deflate gets the start of each compressed message inflated.
//
// The hot path does not allocate and has no channel hop: a message costs a
// header parse, a bitmap update, an atomic max for the fan-out time and one
// uncontended-in-the-common-case mutex on the receiver's histogram shard.
package receive
