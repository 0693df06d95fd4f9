// {{name}}: an fn0 function in Go. fmt.Println lines show up in `fn0 logs {{name}}`.
package main

import (
	"encoding/json"
	"fmt"
	"os"
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
	default:
		sendJSON(out, 404, map[string]string{"error": "not-found", "path": p})
	}
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
