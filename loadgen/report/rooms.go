package report

import (
	"fmt"
	"io"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Room is one room's part of a --rooms run: slot n of the timetable is
// broadcast in room n mod rooms, and its receivers are the clients
// assigned to it round-robin. Expected, Delivered and Lost count as the
// run's Messages do, over the room's receivers that lasted the window.
type Room struct {
	Room      int     `json:"room"`
	Receivers int64   `json:"receivers"`
	Sent      int64   `json:"sent"` // measured broadcasts sent in this room
	Expected  int64   `json:"expected"`
	Delivered int64   `json:"delivered"`
	Lost      int64   `json:"lost"`
	LatencyMs Summary `json:"latency_ms"`
	// Histogram is the room's latency histogram (µs, RoomSigFigs
	// significant digits), base64 as in Histograms, for exact merges.
	Histogram string `json:"histogram,omitempty"`
}

// Compression is what --deflate negotiated.
type Compression struct {
	Offered string `json:"offered"` // the Sec-WebSocket-Extensions offer
	// Negotiated counts the connections whose server accepted it; Params
	// is the server's answer (first connection), e.g.
	// "permessage-deflate; server_no_context_takeover; client_no_context_takeover".
	Negotiated int64  `json:"negotiated"`
	Params     string `json:"params,omitempty"`
}

// MergeRooms adds the room rows of several reports of simultaneous runs
// (same room numbering): counters summed, histograms merged.
func MergeRooms(rs []*Report) ([]Room, error) {
	byRoom := map[int]*Room{}
	hists := map[int]*hdrhistogram.Histogram{}
	for i, r := range rs {
		for _, row := range r.Rooms {
			out := byRoom[row.Room]
			if out == nil {
				out = &Room{Room: row.Room}
				byRoom[row.Room] = out
				hists[row.Room] = NewRoomHistogram()
			}
			out.Receivers += row.Receivers
			out.Sent += row.Sent
			out.Expected += row.Expected
			out.Delivered += row.Delivered
			out.Lost += row.Lost
			if row.Histogram != "" {
				h, err := DecodeHistogram(row.Histogram)
				if err != nil {
					return nil, fmt.Errorf("report %d: room %d histogram: %w", i+1, row.Room, err)
				}
				hists[row.Room].Merge(h)
			}
		}
	}
	var rooms []Room
	for k, row := range byRoom {
		row.LatencyMs = Summarize(hists[k])
		row.Histogram, _ = EncodeHistogram(hists[k])
		rooms = append(rooms, *row)
	}
	slices.SortFunc(rooms, func(a, b Room) int { return a.Room - b.Room })
	return rooms, nil
}

// writeRooms writes the per-room rows of the summary table.
func (r *Report) writeRooms(w io.Writer) {
	if len(r.Rooms) == 0 {
		return
	}
	fmt.Fprintf(w, "\nroom\treceivers\tsent\texpected\tdelivered\tlost\tp50\tp99\tmax (ms)\n")
	for _, row := range r.Rooms {
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\n", row.Room, row.Receivers, row.Sent, row.Expected, row.Delivered, row.Lost,
			row.LatencyMs.P50, row.LatencyMs.P99, row.LatencyMs.Max)
	}
}
