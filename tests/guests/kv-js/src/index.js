// kv-js: the test guest kv-rust is, in JavaScript: env.KV (Workers KV's
// methods over wasi:keyvalue) and the batch interface imported directly.
// The same URLs, so tests/integration/test_kv.py runs against both.
import { getMany, setMany, deleteMany } from 'wasi:keyvalue/batch@0.2.0-draft';

const text = (s, status = 200) => new Response(s, { status });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const q = url.searchParams;
    const key = q.get('key') ?? '';
    const keys = (q.get('keys') ?? '').split(',').filter((k) => k);
    const kv = q.has('bucket') ? env.KV.bucket(q.get('bucket')) : env.KV;
    try {
      switch (`${request.method} ${url.pathname}`) {
        case 'GET /get': {
          const v = await kv.get(key, 'arrayBuffer');
          return v === null ? text('no such key', 404) : new Response(v);
        }
        case 'PUT /set':
          await kv.put(key, await request.arrayBuffer());
          return new Response(null, { status: 204 });
        case 'DELETE /delete':
          await kv.delete(key);
          return new Response(null, { status: 204 });
        case 'GET /exists':
          return text(String(kv.open().exists(key)));
        case 'GET /keys': {
          const all = [];
          let cursor;
          for (;;) {
            const page = await kv.list({ cursor });
            all.push(...page.keys.map((k) => k.name));
            if (page.list_complete) break;
            cursor = page.cursor;
          }
          return Response.json(all);
        }
        case 'POST /incr':
          return text(String(await kv.increment(key, Number(q.get('by') ?? 1))));
        case 'POST /set-many':
          setMany(kv.open(), keys.map((k) => [k, new TextEncoder().encode(`value-of-${k}`)]));
          return new Response(null, { status: 204 });
        case 'GET /get-many': {
          const got = getMany(kv.open(), keys);
          const out = {};
          keys.forEach((k, i) => (out[k] = got[i] ? new TextDecoder().decode(got[i][1]) : null));
          return Response.json(out);
        }
        case 'DELETE /delete-many':
          deleteMany(kv.open(), keys);
          return new Response(null, { status: 204 });
        case 'GET /count':
          return text(String(await kv.increment('visits')));
        default:
          return text('not found', 404);
      }
    } catch (e) {
      return Response.json({ error: String(e.message ?? e) }, { status: 500 });
    }
  },
};
