// Package chatpage is the wsbench chat page: a small HTML document with
// inline JavaScript that joins the room named by the page's path (or the
// WebSocket URL in its ?ws= parameter), reconnects with full-jitter
// exponential backoff and runs the application heartbeat (see
// server/README.md). The server shows it for a GET without Upgrade;
// conformance serve shows it at its behaviour session's URL, so the page
// can be judged as a client. It lives outside server/ so that the
// conformance suite does not depend on the server.
package chatpage

import (
	_ "embed"
	"net/http"
)

// HTML is the chat page, embedded at build time.
//
//go:embed chat.html
var HTML []byte

// Serve writes the chat page with headers that keep it uncached and forbid
// anything but its own inline code, WebSocket connections and fetches. The
// page fetches only /healthz of its WebSocket's host after a refused
// handshake; with ?ws= that host may be another origin, so connect-src
// allows http: and https: as it already allows ws: and wss: (the page
// never sends data in such a fetch).
func Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss: http: https:")
	if r.Method == http.MethodHead {
		return
	}
	w.Write(HTML)
}
