package chatserver

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus series of one Server, in its own registry so
// that several servers may run in one process (tests, clusters).
type metrics struct {
	reg               *prometheus.Registry
	open              prometheus.Gauge
	accepted          prometheus.Counter
	refused           *prometheus.CounterVec // by reason
	handshakeFailures *prometheus.CounterVec // by reason
	messagesIn        prometheus.Counter
	messagesOut       prometheus.Counter
	bytesIn           prometheus.Counter
	bytesOut          prometheus.Counter
	inlinePartial     prometheus.Counter
	writes            *prometheus.CounterVec // socket writes by path: inline (publisher) or writer (goroutine, one writev per batch)
	writesInline      prometheus.Counter
	writesWriter      prometheus.Counter
	slowConsumer      *prometheus.CounterVec // by reason: queue, deadline
	closeSent         *prometheus.CounterVec // by code
	dropped           *prometheus.CounterVec // TCP closed without a close handshake, by reason
	rateLimited       prometheus.Counter
	pendingClosed     *prometheus.CounterVec // not-upgraded connections closed by the pending policy, by reason
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.open = prometheus.NewGauge(prometheus.GaugeOpts{Name: "wsbench_connections_open", Help: "Open WebSocket connections."})
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_connections_accepted_total", Help: "WebSocket handshakes completed."})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_connections_refused_total", Help: "Connections refused by policy, by reason (max_conns, max_pending, draining, origin)."}, []string{"reason"})
	m.handshakeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_handshake_failures_total", Help: "Malformed or unsupported upgrade requests, by reason."}, []string{"reason"})
	m.messagesIn = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_messages_in_total", Help: "Data messages received from clients."})
	m.messagesOut = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_messages_out_total", Help: "Data messages queued to clients (one per receiver)."})
	m.bytesIn = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_bytes_in_total", Help: "Payload bytes of data messages received."})
	m.bytesOut = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_bytes_out_total", Help: "Bytes written to client sockets (frames, headers included)."})
	m.inlinePartial = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_inline_partial_writes_total", Help: "Inline writes the kernel took only part of: the rest went to the writer goroutine."})
	m.writes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_socket_writes_total", Help: "Write system calls to client sockets, by path: inline (by the publisher, one frame) or writer (one writev per batch)."}, []string{"path"})
	m.writesInline, m.writesWriter = m.writes.WithLabelValues("inline"), m.writes.WithLabelValues("writer")
	m.slowConsumer = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_slow_consumer_closes_total", Help: "Receivers closed with 1008 slow consumer, by reason (queue overflow, write deadline)."}, []string{"reason"})
	m.closeSent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_close_codes_sent_total", Help: "Close frames sent, by code (\"empty\" for an empty body)."}, []string{"code"})
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_connections_dropped_total", Help: "Connections closed without a completed close handshake, by reason."}, []string{"reason"})
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{Name: "wsbench_rate_limited_total", Help: "Connections closed with 1008 for sending more than --max-rate messages per second."})
	m.pendingClosed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wsbench_pending_closed_total", Help: "Connections closed before their first request: evicted (the longest waiting, to make room under --max-pending) or handshake_timeout."}, []string{"reason"})
	for _, c := range []prometheus.Collector{m.pendingClosed, m.rateLimited, m.open, m.accepted, m.refused, m.handshakeFailures, m.messagesIn, m.messagesOut, m.bytesIn, m.bytesOut, m.inlinePartial, m.writes, m.slowConsumer, m.closeSent, m.dropped} {
		f(c)
	}
	// Go runtime and process series (RSS, goroutines, heap): what the idle
	// connection measurement and soak runs read.
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{"max_conns", "max_pending", "draining", "origin"} {
		m.refused.WithLabelValues(r)
	}
	for _, r := range []string{pendingEvicted, pendingTimeout} {
		m.pendingClosed.WithLabelValues(r)
	}
	for _, r := range []string{"queue", "deadline"} {
		m.slowConsumer.WithLabelValues(r)
	}
	return m
}

func codeLabel(code uint16) string {
	if code == 0 {
		return "empty"
	}
	return strconv.Itoa(int(code))
}
