package chatserver

import "sync"

// hub is the set of rooms. Rooms exist while they have members.
type hub struct {
	mu    sync.Mutex
	rooms map[string]*room
}

// room is the membership of one room. Broadcasts copy the member list under
// mu and enqueue outside it.
type room struct {
	name    string
	mu      sync.Mutex
	members []*conn // c.idx is c's index here
}

func newHub() *hub { return &hub{rooms: make(map[string]*room)} }

func (h *hub) join(c *conn) {
	h.mu.Lock()
	r := h.rooms[c.room]
	if r == nil {
		r = &room{name: c.room}
		h.rooms[c.room] = r
	}
	r.mu.Lock()
	c.idx = len(r.members)
	r.members = append(r.members, c)
	r.mu.Unlock()
	h.mu.Unlock()
}

func (h *hub) leave(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[c.room]
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.idx < 0 || c.idx >= len(r.members) || r.members[c.idx] != c {
		return
	}
	last := len(r.members) - 1
	r.members[c.idx] = r.members[last]
	r.members[c.idx].idx = c.idx
	r.members[last] = nil
	r.members = r.members[:last]
	c.idx = -1
	if len(r.members) == 0 {
		delete(h.rooms, c.room)
	}
}

// snapshot appends the members of room name to dst.
func (h *hub) snapshot(name string, dst []*conn) []*conn {
	h.mu.Lock()
	r := h.rooms[name]
	h.mu.Unlock()
	if r == nil {
		return dst
	}
	r.mu.Lock()
	dst = append(dst, r.members...)
	r.mu.Unlock()
	return dst
}

// all appends every connection of every room to dst.
func (h *hub) all(dst []*conn) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rooms {
		r.mu.Lock()
		dst = append(dst, r.members...)
		r.mu.Unlock()
	}
	return dst
}

var memberPool = sync.Pool{New: func() any { s := make([]*conn, 0, 64); return &s }}
