// `env.KV`: the function's key-value bucket with the Workers KV methods
// (get with a type, put, delete, list with a prefix and a cursor), over the
// standard wasi:keyvalue@0.2.0-draft imports the node provides (docs/kv.md).
// Plus `increment(key, delta)`, which is atomic (Workers KV has none), and
// `bucket(name)` for a shared bucket.
// The calls are synchronous underneath; the methods return promises, as
// Workers' do, so the same code runs on both.
import { open } from 'wasi:keyvalue/store@0.2.0-draft';
import { increment } from 'wasi:keyvalue/atomics@0.2.0-draft';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A store error arrives as an exception whose payload is the WIT variant.
function rethrow(err, what) {
  const p = err && err.payload;
  if (p && p.tag === 'other') throw new Error(`${what}: ${p.val}`);
  if (p && p.tag) throw new Error(`${what}: ${p.tag}`);
  throw err;
}

async function bytesOf(value) {
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value && typeof value.getReader === 'function') return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError('KV put() takes a string, an ArrayBuffer, a typed array or a ReadableStream');
}

export class KvNamespace {
  constructor(identifier) {
    this.identifier = identifier;
    this.handle = null;
  }

  open() {
    if (!this.handle) {
      try {
        this.handle = open(this.identifier);
      } catch (e) {
        rethrow(e, `KV open(${JSON.stringify(this.identifier)})`);
      }
    }
    return this.handle;
  }

  // type: "text" (default), "json", "arrayBuffer" or "stream"; null when missing.
  async get(key, options) {
    const type = typeof options === 'string' ? options : (options && options.type) || 'text';
    let value;
    try {
      value = this.open().get(String(key));
    } catch (e) {
      rethrow(e, 'KV get');
    }
    if (value === undefined || value === null) return null;
    if (type === 'text') return decoder.decode(value);
    if (type === 'json') return JSON.parse(decoder.decode(value));
    if (type === 'arrayBuffer') return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
    if (type === 'stream') return new Response(value).body;
    throw new TypeError(`KV get(): unknown type "${type}"`);
  }

  async put(key, value) {
    const bytes = await bytesOf(value);
    try {
      this.open().set(String(key), bytes);
    } catch (e) {
      rethrow(e, 'KV put');
    }
  }

  async delete(key) {
    try {
      this.open().delete(String(key));
    } catch (e) {
      rethrow(e, 'KV delete');
    }
  }

  // { keys: [{ name }], list_complete, cursor }, keys in the order they were
  // first written, at most `limit` (default 1000), only those with `prefix`.
  // The cursor is the store's page cursor and how much of that page was read.
  async list(options = {}) {
    const prefix = options.prefix || '';
    const limit = Math.max(1, Math.min(options.limit || 1000, 1000));
    let [page, skip] = parseCursor(options.cursor);
    const keys = [];
    for (;;) {
      let got;
      try {
        got = this.open().listKeys(page);
      } catch (e) {
        rethrow(e, 'KV list');
      }
      for (let i = skip; i < got.keys.length; i++) {
        if (got.keys[i].startsWith(prefix)) keys.push({ name: got.keys[i] });
        if (keys.length === limit) {
          const next = i + 1 < got.keys.length ? [page, i + 1] : got.cursor !== undefined ? [got.cursor, 0] : null;
          return next ? { keys, list_complete: false, cursor: `${next[0] ?? ''}.${next[1]}` } : { keys, list_complete: true };
        }
      }
      if (got.cursor === undefined) return { keys, list_complete: true };
      page = got.cursor;
      skip = 0;
    }
  }

  // A shared bucket the function's settings grant (kv_buckets), with the
  // same methods: env.KV.bucket('sessions').
  bucket(name) {
    return new KvNamespace(String(name));
  }

  // Adds `delta` (default 1) to the number stored under `key`; returns the sum.
  async increment(key, delta = 1) {
    try {
      return Number(increment(this.open(), String(key), BigInt(delta)));
    } catch (e) {
      rethrow(e, 'KV increment');
    }
  }
}

function parseCursor(cursor) {
  if (!cursor) return [undefined, 0];
  const [page, skip] = String(cursor).split('.');
  return [page ? BigInt(page) : undefined, Number(skip) || 0];
}
