package target

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotLoopback is returned for a URL whose host is not a loopback
// address: the harness only loads and attacks servers on this machine.
var ErrNotLoopback = errors.New("target is not a loopback address")

// ErrNoHealthz is returned by Healthz for a server without the endpoint
// (404, or 426 from a WebSocket-only server such as Node's ws): callers
// that accept such servers check liveness another way.
var ErrNoHealthz = errors.New("no /healthz")

// Endpoint is the address of a server under test and its HTTP side:
// /healthz, /metrics and /debug/pprof. Its methods may be called
// concurrently.
type Endpoint struct {
	URL      *url.URL // ws:// URL; its path is the caller's business
	HostPort string   // host:port to dial
	IP       net.IP   // the resolved loopback address
	http     *http.Client
}

// ParseURL parses a ws:// URL and checks that its host resolves only to
// loopback addresses.
func ParseURL(raw string) (*Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse --url %q: %w", raw, err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("--url %q: scheme must be ws:// (the harness talks plain TCP on loopback)", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	ips, err := net.DefaultResolver.LookupIP(context.Background(), "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve %q: no address", host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("%w: %s resolves to %s; run the server on 127.0.0.1", ErrNotLoopback, host, ip)
		}
	}
	ip := ips[0]
	for _, c := range ips {
		if c.To4() != nil {
			ip = c
			break
		}
	}
	e := newEndpoint(net.JoinHostPort(ip.String(), port))
	e.URL, e.IP = u, ip
	return e, nil
}

// newEndpoint is the HTTP side of a server at hostPort. Keep-alives are
// off: a server under attack may close idle connections at any time, and
// a scrape must not fail on a reused one.
func newEndpoint(hostPort string) *Endpoint {
	return &Endpoint{
		HostPort: hostPort,
		http:     &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// RoomURL returns the ws:// URL of room path p (p starts with "/").
func (e *Endpoint) RoomURL(p string) string {
	return "ws://" + e.HostPort + p
}

// get fetches path and returns the response, whose body the caller closes.
func (e *Endpoint) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.HostPort+path, nil)
	if err != nil {
		return nil, err
	}
	return e.http.Do(req)
}

// Healthz asks /healthz and returns nil on 200, an error wrapping
// ErrNoHealthz when the server has no such endpoint, and another error
// otherwise (503 while draining, no answer).
func (e *Endpoint) Healthz(ctx context.Context) error {
	resp, err := e.get(ctx, "/healthz")
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound, http.StatusUpgradeRequired:
		return fmt.Errorf("%w (status %d)", ErrNoHealthz, resp.StatusCode)
	}
	return fmt.Errorf("healthz: status %d", resp.StatusCode)
}

// Metrics is one scrape of /metrics: sample name with labels → value.
type Metrics map[string]float64

// Scrape reads /metrics (Prometheus text format). A server without the
// endpoint yields an empty map and no error.
func (e *Endpoint) Scrape(ctx context.Context) (Metrics, error) {
	resp, err := e.get(ctx, "/metrics")
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return Metrics{}, nil
	}
	return ParseMetrics(io.LimitReader(resp.Body, 8<<20)), nil
}

// Goroutines reads go_goroutines from /metrics or, when that gauge is not
// exported, the total of /debug/pprof/goroutine?debug=1 (our server with
// --pprof).
func (e *Endpoint) Goroutines(ctx context.Context) (int, error) {
	m, err := e.Scrape(ctx)
	if err == nil {
		if g, ok := m["go_goroutines"]; ok {
			return int(g), nil
		}
		err = errors.New("go_goroutines not found in /metrics")
	}
	resp, perr := e.get(ctx, "/debug/pprof/goroutine?debug=1")
	if perr != nil {
		return 0, errors.Join(err, perr)
	}
	defer resp.Body.Close()
	line, perr := bufio.NewReader(resp.Body).ReadString('\n')
	var total int
	if _, serr := fmt.Sscanf(line, "goroutine profile: total %d", &total); perr != nil || serr != nil {
		return 0, errors.Join(err, fmt.Errorf("/debug/pprof/goroutine: %q", line))
	}
	return total, nil
}

// ParseMetrics reads Prometheus text format samples ("name{labels} value"),
// skipping comments and lines it cannot parse.
func ParseMetrics(r io.Reader) Metrics {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			continue
		}
		name, val := strings.TrimSpace(line[:i]), line[i+1:]
		// A trailing timestamp: "name value ts".
		if j := strings.LastIndexByte(name, ' '); j > 0 && !strings.Contains(name[j:], "}") {
			name, val = strings.TrimSpace(name[:j]), name[j+1:]
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		m[name] = v
	}
	return m
}
