package run

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"github.com/wsbench/wsbench/loadgen/client"
	"github.com/wsbench/wsbench/loadgen/payload"
	"github.com/wsbench/wsbench/loadgen/receive"
	"github.com/wsbench/wsbench/loadgen/report"
	"github.com/wsbench/wsbench/loadgen/timetable"
)

// ErrNoConnection is returned (with a report) when not one connection could
// be established (exit code 3).
var ErrNoConnection = errors.New("no connection could be established")

// Result is a run's report plus the raw data a multi-process coordinator
// needs to merge runs exactly.
type Result struct {
	Report *report.Report
	// Window is the measured window (nil when the run never started
	// sending).
	Window *receive.Window
	// LastReceipts holds, per measured slot, when this process's last
	// receiver got it (Unix ns, 0 = never).
	LastReceipts []int64
	// Sent is the number of measured broadcasts this process sent.
	Sent int64
}

// Run runs cfg and returns its report. The report is returned also with
// ErrNoConnection and when ctx was cancelled (covering what was measured).
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	res, err := Detailed(ctx, cfg)
	if res == nil {
		return nil, err
	}
	return res.Report, err
}

// member is one client connection and its reader.
type member struct {
	conn    *client.Conn
	reader  *receive.Reader
	done    chan struct{}
	err     error // Reader.Run's result, valid after done
	dropped bool  // ended before the close phase
	// state: 0 joining, 1 counted as connected, 2 reader ended.
	state atomic.Int32
	sent  atomic.Int64 // measured broadcasts this client sent
}

// runner holds a run's state.
type runner struct {
	cfg     Config
	stats   *receive.Stats
	members []*member // index = client number; nil until connected

	mu        sync.Mutex
	connectH  *hdrhistogram.Histogram // handshake times, µs; guarded by mu
	lagH      *hdrhistogram.Histogram // send lag, µs; guarded by mu
	firstErr  error                   // first dial error; guarded by mu
	attempted atomic.Int64
	connected atomic.Int64 // currently open
	failed    atomic.Int64
	closing   atomic.Bool
	sentAll   atomic.Int64 // every broadcast sent (warmup included)
	sentWin   atomic.Int64 // measured broadcasts sent
	sendErrs  atomic.Int64
	maxLag    atomic.Int64 // ns, the generator's own send lag
	maxLate   atomic.Int64 // ns, lateness against the timetable (own + backpressure)
	phase     atomic.Value // string
	world     *world       // real-world-server options, prepared
	runID     uint64       // carried in every payload; set before the ramp
	window    *report.Window
	serverCPU serverCPU // --server-pid samples at the window's edges
}

// NewRunID returns a random non-zero run id (the one every payload of a
// run carries, shared by all parts of a run split by loadgen/shard).
func NewRunID() uint64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		if id := binary.LittleEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// Detailed is Run returning the merge data as well.
func Detailed(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &runner{
		cfg:      cfg,
		stats:    receive.NewStats(4 * runtime.GOMAXPROCS(0)),
		members:  make([]*member, cfg.Clients),
		connectH: report.NewLatencyHistogram(),
		lagH:     report.NewLatencyHistogram(),
	}
	r.phase.Store("ramp")
	w, err := prepare(ctx, cfg)
	if err != nil {
		if errors.Is(err, ErrUsage) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrNoConnection, err)
	}
	r.world = w
	r.runID = cfg.RunID
	if r.runID == 0 {
		r.runID = NewRunID()
	}
	return r.run(ctx)
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	started := time.Now()
	var warnings []string
	fdLimit, err := client.RaiseNoFile()
	if err != nil {
		warnings = append(warnings, err.Error())
	}
	_, capWarn := client.Capacity(cfg.Clients, fdLimit, cfg.SourceIPs)
	warnings = append(warnings, capWarn...)
	for _, w := range capWarn {
		r.logf("warning: %s", w)
	}

	progCtx, stopProgress := context.WithCancel(context.Background())
	progDone := make(chan struct{})
	go func() { defer close(progDone); r.progress(progCtx, started) }()
	defer func() { stopProgress(); <-progDone }()

	// Ramp.
	runtime.GC()
	rssBefore := rssBytes()
	client.Ramp(ctx, cfg.Clients, cfg.Ramp, func(i int) { r.connect(ctx, i) })
	established := r.connected.Load()
	runtime.GC()
	rssAfter := rssBytes()
	rssPerClient := 0.0
	if established > 0 && rssAfter > rssBefore {
		rssPerClient = float64(rssAfter-rssBefore) / float64(established) / 1024
	}
	if r.failed.Load() > 0 {
		r.mu.Lock()
		w := fmt.Sprintf("%d of %d connections failed; first error: %v", r.failed.Load(), r.attempted.Load(), r.firstErr)
		r.mu.Unlock()
		warnings = append(warnings, w)
		r.logf("warning: %s", w)
	}

	res := &Result{}
	var measured time.Duration
	if established == 0 {
		err = ErrNoConnection
		r.mu.Lock()
		if r.firstErr != nil {
			err = fmt.Errorf("%w: %v", ErrNoConnection, r.firstErr)
		}
		r.mu.Unlock()
	} else if ctx.Err() == nil {
		measured, err = r.broadcast(ctx, res)
	}
	r.closeAll()
	r.world.wg.Wait()
	stopProgress()
	<-progDone

	res.Report = r.report(started, measured, res, fdLimit, rssPerClient, warnings)
	if ctx.Err() != nil {
		res.Report.Interrupted = true
		if err == nil {
			res.Report.Generator.Warnings = append(res.Report.Generator.Warnings, "run interrupted: the report covers the part measured before the interrupt")
		}
	}
	res.Report.Judge()
	return res, err
}

