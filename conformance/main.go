// Command conformance checks a WebSocket chat-room server against RFC 6455
// and the wsbench contracts, frame by frame, and prints one line per case.
//
//	go run ./conformance --url ws://127.0.0.1:8181/ --junit results/conformance.xml
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"github.com/wsbench/wsbench/conformance/browser"
	"github.com/wsbench/wsbench/conformance/cases"
	"github.com/wsbench/wsbench/conformance/rawclient"
	"github.com/wsbench/wsbench/conformance/report"
	"github.com/wsbench/wsbench/conformance/runner"
	"github.com/wsbench/wsbench/conformance/suite"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	if len(args) > 0 && args[0] == "serve" {
		return runServe(args[1:])
	}
	cfg := runner.DefaultConfig()
	fs := pflag.NewFlagSet("conformance", pflag.ContinueOnError)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "server under test (ws:// or wss://); cases use their own paths on it")
	fs.StringVar(&cfg.Run, "run", "", "run only cases whose ID (or \"ID title\") matches this regexp")
	fs.BoolVar(&cfg.Browser, "browser", false, "also run the real-browser cases (chromium)")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 0, "the server's ping interval (heartbeat cases skipped when 0)")
	fs.DurationVar(&cfg.PongTimeout, "pong-timeout", 0, "the server's pong timeout (heartbeat cases skipped when 0)")
	fs.Int64Var(&cfg.MaxMessage, "max-message", 0, "the server's message limit in bytes (limit cases skipped when 0)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "the server's connection limit, at most 1000 (capacity case skipped when 0)")
	fs.StringVar(&cfg.ForbiddenOrigin, "forbidden-origin", "", "an Origin the server must refuse with 403 (case skipped when empty)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound of one case (heartbeat cases get 4× --pong-timeout more)")
	fs.IntVar(&cfg.Parallel, "parallel", cfg.Parallel, "cases run at once")
	fs.BoolVar(&cfg.Relaxed, "relaxed", false, "also echo 1–16 MiB messages and run the Autobahn 9.x cases (PF-xx: large, fragmented, chopped messages, 1,000 round trips)")
	fs.BoolVar(&cfg.Deflate, "deflate", false, "offer permessage-deflate (RFC 7692) and run its cases (DF-xx: negotiation, compressed echo, compression bomb)")
	fs.StringVar(&cfg.Profile, "profile", cfg.Profile, "what the server does with a message: chat (relays it to every member of the room, sender included) or echo (sends it back to the sender only; multi-member cases are skipped)")
	fs.StringVar(&cfg.JUnit, "junit", "", "write JUnit XML to this file")
	fs.StringVar(&cfg.JSON, "json", "", "write a JSON report to this file")
	fs.StringVar(&cfg.ReportDir, "report-dir", "", "write DIR/index.json in the Autobahn testsuite's shape, a JSON file per case with its wire log, and a self-contained DIR/index.html")
	fs.StringVar(&cfg.Agent, "agent", "", "the server's name in --report-dir reports (default the --url host)")
	fs.BoolVar(&cfg.List, "list", false, "print the catalogue (id, group, Autobahn case, ref, title) and exit")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: conformance --url ws://HOST:PORT/ [flags]\n       conformance serve [--addr 127.0.0.1:9001] [flags]   (judge a client; see conformance serve --help)\n\nFlags:\n%s\nExamples:\n"+
			"  conformance --url ws://127.0.0.1:8181/ --ping-interval 25s --pong-timeout 60s --max-message 65536\n"+
			"  conformance --url ws://127.0.0.1:9001/ --profile echo\n  conformance --list\n  conformance --url ws://127.0.0.1:8181/ --run '^CL-'\n", fs.FlagUsages())
	}
	if code, ok := parseFlags(fs, args, "conformance", "pass the server with --url"); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	entries, err := runner.Run(ctx, cfg, catalogue(cfg.Browser || cfg.List), os.Stdout, nil)
	if cfg.Browser {
		if cerr := browser.Close(); cerr != nil {
			fmt.Fprintln(os.Stderr, "conformance: closing the browser:", cerr)
		}
	}
	return exitCode("conformance", entries, err)
}

// catalogue is every case the command knows; the real-browser cases only
// when withBrowser (--browser, or --list to show the whole catalogue).
func catalogue(withBrowser bool) []suite.Case {
	all := cases.Catalogue(&rawclient.Recorder{})
	if withBrowser {
		all = append(all, browser.Cases()...)
	}
	return all
}

// parseFlags parses args into fs for the command named name. When it
// returns ok false the command exits with code: 0 after --help, 2 on a
// usage error (said on stderr, with hint for a stray argument).
func parseFlags(fs *pflag.FlagSet, args []string, name, hint string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected argument %q; %s\n", name, fs.Arg(0), hint)
		return 2, false
	}
	return 0, true
}

// exitCode maps a run's outcome to the command's exit code, the same for
// servers and clients: 2 usage error, 1 an error or any FAILED case, else
// 0. An error is said on stderr.
func exitCode(name string, entries []report.Entry, err error) int {
	switch {
	case errors.Is(err, runner.ErrUsage):
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	for _, e := range entries {
		if e.Result.Verdict == suite.Failed {
			return 1
		}
	}
	return 0
}
