package browser

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed probe.html
var probeHTML []byte

// ChromiumEnv names the environment variable that overrides the browser
// binary; by default the lane uses /usr/bin/chromium or the first of
// chromium, chromium-browser and google-chrome on $PATH.
const ChromiumEnv = "WSBENCH_CHROMIUM"

// startTimeout bounds starting the browser and opening its first tab.
const startTimeout = 60 * time.Second

// lane is what every browser case shares: one headless Chromium, the HTTP
// server that serves the probe page, and the scripted peer. It starts on
// first use and lives until Close.
type lane struct {
	mu      sync.Mutex
	started bool
	err     error

	dataDir     string
	allocCancel context.CancelFunc
	browserCtx  context.Context
	browserStop context.CancelFunc

	ln    net.Listener
	srv   *http.Server
	peer  *peer
	base  string // http://127.0.0.1:port
	wsURL string // ws://127.0.0.1:port
}

var shared lane

// errNoChromium says the browser binary is missing; cases then skip.
var errNoChromium = errors.New("chromium not found")

// Close stops the shared browser and the probe server if the lane started
// them, waiting until Chromium has exited. It is safe to call more than
// once, and the lane starts again on the next case.
func Close() error {
	return shared.close()
}

// findChromium returns the browser binary to run.
func findChromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", errNoChromium, ChromiumEnv, p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: install Debian's chromium (apt-get install chromium) or set %s", errNoChromium, ChromiumEnv)
}

// get starts the lane if needed and returns it.
func (l *lane) get() (*lane, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return l, l.err
	}
	if err := l.start(); err != nil {
		l.stopLocked()
		// Remember the failure so that the other cases do not wait for
		// the browser again; Close resets it.
		l.started, l.err = true, err
		return l, err
	}
	l.started = true
	return l, nil
}

func (l *lane) start() error {
	path, err := findChromium()
	if err != nil {
		return err
	}
	l.dataDir, err = os.MkdirTemp("", "wsbench-chromium-")
	if err != nil {
		return fmt.Errorf("browser profile dir: %w", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(l.dataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Background tabs must keep their timers: the heartbeat cases
		// run with several tabs open.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(800, 600),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	l.allocCancel = allocCancel
	l.browserCtx, l.browserStop = chromedp.NewContext(allocCtx)
	// The first Run starts the browser, bounded from the outside: a
	// timeout on browserCtx itself would later kill the browser.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(l.browserCtx) }()
	select {
	case err = <-done:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no answer after %v", startTimeout)
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}

	l.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("probe server: %w", err)
	}
	l.peer = newPeer()
	mux := http.NewServeMux()
	mux.Handle("/peer/", l.peer)
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(probeHTML)
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go l.srv.Serve(l.ln)
	l.base = "http://" + l.ln.Addr().String()
	l.wsURL = "ws://" + l.ln.Addr().String()
	return nil
}

func (l *lane) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopLocked()
}

// stopLocked releases whatever start acquired. Cancelling the browser
// context closes Chromium; cancelling the allocator waits for the process
// and removes the profile directory.
func (l *lane) stopLocked() error {
	var errs []error
	if l.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, l.srv.Shutdown(ctx))
		cancel()
		l.srv.Close()
		l.srv = nil
	}
	if l.peer != nil {
		l.peer.close()
		l.peer = nil
	}
	if l.browserStop != nil {
		l.browserStop()
		l.browserStop = nil
	}
	if l.allocCancel != nil {
		l.allocCancel() // waits for Chromium to exit
		l.allocCancel = nil
	}
	if l.dataDir != "" {
		for range 50 { // children may still write for a moment
			if os.RemoveAll(l.dataDir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		l.dataDir = ""
	}
	l.started, l.err = false, nil
	return errors.Join(errs...)
}

// newTab opens a new tab in the shared browser that closes when the case's
// ctx ends or when the returned cancel is called.
func (l *lane) newTab(ctx context.Context) (context.Context, context.CancelFunc, error) {
	tab, cancel := chromedp.NewContext(l.browserCtx)
	stop := context.AfterFunc(ctx, cancel)
	release := func() { stop(); cancel() }
	tctx, tcancel := context.WithTimeout(ctx, 20*time.Second)
	defer tcancel()
	// Create the target now, bounded: Do on tab waits for the target.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tab) }()
	select {
	case err := <-done:
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("new tab: %w", err)
		}
	case <-tctx.Done():
		release()
		<-done
		return nil, nil, fmt.Errorf("new tab: %w", tctx.Err())
	}
	return tab, release, nil
}
