# wsbench: make is the interface. `make help` lists the targets; CI runs
# `make test`, exactly as a person does.
GO        ?= go
RESULTS   ?= results
FUZZTIME  ?= 10s
ARGS      ?=
SOAK      ?= 10m

.DEFAULT_GOAL := help
.PHONY: help build test lint vet fmt-check unit conformance fuzz-quick fuzz \
        bench bench-quick bench-cluster abuse soak node-peer clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n",$$1,$$2}' $(MAKEFILE_LIST)

build: ## build the three commands into bin/
	$(GO) build -o bin/ ./server ./loadgen ./conformance

lint: fmt-check vet ## gofmt check and go vet

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: lint unit fuzz-quick conformance ## vet, unit tests (-race), short fuzz pass, conformance + browser cases

unit: node-peer ## unit and integration tests with -race
	$(GO) test -race -shuffle=on -timeout 25m ./...

conformance: ## conformance suite (with the browser cases) against the reference server
	scripts/conformance.sh

fuzz-quick: ## every fuzz target for $(FUZZTIME)
	scripts/fuzz.sh $(FUZZTIME)

fuzz: ## every fuzz target for 5 minutes
	scripts/fuzz.sh 5m

bench: node-peer ## harness bench: ours vs Node and the peers (scripts/peers/), CPU per delivery, into results/<date>-<host>/ (~25 min); ARGS="--server NAME='CMD {port}'" adds yours
	$(GO) run ./harness bench $(ARGS)

bench-quick: node-peer ## harness bench --quick: ours, Node and the Go peers at light and heavy load (~3 min)
	$(GO) run ./harness bench --quick $(ARGS)

bench-cluster: ## harness cluster: 1 vs 2 vs 3 server nodes over NATS, cross-node latency, a 51k-client run (~2 min); ARGS="--skip big" …
	$(GO) run ./harness cluster $(ARGS)

abuse: ## harness abuse: hostile-input and fault program against a server (starts one if URL is unset); ARGS="--scenarios slowloris" …
	scripts/abuse.sh $(ARGS)

soak: ## harness soak: steady broadcast for SOAK (default 10m), reports RSS/goroutine drift; ARGS="--clients 500 --rate 500" …
	$(GO) build -o bin/ ./server ./loadgen
	$(GO) run ./harness soak --server-bin bin/server --loadgen bin/loadgen --duration $(SOAK) $(ARGS)

node-peer: ## install the Node ws chat-room peer server (npm ci)
	scripts/node-ws/install.sh

clean:
	rm -rf bin/