// connect dials client i, starts its reader, sends its --on-open texts
// and waits for --await; the time until then is its connect time.
func (r *runner) connect(ctx context.Context, i int) {
	r.attempted.Add(1)
	fail := func(err error) {
		r.failed.Add(1)
		r.mu.Lock()
		if r.firstErr == nil {
			r.firstErr = err
		}
		r.mu.Unlock()
	}
	d := r.world.dialer(r.cfg, i)
	c, err := d.Dial(ctx, r.world.url.Expand(r.cfg.ClientBase+i, r.cfg.roomOf(i)))
	if err != nil {
		fail(err)
		return
	}
	joinStart := time.Now()
	m := &member{conn: c, reader: receive.NewReaderWith(c, r.stats, i, r.readerOptions(i)), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = m.reader.Run()
		if m.state.Swap(2) == 1 && !r.closing.Load() {
			m.dropped = true
			r.connected.Add(-1)
		}
	}()
	if err := r.world.join(ctx, r.cfg, i, m); err != nil || !m.state.CompareAndSwap(0, 1) {
		if err == nil {
			err = fmt.Errorf("connection ended while joining: %v", m.err)
		}
		_ = c.Close()
		<-m.done
		fail(err)
		return
	}
	r.mu.Lock()
	_ = r.connectH.RecordValue(max((c.Handshake + time.Since(joinStart)).Microseconds(), 1))
	r.mu.Unlock()
	r.members[i] = m
	r.connected.Add(1)
	r.world.keepAlive(r.cfg, i, m)
}

// broadcast runs warmup, measure and drain; it returns the measured time.
func (r *runner) broadcast(ctx context.Context, res *Result) (time.Duration, error) {
	cfg := r.cfg
	runID := r.runID
	start := time.Now().Add(100 * time.Millisecond)
	if cfg.Gate != nil {
		var err error
		if start, err = cfg.Gate(int(r.connected.Load())); err != nil {
			return 0, fmt.Errorf("waiting for the start signal: %w", err)
		}
	}
	tt := timetable.Timetable{Start: start, Rate: cfg.Rate, Senders: cfg.totalSenders()}
	w := receive.Window{RunID: runID, Table: tt, Lo: tt.SlotsBefore(cfg.Warmup), Hi: tt.SlotsBefore(cfg.Warmup + cfg.Duration),
		Rooms: cfg.rooms(), ExpectOthers: cfg.Expect == ExpectOthers}
	r.stats.Start(w)
	res.Window = r.stats.Window()
	r.phase.Store("warmup")

	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	var wg sync.WaitGroup
	for k := 0; k < cfg.senders(); k++ {
		m := r.members[k]
		if m == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.send(sendCtx, m, cfg.SenderBase+k, res.Window, r.world.bind(cfg, k))
		}()
	}
	// Phase labels for the progress line.
	measureAt := start.Add(tt.Offset(w.Lo))
	endAt := start.Add(tt.Offset(w.Hi))
	go func() {
		t := time.NewTimer(time.Until(measureAt))
		defer t.Stop()
		select {
		case <-t.C:
			r.phase.CompareAndSwap("warmup", "measure")
			r.serverCPU.begin(cfg.ServerPID)
		case <-sendCtx.Done():
		}
	}()
	wg.Wait()
	// Processes without (working) senders still wait for the window's end.
	if d := time.Until(endAt); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	r.serverCPU.end()
	stopSend()
	measured := cfg.Duration
	if ctx.Err() != nil {
		measured = max(0, min(cfg.Duration, time.Since(measureAt)))
	}
	r.window = &report.Window{Start: measureAt.UTC().Format(report.WindowLayout), End: measureAt.Add(measured).UTC().Format(report.WindowLayout)}

	// Drain: until every connected receiver has every measured broadcast.
	r.phase.Store("drain")
	res.Sent = r.sentWin.Load()
	owed := res.Sent // per receiver
	if cfg.totalSenders() != cfg.senders() {
		owed = int64(w.Len()) // other processes send the rest
	}
	deadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(deadline) {
		if r.stats.Delivered() >= r.owedNow(owed) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return measured, nil
}

