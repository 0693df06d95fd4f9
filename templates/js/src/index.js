// {{name}}: an fn0 function. Every request runs `fetch` in a fresh sandbox.
// `env` holds the function's variables and secrets: [vars] in fn0.toml,
// `fn0 env` / `fn0 secret`, and .dev.vars under `fn0 dev`; `env.KV` is its
// key-value bucket (Workers KV's get/put/delete/list, plus increment).
// console.log lines show up in `fn0 logs {{name}}` (and in `fn0 dev`).
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    console.log(`${request.method} ${url.pathname}`);
    if (url.pathname === '/count') {
      // A counter kept in the function's key-value bucket (`fn0 kv {{name}} get visits`).
      return Response.json({ visits: await env.KV.increment('visits') });
    }
    return new Response(`${env.GREETING ?? 'Hello'} from {{name}}!\n`, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  },
};
