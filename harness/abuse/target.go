package abuse

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

// ErrNotLoopback is returned for a target whose host is not a loopback
// address: the abuse program only attacks servers on this machine.
var ErrNotLoopback = errors.New("abuse: target is not a loopback address")

// Target is the server under test.
type Target struct {
	URL      *url.URL // ws:// URL; its path is ignored, scenarios pick rooms
	HostPort string   // host:port to dial
	IP       net.IP   // the resolved loopback address
	http     *http.Client
}

// NewTarget parses a ws:// URL and checks that its host resolves only to
// loopback addresses.
func NewTarget(raw string) (*Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse --url %q: %w", raw, err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("--url %q: scheme must be ws:// (the program talks plain TCP on loopback)", raw)
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
	return &Target{
		URL:      u,
		HostPort: net.JoinHostPort(ip.String(), port),
		IP:       ip,
		http:     &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}, nil
}

// RoomURL returns the ws:// URL of room path p (p starts with "/").
func (t *Target) RoomURL(p string) string {
	return "ws://" + t.HostPort + p
}

// Healthz asks /healthz and returns nil on 200. A server without that
// endpoint (404, or 426 from a WebSocket-only server such as Node's ws)
// counts as healthy when a WebSocket handshake to it succeeds.
func (t *Target) Healthz(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.HostPort+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound, http.StatusUpgradeRequired:
		rc, err := dialer{target: t}.ws(ctx, "/abuse-health")
		if err != nil {
			return fmt.Errorf("no /healthz (status %d) and the WebSocket handshake failed: %w", resp.StatusCode, err)
		}
		closeHard(rc.nc)
		return nil
	}
	return fmt.Errorf("healthz: status %d", resp.StatusCode)
}

// HealthzWithin polls /healthz until it answers 200 or d has passed.
func (t *Target) HealthzWithin(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := t.Healthz(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Metrics is one scrape of /metrics: sample name with labels → value.
type Metrics map[string]float64

// Scrape reads /metrics (Prometheus text format). A server without the
// endpoint yields an empty map and no error.
func (t *Target) Scrape(ctx context.Context) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.HostPort+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.http.Do(req)
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

// CloseCodesSent returns the increase of wsbench_close_codes_sent_total by
// code label between two scrapes of our server (empty for other servers).
func CloseCodesSent(before, after Metrics) map[string]int {
	const prefix = `wsbench_close_codes_sent_total{code="`
	out := map[string]int{}
	for k, v := range after {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		d := int(v - before[k])
		if d > 0 {
			out[strings.TrimSuffix(k[len(prefix):], `"}`)] = d
		}
	}
	return out
}
