// The notes in the function's key-value bucket (wasi:keyvalue@0.2.0-draft):
//
//	last-id              the last id handed out (atomics.increment), decimal
//	note/0000000042      note 42, as the JSON its GET answers with
//
// Ids only grow and a deleted id is never reused, so a page of the list is
// "the notes with ids above the cursor", read by id with batch.get-many: it
// does not depend on the order or the cursor of the host's list-keys (fn0
// lists keys in the order they were first written, wasmtime serve in hash
// order), and notes created or deleted meanwhile never make a page repeat or
// skip another note. The zero padding keeps `fn0 kv rest-api list` (key
// order) in id order.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"wit/imports/wasi_keyvalue_atomics"
	"wit/imports/wasi_keyvalue_batch"
	"wit/imports/wasi_keyvalue_store"
)

// Note is a stored note, and its JSON.
type Note struct {
	ID        uint64   `json:"id"`
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

const lastIDKey = "last-id"

func noteKey(id uint64) string { return fmt.Sprintf("note/%010d", id) }

// now is the wall clock in RFC 3339, to the millisecond.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// ---- validation ------------------------------------------------------------

// fieldError says which field of a request body is wrong.
type fieldError struct{ field, message string }

// input is what a POST or PUT body may set.
type input struct {
	title, body string
	tags        []string
}

// readOnly fields may come back in a PUT of a note that was read; they are ignored.
var readOnly = map[string]bool{"id": true, "created_at": true, "updated_at": true}

// parseInput checks a POST or PUT body: {"title": 1..200 characters,
// "body": at most 10,000, "tags": at most 10 of 1..32}; null is the same as
// leaving a field out. The error's field is "" when the body is no JSON
// object at all.
func parseInput(data []byte) (input, *fieldError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		msg := "the body must be a JSON object"
		if errors.As(err, new(*json.SyntaxError)) {
			msg = "the body is not valid JSON: " + err.Error()
		}
		return input{}, &fieldError{"", msg}
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if name != "title" && name != "body" && name != "tags" && !readOnly[name] {
			return input{}, &fieldError{name, fmt.Sprintf("unknown field %q (a note has title, body and tags)", name)}
		}
	}
	// decode reads the field into dst; false when it is absent or null.
	decode := func(name string, dst any) (bool, error) {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			return false, nil
		}
		return true, json.Unmarshal(raw, dst)
	}
	var in input
	if ok, err := decode("title", &in.title); !ok {
		return in, &fieldError{"title", "title is required"}
	} else if err != nil {
		return in, &fieldError{"title", "title must be a string"}
	}
	if _, err := decode("body", &in.body); err != nil {
		return in, &fieldError{"body", "body must be a string"}
	}
	if _, err := decode("tags", &in.tags); err != nil {
		return in, &fieldError{"tags", "tags must be an array of strings"}
	}
	if n := utf8.RuneCountInString(in.title); n < 1 || n > 200 {
		return in, &fieldError{"title", fmt.Sprintf("title must be 1 to 200 characters, not %d", n)}
	}
	if n := utf8.RuneCountInString(in.body); n > 10000 {
		return in, &fieldError{"body", fmt.Sprintf("body must be at most 10000 characters, not %d", n)}
	}
	if len(in.tags) > 10 {
		return in, &fieldError{"tags", fmt.Sprintf("at most 10 tags, not %d", len(in.tags))}
	}
	for i, tag := range in.tags {
		if n := utf8.RuneCountInString(tag); n < 1 || n > 32 {
			return in, &fieldError{"tags", fmt.Sprintf("tags[%d] must be 1 to 32 characters, not %d", i, n)}
		}
	}
	if in.tags == nil {
		in.tags = []string{}
	}
	return in, nil
}

// ---- the store -------------------------------------------------------------

// store is the function's bucket, opened on first use and closed by close.
type store struct{ bucket *wasi_keyvalue_store.Bucket }

// kvError turns a wasi:keyvalue error into an error naming the operation;
// fn0's text is "<code>: <message>" (docs/kv.md).
func kvError(op string, e wasi_keyvalue_store.Error) error {
	switch e.Tag() {
	case wasi_keyvalue_store.Error_NoSuchStore:
		return fmt.Errorf("%s: no-such-store", op)
	case wasi_keyvalue_store.Error_AccessDenied:
		return fmt.Errorf("%s: access-denied", op)
	}
	return fmt.Errorf("%s: %s", op, e.Other())
}

func (s *store) open() (*wasi_keyvalue_store.Bucket, error) {
	if s.bucket == nil {
		// "" is the function's own bucket on fn0 (as "default" is), and the
		// only name the in-memory store of `wasmtime serve -S keyvalue` knows.
		opened := wasi_keyvalue_store.Open("")
		if opened.IsErr() {
			return nil, kvError("open", opened.Err())
		}
		s.bucket = opened.Ok()
	}
	return s.bucket, nil
}

