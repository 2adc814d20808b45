package chatserver

import (
	"net"
	"sync"
)

// qbuf is a send queue array. Queues come from size-class pools and go back
// when a connection's writer goes idle, so broadcasting does not allocate
// per receiver even when queues grow, and idle connections hold no queue.
type qbuf struct {
	s    [][]byte
	bufs net.Buffers // s as consumed by a vectored write; lives here so it does not escape per write
}

const (
	qMinCap   = 8
	qClasses  = 18 // capacities 8 … 1Mi
	qMaxClass = qMinCap << (qClasses - 1)
)

var qPools [qClasses]sync.Pool

func qClass(minCap int) int {
	k := 0
	for qMinCap<<k < minCap {
		k++
	}
	return k
}

// getQ returns an empty queue array with room for at least minCap frames.
func getQ(minCap int) *qbuf {
	if minCap > qMaxClass {
		return &qbuf{s: make([][]byte, 0, minCap)}
	}
	k := qClass(minCap)
	if q, ok := qPools[k].Get().(*qbuf); ok {
		return q
	}
	return &qbuf{s: make([][]byte, 0, qMinCap<<k)}
}

// putQ clears q (dropping its frame references) and pools it.
func putQ(q *qbuf) {
	if q == nil {
		return
	}
	clear(q.s[:cap(q.s)])
	q.s = q.s[:0]
	c := cap(q.s)
	if c > qMaxClass || c < qMinCap {
		return
	}
	if k := qClass(c); qMinCap<<k == c {
		qPools[k].Put(q)
	}
}

// push appends f to *qp, moving to a bigger pooled array when full.
func push(qp **qbuf, f []byte) {
	q := *qp
	if q == nil {
		q = getQ(qMinCap)
		*qp = q
	}
	if len(q.s) == cap(q.s) {
		nq := getQ(2 * cap(q.s))
		nq.s = append(nq.s, q.s...)
		putQ(q)
		q = nq
		*qp = q
	}
	q.s = append(q.s, f)
}
