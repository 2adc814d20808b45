module github.com/wsbench/wsbench/scripts/peers/coder-echo

go 1.26

require github.com/coder/websocket v1.8.14
