package chatserver

import (
	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// permessage-deflate (RFC 7692), with Config.Deflate: the server accepts
// the first valid offer with server_no_context_takeover and
// client_no_context_takeover, so every message is compressed and inflated
// on its own. A broadcast is then compressed once (DeliverLocal) and the
// same frame goes to every member that agreed, as the plain frame goes to
// the others. An offer that limits the server's window
// (server_max_window_bits) or that does not parse is declined, not
// refused: the client may have a fallback offer, or none at all.

// deflateParams is what the server answers to an offer it accepts.
var deflateParams = wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}

// negotiateDeflate returns the extension state of one handshake and the
// HTTPUpgrader.Negotiate callback that fills it.
func negotiateDeflate() (*wsflate.Extension, func(httphead.Option) (httphead.Option, error)) {
	ext := &wsflate.Extension{Parameters: deflateParams}
	return ext, func(opt httphead.Option) (httphead.Option, error) {
		accept, err := ext.Negotiate(opt)
		if err != nil {
			return httphead.Option{}, nil // an invalid offer is declined (RFC 7692 §7)
		}
		return accept, nil
	}
}
