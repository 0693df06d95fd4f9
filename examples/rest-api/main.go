// rest-api: a CRUD resource, notes, in the function's key-value bucket
// (README.md). fmt.Println lines show up in `fn0 logs rest-api`.
package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxBody is the most a POST or PUT body may hold.
const maxBody = 64 << 10

func handle(r *Request, out *Response) {
	method := methodName(r)
	path, query := target(r)
	kv := &store{}
	rep := route(r, kv, method, path, query)
	kv.close()
	send(out, rep, method == "HEAD")
	fmt.Println(method, path, rep.status)
}

func route(r *Request, kv *store, method, path, query string) reply {
	if path == "/notes" {
		switch method {
		case "GET", "HEAD":
			return listNotes(kv, query)
		case "POST":
			return createNote(r, kv)
		}
		return errorReply(405, "method-not-allowed", method+" is not allowed on /notes", "allow", "GET, HEAD, POST")
	}
	if rest, ok := strings.CutPrefix(path, "/notes/"); ok {
		id, ok := parseID(rest)
		if !ok {
			return errorReply(404, "not-found", fmt.Sprintf("no note %q: ids are positive integers", rest))
		}
		switch method {
		case "GET", "HEAD":
			return getNote(r, kv, id)
		case "PUT":
			return putNote(r, kv, id)
		case "DELETE":
			return deleteNote(r, kv, id)
		}
		return errorReply(405, "method-not-allowed", method+" is not allowed on a note", "allow", "GET, HEAD, PUT, DELETE")
	}
	return errorReply(404, "not-found", "nothing at "+path+" (try /notes)")
}

// parseID reads a note id as written in its URL: digits, no leading zero.
func parseID(s string) (uint64, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil && id > 0 && strconv.FormatUint(id, 10) == s
}

func storeFailed(err error) reply { return errorReply(500, "store-error", err.Error()) }

func noteNotFound(id uint64) reply {
	return errorReply(404, "not-found", fmt.Sprintf("no note %d", id))
}

func noteReply(status uint16, data []byte, headers ...string) reply {
	headers = append([]string{"content-type", "application/json", "etag", etagOf(data)}, headers...)
	return reply{status, headers, data}
}

// conditional answers 304 or 412 when the request's preconditions say so
// (ok is false then).
func conditional(r *Request, data []byte, get bool) (rep reply, ok bool) {
	etag := etagOf(data)
	switch preconditions(r, etag, get) {
	case 304:
		return reply{304, []string{"etag", etag}, nil}, false
	case 412:
		return errorReply(412, "precondition-failed", "the note's current ETag is "+etag), false
	}
	return reply{}, true
}

// readInput reads and checks a POST or PUT body: 415, 413 or 400 when it
// is not a JSON note.
func readInput(r *Request) ([]byte, reply, bool) {
	ct, _ := header(r, "content-type")
	mediaType, _, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), "application/json") {
		return nil, errorReply(415, "unsupported-media-type", "the body must be application/json, not "+strconv.Quote(ct),
			"accept", "application/json"), false
	}
	tooLarge := errorReply(413, "body-too-large", fmt.Sprintf("the body is over %d bytes", maxBody))
	if cl, ok := header(r, "content-length"); ok {
		if n, err := strconv.ParseUint(cl, 10, 64); err == nil && n > maxBody {
			return nil, tooLarge, false
		}
	}
	body, ok := readBody(r, maxBody)
	if !ok {
		return nil, tooLarge, false
	}
	return body, reply{}, true
}

func invalid(e *fieldError) reply {
	if e.field == "" {
		return errorReply(400, "invalid-json", e.message)
	}
	return jsonReply(400, map[string]string{"error": "invalid-field", "field": e.field, "message": e.message})
}

func createNote(r *Request, kv *store) reply {
	body, rep, ok := readInput(r)
	if !ok {
		return rep
	}
	in, bad := parseInput(body)
	if bad != nil {
		return invalid(bad)
	}
	data, n, err := kv.create(in)
	if err != nil {
		return storeFailed(err)
	}
	// On a node the client's path is /rest-api/notes (fn0-original-path);
	// the function sees /notes.
	base, ok := header(r, "fn0-original-path")
	if base, _, _ = strings.Cut(base, "?"); !ok || base == "" {
		base = "/notes"
	}
	return noteReply(201, data, "location", fmt.Sprintf("%s/%d", strings.TrimSuffix(base, "/"), n.ID))
}

// current reads note id and checks the request's preconditions against
// it: ok is false when the answer is already decided (500, 404, 304, 412).
func current(r *Request, kv *store, id uint64, get bool) (data []byte, rep reply, ok bool) {
	data, err := kv.get(id)
	if err != nil {
		return nil, storeFailed(err), false
	}
	if data == nil {
		return nil, noteNotFound(id), false
	}
	if rep, ok := conditional(r, data, get); !ok {
		return nil, rep, false
	}
	return data, reply{}, true
}

func getNote(r *Request, kv *store, id uint64) reply {
	data, rep, ok := current(r, kv, id, true)
	if !ok {
		return rep
	}
	return noteReply(200, data)
}

// putNote replaces a note. The body is read first, the preconditions are
// checked before it is validated (RFC 9110 section 13.2.1).
func putNote(r *Request, kv *store, id uint64) reply {
	body, rep, ok := readInput(r)
	if !ok {
		return rep
	}
	old, rep, ok := current(r, kv, id, false)
	if !ok {
		return rep
	}
	in, bad := parseInput(body)
	if bad != nil {
		return invalid(bad)
	}
	data, err := kv.replace(id, old, in)
	if err != nil {
		return storeFailed(err)
	}
	return noteReply(200, data)
}

func deleteNote(r *Request, kv *store, id uint64) reply {
	if _, rep, ok := current(r, kv, id, false); !ok {
		return rep
	}
	if err := kv.remove(id); err != nil {
		return storeFailed(err)
	}
	return reply{status: 204}
}

// The cursor is the last id a page covered, base64url-encoded: opaque to
// clients, and still right after notes were created or deleted.
func encodeCursor(id uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(id, 10)))
}

func decodeCursor(c string) (uint64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	id, err := strconv.ParseUint(string(raw), 10, 64)
	return id, err == nil && encodeCursor(id) == c
}

func badParameter(name, message string) reply {
	return jsonReply(400, map[string]string{"error": "invalid-parameter", "field": name, "message": message})
}

func listNotes(kv *store, query string) reply {
	q, err := url.ParseQuery(query)
	if err != nil {
		return errorReply(400, "invalid-parameter", "the query is malformed: "+err.Error())
	}
	limit := 20
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 100 || strconv.Itoa(n) != v[0] {
			return badParameter("limit", fmt.Sprintf("limit must be an integer from 1 to 100, not %q", v[0]))
		}
		limit = n
	}
	var after uint64
	if v, ok := q["cursor"]; ok {
		if after, ok = decodeCursor(v[0]); !ok {
			return badParameter("cursor", fmt.Sprintf("%q is not a cursor this API gave out", v[0]))
		}
	}
	notes, next, more, err := kv.page(after, limit)
	if err != nil {
		return storeFailed(err)
	}
	// {"notes": [...], "next_cursor": ...}, the notes as they are stored.
	body := []byte(`{"notes":[`)
	for i, n := range notes {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, n...)
	}
	body = append(body, `],"next_cursor":`...)
	if more {
		body = strconv.AppendQuote(body, encodeCursor(next))
	} else {
		body = append(body, "null"...)
	}
	return reply{200, []string{"content-type", "application/json"}, append(body, '}')}
}
