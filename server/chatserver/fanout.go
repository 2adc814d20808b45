package chatserver

import (
	"time"

	"github.com/gobwas/ws"

	"github.com/wsbench/wsbench/server/frame"
)

// Fanout delivers a message to every member of a room: locally, or through a
// cluster bus whose subscriber calls Server.DeliverLocal on every node.
// Publish is called from the sender's reader goroutine, one message at a
// time per sender, so a Fanout that forwards in call order keeps per-sender
// FIFO. payload is only valid during the call: copy it to keep it.
type Fanout interface {
	Publish(room string, op ws.OpCode, payload []byte)
}

// localFanout is the default Fanout: this server's members only.
type localFanout struct{ s *Server }

func (l localFanout) Publish(room string, op ws.OpCode, payload []byte) {
	l.s.DeliverLocal(room, op, payload)
}

// SetFanout routes every room publish through f instead of local delivery.
// Call it before Serve; nil restores local delivery.
func (s *Server) SetFanout(f Fanout) {
	if f == nil {
		f = localFanout{s}
	}
	s.fanout = f
}

// DeliverLocal sends a message to every connection of room on this server
// and returns how many connections it was queued to. The frame is encoded
// once (and compressed once, when a member agreed on permessage-deflate)
// and the same bytes are queued to every member; a member whose queue
// is full is closed as a slow consumer instead of blocking the others. It is
// safe for concurrent use; payload is not retained.
func (s *Server) DeliverLocal(room string, op ws.OpCode, payload []byte) int {
	mp := memberPool.Get().(*[]*conn)
	members := s.hub.snapshot(room, (*mp)[:0])
	n := 0
	if len(members) > 0 {
		inline, start := s.beginPublish()
		defer s.endPublish(inline, start)
		f := frame.Encode(op, payload)
		var fz []byte // compressed once, for the members that agreed on permessage-deflate
		for _, c := range members {
			out := f
			if c.zip.Load() {
				if fz == nil {
					fz = frame.EncodeCompressed(op, frame.Deflate(payload))
				}
				out = fz
			}
			if c.enqueue(out, inline) {
				n++
			}
		}
	}
	clear(members)
	*mp = members[:0]
	memberPool.Put(mp)
	s.m.messagesOut.Add(float64(n))
	return n
}

// beginPublish starts a fan-out and says whether its frames may be written
// inline: only while the server is not busy publishing — no other fan-out
// in progress, and the idle gap since the last one ended is at least
// Config.InlineAfter and at least as long as the last inline fan-out took.
// At light load that is every broadcast, and each idle receiver costs one
// write(2) by the publisher; once an inline fan-out would not fit into the
// gap before the next broadcast, frames go to the writer goroutines
// instead, which run after the fan-out and send whatever has queued by
// then in one writev, so the cost per delivery falls as the load rises
// instead of staying one system call each. endPublish must be called with
// the results when the fan-out ends.
func (s *Server) beginPublish() (inline bool, start int64) {
	start = time.Now().UnixNano()
	if s.publishing.Add(1) > 1 {
		return false, start
	}
	if s.cfg.InlineAfter > 0 {
		gap := start - s.lastPublishEnd.Load()
		if gap < int64(s.cfg.InlineAfter) || gap < s.lastInlineTook.Load() {
			return false, start
		}
	}
	return true, start
}

func (s *Server) endPublish(inline bool, start int64) {
	end := time.Now().UnixNano()
	if inline {
		s.lastInlineTook.Store(end - start)
	}
	s.lastPublishEnd.Store(end)
	s.publishing.Add(-1)
}

// broadcastAll queues f to every connection of every room (pings, pushes).
func (s *Server) broadcastAll(f []byte) int {
	mp := memberPool.Get().(*[]*conn)
	members := s.hub.all((*mp)[:0])
	n := 0
	for _, c := range members {
		if c.enqueue(f, false) {
			n++
		}
	}
	clear(members)
	*mp = members[:0]
	memberPool.Put(mp)
	return n
}
