// {{name}}: an fn0 function in Go. fmt.Println lines show up in `fn0 logs {{name}}`.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"wit/imports/wasi_keyvalue_atomics"
	"wit/imports/wasi_keyvalue_store"
)

func handle(r *Request, out *Response) {
	method, p := methodName(r), path(r)
	fmt.Println(method, p)
	switch {
	case method == "GET" && p == "/":
		greeting := os.Getenv("GREETING")
		if greeting == "" {
			greeting = "Hello"
		}
		sendJSON(out, 200, map[string]string{"message": greeting + " from {{name}}!", "language": "go"})
	case method == "POST" && p == "/echo":
		echo(r, out)
	case method == "GET" && p == "/count":
		visits, err := count()
		if err != "" {
			sendJSON(out, 500, map[string]string{"error": err})
		} else {
			sendJSON(out, 200, map[string]uint64{"visits": visits})
		}
	default:
		sendJSON(out, 404, map[string]string{"error": "not-found", "path": p})
	}
}

// count adds one to "visits" in the function's key-value bucket
// (`fn0 kv {{name}} get visits` reads it) and returns the sum.
func count() (uint64, string) {
	opened := wasi_keyvalue_store.Open("")
	if opened.IsErr() {
		return 0, fmt.Sprintf("open: %v", opened.Err())
	}
	bucket := opened.Ok()
	defer bucket.Drop()
	sum := wasi_keyvalue_atomics.Increment(bucket, "visits", 1)
	if sum.IsErr() {
		return 0, fmt.Sprintf("increment: %v", sum.Err())
	}
	return sum.Ok(), ""
}

// echo streams the request body back, chunk by chunk.
func echo(r *Request, out *Response) {
	contentType := header(r, "content-type")
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	w := respond(out, 200, "content-type", contentType)
	bodyChunks(r, w.Write)
	w.Finish()
}

func sendJSON(out *Response, status uint16, v any) {
	body, _ := json.Marshal(v)
	w := respond(out, status, "content-type", "application/json")
	w.Write(body)
	w.Finish()
}