// send publishes sender id's slots on the timetable until the window ends.
//
// Lateness against the timetable has two causes, recorded apart: the
// generator's own (the goroutine ran late: scheduling, CPU, GC) and the
// server's backpressure (the previous write of this connection blocked past
// the next due time because the server does not read). Only the first
// marks the run overloaded; both count in latency, which is always taken
// from the intended time.
func (r *runner) send(ctx context.Context, m *member, id int, w *receive.Window, msg *payload.Message) {
	tt := w.Table
	var buf []byte // small payloads: one buffer per sender, allocated on first use
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var prevEnd time.Time
	for seq := uint64(0); ; seq++ {
		slot := tt.Slot(id, seq)
		if slot >= w.Hi {
			return
		}
		due := tt.Due(slot)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		now := time.Now()
		if slot >= w.Lo { // warmup lateness does not count
			ready := due
			if prevEnd.After(due) {
				ready = prevEnd // blocked in the previous write: backpressure
			}
			r.recordLag(now.Sub(due), now.Sub(ready))
		}
		err := r.write(m.conn, &buf, msg, payload.Header{RunID: w.RunID, Sender: uint32(id), Seq: seq, Intended: due.UnixNano()})
		if err != nil {
			r.sendErrs.Add(1)
			return
		}
		prevEnd = time.Now()
		r.sentAll.Add(1)
		if slot >= w.Lo {
			r.sentWin.Add(1)
			m.sent.Add(1)
			r.world.sentRoom[slot%uint64(len(r.world.sentRoom))].Add(1)
		}
	}
}

// write encodes and sends one broadcast: the binary header padded with
// random bytes, or the text message msg. Payloads up to
// client.KeepFrameBuffer live in the sender's own buffer; larger ones in a
// pooled buffer, so memory does not grow with senders × size.
func (r *runner) write(c *client.Conn, own *[]byte, msg *payload.Message, h payload.Header) error {
	size := r.cfg.Size
	if msg != nil {
		size = msg.Len(size)
	}
	var buf []byte
	if size <= client.KeepFrameBuffer {
		if *own == nil {
			*own = make([]byte, size)
			copy((*own)[min(payload.HeaderLen, size):], r.world.pad.Slice(uint64(h.Sender), size))
		}
		buf = *own
	} else {
		bp := client.GetBuffer(size)
		defer client.PutBuffer(bp)
		buf = (*bp)[:size]
		if msg == nil {
			copy(buf[payload.HeaderLen:], r.world.pad.Slice(h.Seq+uint64(h.Sender), size-payload.HeaderLen))
		}
	}
	if msg != nil {
		buf = msg.Append(buf[:0], h, r.cfg.Size, r.world.pad)
		return c.WriteMessage(ws.OpText, buf)
	}
	_ = payload.Encode(buf, h)
	return c.WriteMessage(ws.OpBinary, buf)
}

// recordLag records a measured send's lateness against the timetable and
// the part of it that the generator itself caused.
func (r *runner) recordLag(late, own time.Duration) {
	atomicMax(&r.maxLag, int64(own))
	atomicMax(&r.maxLate, int64(late))
	us := min(max(late.Microseconds(), report.HistMinMicros), report.HistMaxMicros)
	r.mu.Lock()
	_ = r.lagH.RecordValue(us)
	r.mu.Unlock()
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// closeAll sends close 1000 on every connection, waits up to CloseWait for
// the readers to see the echo, then closes the sockets.
func (r *runner) closeAll() {
	r.phase.Store("close")
	r.closing.Store(true)
	deadline := time.Now().Add(CloseWait)
	for _, m := range r.members {
		if m == nil {
			continue
		}
		select {
		case <-m.done:
			continue
		default:
		}
		_ = m.conn.SetReadDeadline(deadline)
		_ = m.conn.SetWriteDeadline(deadline)
		_ = m.conn.WriteClose(ws.StatusNormalClosure)
	}
	for _, m := range r.members {
		if m == nil {
			continue
		}
		<-m.done
		_ = m.conn.Close()
	}
}

func (r *runner) logf(format string, a ...any) {
	w := r.cfg.Log
	if w == nil {
		w = r.cfg.Progress
	}
	if w != nil {
		fmt.Fprintf(w, format+"\n", a...)
	}
}
