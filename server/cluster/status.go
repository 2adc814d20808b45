package cluster

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Status is a snapshot of a node's bus.
type Status struct {
	NodeID        string `json:"node_id"`
	URL           string `json:"url"`
	Connected     bool   `json:"connected"`
	Published     int64  `json:"published"`      // messages published to NATS
	PublishErrors int64  `json:"publish_errors"` // messages that could not be published
	Received      int64  `json:"received"`       // messages of other nodes relayed to local members
	Dropped       int64  `json:"dropped"`        // messages NATS dropped because this node fell behind
	Malformed     int64  `json:"malformed"`      // messages on wsbench.room.> that were not ours
	Disconnects   int64  `json:"disconnects"`
	Reconnects    int64  `json:"reconnects"`
	LastError     string `json:"last_error,omitempty"`
}

// Status returns the node's current state and counters.
func (n *Node) Status() Status {
	s := Status{
		NodeID:        fmt.Sprintf("%016x", n.id),
		URL:           n.url,
		Connected:     n.connected.Load() && n.nc.IsConnected(),
		Published:     n.published.Load(),
		PublishErrors: n.publishErrors.Load(),
		Received:      n.received.Load(),
		Malformed:     n.foreign.Load(),
		Disconnects:   n.disconnects.Load(),
		Reconnects:    n.reconnects.Load(),
	}
	if d, err := n.sub.Dropped(); err == nil {
		s.Dropped = int64(d)
	}
	if e := n.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Health is the /healthz line of the node's bus: "nats: connected" or
// "nats: disconnected". A disconnected node still serves its local members,
// so /healthz stays 200 and only this line changes (a load balancer should
// keep sending it clients; operators alert on the line or the gauge).
func (s Status) Health() string {
	if s.Connected {
		return "nats: connected"
	}
	return "nats: disconnected"
}

// Collector returns the node's Prometheus series, to be registered next to
// the server's: wsbench_cluster_nats_connected (gauge, 1 or 0) and
// wsbench_cluster_{published,publish_errors,received,dropped,reconnects}_total.
func (n *Node) Collector() prometheus.Collector { return collector{n} }

type collector struct{ n *Node }

var (
	descConnected = prometheus.NewDesc("wsbench_cluster_nats_connected", "1 while the node is connected to the NATS bus, else 0 (it then serves local members only).", nil, nil)
	descPublished = prometheus.NewDesc("wsbench_cluster_published_total", "Room messages published to the NATS bus.", nil, nil)
	descPubErrs   = prometheus.NewDesc("wsbench_cluster_publish_errors_total", "Room messages that could not be published to NATS.", nil, nil)
	descReceived  = prometheus.NewDesc("wsbench_cluster_received_total", "Room messages of other nodes relayed to local members.", nil, nil)
	descDropped   = prometheus.NewDesc("wsbench_cluster_dropped_total", "Bus messages NATS dropped because this node fell behind.", nil, nil)
	descReconn    = prometheus.NewDesc("wsbench_cluster_reconnects_total", "Reconnections to NATS.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnected, descPublished, descPubErrs, descReceived, descDropped, descReconn} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.n.Status()
	up := 0.0
	if s.Connected {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descConnected, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(s.Published))
	ch <- prometheus.MustNewConstMetric(descPubErrs, prometheus.CounterValue, float64(s.PublishErrors))
	ch <- prometheus.MustNewConstMetric(descReceived, prometheus.CounterValue, float64(s.Received))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(s.Dropped))
	ch <- prometheus.MustNewConstMetric(descReconn, prometheus.CounterValue, float64(s.Reconnects))
}
