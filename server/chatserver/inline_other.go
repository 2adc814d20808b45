//go:build !unix

package chatserver

// writeInlineLocked is the inline write of inline.go, which needs write(2):
// elsewhere every frame goes through the writer goroutine.
func (c *conn) writeInlineLocked(f []byte) int { return 0 }
