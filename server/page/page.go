// Package page is the chat page the server shows for a GET without
// Upgrade. The page itself lives in internal/chatpage (conformance serve
// shows it too, and the suite must not import server/); this package keeps
// the server's name for it.
package page

import (
	"net/http"

	"github.com/wsbench/wsbench/internal/chatpage"
)

// HTML is the chat page, embedded at build time.
var HTML = chatpage.HTML

// Serve writes the chat page (see chatpage.Serve).
func Serve(w http.ResponseWriter, r *http.Request) { chatpage.Serve(w, r) }
