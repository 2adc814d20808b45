package chatserver

import (
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Retry-After values (seconds) for refused handshakes.
const (
	retryAfterFull     = 2
	retryAfterDraining = 5
)

// isUpgradeRequest reports whether r asks for a WebSocket (it is then
// validated as one, and refused with a 4xx if malformed).
func isUpgradeRequest(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" || r.Header.Get("Sec-WebSocket-Key") != ""
}

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// checkHandshake validates an upgrade request; it returns the HTTP status
// and message of a refusal, or 0.
func (s *Server) checkHandshake(w http.ResponseWriter, r *http.Request) (int, string, string) {
	switch {
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", "GET")
		return http.StatusMethodNotAllowed, "method", "WebSocket upgrade requires GET"
	case !r.ProtoAtLeast(1, 1):
		return http.StatusBadRequest, "protocol", "WebSocket upgrade requires HTTP/1.1"
	case !hasToken(r.Header, "Upgrade", "websocket"):
		return http.StatusBadRequest, "upgrade", "Upgrade header must be websocket"
	case !hasToken(r.Header, "Connection", "upgrade"):
		return http.StatusBadRequest, "connection", "Connection header must contain Upgrade"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusUpgradeRequired, "version", "only WebSocket version 13 is supported"
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, "key", "exactly one Sec-WebSocket-Key header is required"
	}
	if k, err := base64.StdEncoding.DecodeString(keys[0]); err != nil || len(k) != 16 {
		return http.StatusBadRequest, "key", "Sec-WebSocket-Key must be 16 bytes in base64"
	}
	return 0, "", ""
}

// originAllowed reports whether an Origin header value may connect.
func (s *Server) originAllowed(origin string) bool {
	if origin == "" || len(s.cfg.Origins) == 0 {
		return true
	}
	origin = strings.TrimSuffix(origin, "/")
	for _, o := range s.cfg.Origins {
		if originMatches(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// originMatches compares one --origins entry with an Origin value, case
// insensitively. "*" allows every origin and "scheme://host:*" every port
// of that host (a local dev server or test page picks its port at random).
func originMatches(allowed, origin string) bool {
	if allowed == "*" || strings.EqualFold(allowed, origin) {
		return true
	}
	host, ok := strings.CutSuffix(allowed, ":*")
	if !ok || len(origin) < len(host) || !strings.EqualFold(origin[:len(host)], host) {
		return false
	}
	port, ok := strings.CutPrefix(origin[len(host):], ":")
	if !ok {
		return origin[len(host):] == ""
	}
	if port == "" {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clientIP is the peer's address, or with TrustProxy the address the nearest
// proxy appended to X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			for i := len(parts) - 1; i >= 0; i-- {
				if p := strings.TrimSpace(parts[i]); p != "" {
					return p
				}
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// admitIP counts one more connection from ip, or reports that ip already
// has Config.MaxConnsPerIP of them (0: no limit).
func (s *Server) admitIP(ip string) bool {
	if s.cfg.MaxConnsPerIP <= 0 {
		return true
	}
	s.ipMu.Lock()
	defer s.ipMu.Unlock()
	if s.perIP[ip] >= s.cfg.MaxConnsPerIP {
		return false
	}
	if s.perIP == nil {
		s.perIP = make(map[string]int)
	}
	s.perIP[ip]++
	return true
}

// releaseIP undoes admitIP when the connection ends or is not made.
func (s *Server) releaseIP(ip string) {
	if s.cfg.MaxConnsPerIP <= 0 {
		return
	}
	s.ipMu.Lock()
	defer s.ipMu.Unlock()
	if s.perIP[ip] <= 1 {
		delete(s.perIP, ip)
	} else {
		s.perIP[ip]--
	}
}

func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// upgrade validates, admits and upgrades one WebSocket request.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) {
	ip := s.clientIP(r)
	if status, reason, msg := s.checkHandshake(w, r); status != 0 {
		s.m.handshakeFailures.WithLabelValues(reason).Inc()
		s.logf("ws refused ip=%q path=%q status=%d: %s", ip, r.URL.Path, status, msg)
		refuse(w, status, msg)
		return
	}
	if !s.originAllowed(r.Header.Get("Origin")) {
		s.m.refused.WithLabelValues("origin").Inc()
		s.logf("ws refused ip=%q origin=%q: origin not allowed", ip, r.Header.Get("Origin"))
		refuse(w, http.StatusForbidden, "Origin not allowed")
		return
	}
	if s.draining.Load() {
		s.m.refused.WithLabelValues("draining").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterDraining))
		refuse(w, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	if !s.admitIP(ip) {
		s.m.refused.WithLabelValues("max_conns_per_ip").Inc()
		s.logf("ws refused ip=%q: %d connections from this address (--max-conns-per-ip)", ip, s.cfg.MaxConnsPerIP)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterFull))
		refuse(w, http.StatusTooManyRequests, "too many connections from your address, retry later")
		return
	}
	if n := s.nconns.Add(1); n > int64(s.cfg.MaxConns) {
		s.releaseIP(ip)
		s.nconns.Add(-1)
		s.m.refused.WithLabelValues("max_conns").Inc()
		s.logf("ws refused ip=%q: %d connections open (--max-conns)", ip, n-1)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterFull))
		refuse(w, http.StatusServiceUnavailable, "server is full, retry later")
		return
	}
	// Join the room before the 101 is written: a client that has read the
	// 101 is a member and gets every message published after it. Frames
	// published meanwhile wait in the queue until the upgrade is done.
	c := &conn{s: s, room: r.URL.Path, ip: ip, opened: time.Now(), idx: -1}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		s.releaseIP(ip)
		s.nconns.Add(-1)
		s.m.refused.WithLabelValues("draining").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterDraining))
		refuse(w, http.StatusServiceUnavailable, "server is shutting down")
		return
	}
	s.wg.Add(1)
	s.hub.join(c)
	s.mu.Unlock()

	up := ws.HTTPUpgrader{Timeout: s.cfg.WriteTimeout}
	var ext *wsflate.Extension
	if s.cfg.Deflate {
		ext, up.Negotiate = negotiateDeflate()
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		c.abandon()
		s.releaseIP(ip)
		s.nconns.Add(-1)
		s.wg.Done()
		s.m.handshakeFailures.WithLabelValues("upgrade").Inc()
		s.logf("ws upgrade failed ip=%q: %v", ip, err)
		if nc != nil {
			nc.Close()
		}
		return
	}
	nc = untracked(nc) // the WebSocket path works on the socket itself
	var pending []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		pending = append([]byte(nil), b...)
	}
	if tc, ok := nc.(*net.TCPConn); ok && s.cfg.SocketBuffer > 0 {
		// A bounded kernel buffer makes a receiver that stops reading
		// fill its send queue (and be closed as slow) within seconds,
		// instead of pinning megabytes of kernel memory first.
		_ = tc.SetWriteBuffer(s.cfg.SocketBuffer)
	}
	if ext != nil {
		_, ok := ext.Accepted()
		c.zip.Store(ok)
	}
	c.attach(nc, pending)
	s.m.accepted.Inc()
	s.m.open.Inc()
	s.logf("ws open ip=%q room=%q", ip, c.room)
	c.startReading()
}