func (s *store) close() {
	if s.bucket != nil {
		s.bucket.Drop()
	}
}

// get reads note id's stored JSON; nil when there is no such note.
func (s *store) get(id uint64) ([]byte, error) {
	b, err := s.open()
	if err != nil {
		return nil, err
	}
	got := b.Get(noteKey(id))
	if got.IsErr() {
		return nil, kvError("get "+noteKey(id), got.Err())
	}
	return got.Ok().SomeOr(nil), nil
}

// put writes note n and returns the JSON it stored.
func (s *store) put(n Note) ([]byte, error) {
	data, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	b, err := s.open()
	if err != nil {
		return nil, err
	}
	if set := b.Set(noteKey(n.ID), data); set.IsErr() {
		return nil, kvError("set "+noteKey(n.ID), set.Err())
	}
	return data, nil
}

// create stores a new note with the next id.
func (s *store) create(in input) ([]byte, Note, error) {
	b, err := s.open()
	if err != nil {
		return nil, Note{}, err
	}
	id := wasi_keyvalue_atomics.Increment(b, lastIDKey, 1)
	if id.IsErr() {
		return nil, Note{}, kvError("increment "+lastIDKey, id.Err())
	}
	t := now()
	n := Note{ID: id.Ok(), Title: in.title, Body: in.body, Tags: in.tags, CreatedAt: t, UpdatedAt: t}
	data, err := s.put(n)
	return data, n, err
}

// replace overwrites note old (its stored JSON) with in, keeping its id and
// creation time.
func (s *store) replace(id uint64, old []byte, in input) ([]byte, error) {
	var n Note
	if err := json.Unmarshal(old, &n); err != nil {
		return nil, fmt.Errorf("%s holds no note: %v", noteKey(id), err)
	}
	n = Note{ID: id, Title: in.title, Body: in.body, Tags: in.tags, CreatedAt: n.CreatedAt, UpdatedAt: now()}
	return s.put(n)
}

func (s *store) remove(id uint64) error {
	b, err := s.open()
	if err != nil {
		return err
	}
	if del := b.Delete(noteKey(id)); del.IsErr() {
		return kvError("delete "+noteKey(id), del.Err())
	}
	return nil
}

// lastID is the highest id handed out so far (0: none yet).
func (s *store) lastID() (uint64, error) {
	b, err := s.open()
	if err != nil {
		return 0, err
	}
	got := b.Get(lastIDKey)
	if got.IsErr() {
		return 0, kvError("get "+lastIDKey, got.Err())
	}
	v := got.Ok()
	if v.IsNone() {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(v.Some()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s holds %q, not a number", lastIDKey, v.Some())
	}
	return n, nil
}

// A page stops after the note that takes it past maxPageBytes, and reads
// its notes in batches small enough never to fetch much more than that
// (maxNoteBytes: the most one stored note can take, every character
// escaped): the CPU of a page stays within a few ms however big the notes.
const (
	maxPageBytes = 1 << 20
	maxNoteBytes = 64 << 10
)

// page reads up to limit notes with ids above after, in id order. more is
// true when notes may follow; next is then the cursor to go on from (the
// last id the page covers). A page probes at most 4 * (limit + 1) ids, so
// after many deletions it can be short, even empty, with more = true: the
// store operations of one request stay bounded (kv_max_operations).
func (s *store) page(after uint64, limit int) (notes [][]byte, next uint64, more bool, err error) {
	last, err := s.lastID()
	if err != nil || after >= last {
		return nil, 0, false, err
	}
	b, _ := s.open()
	var ids []uint64
	probed, budget, size := after, uint64(4*(limit+1)), 0
	for probed < last && len(notes) <= limit && budget > 0 && size < maxPageBytes {
		n := min(uint64(limit+1-len(notes)), last-probed, budget, uint64(max(1, (maxPageBytes-size)/maxNoteBytes)))
		keys := make([]string, n)
		for i := range keys {
			keys[i] = noteKey(probed + 1 + uint64(i))
		}
		got := wasi_keyvalue_batch.GetMany(b, keys)
		if got.IsErr() {
			return nil, 0, false, kvError(fmt.Sprintf("get-many %s..%s", keys[0], keys[n-1]), got.Err())
		}
		for i, entry := range got.Ok() {
			if entry.IsSome() {
				notes = append(notes, entry.Some().F1)
				ids = append(ids, probed+1+uint64(i))
				size += len(entry.Some().F1)
			}
		}
		probed += n
		budget -= n
	}
	// Keep up to limit notes, up to the one that goes past maxPageBytes.
	keep, bytes := 0, 0
	for keep < len(notes) && keep < limit && bytes < maxPageBytes {
		bytes += len(notes[keep])
		keep++
	}
	if keep < len(notes) {
		return notes[:keep], ids[keep-1], true, nil
	}
	return notes, probed, probed < last, nil
}
