module github.com/wsbench/wsbench/scripts/peers/gorilla-echo

go 1.26

require github.com/gorilla/websocket v1.5.3
