// {{name}}: an fn0 function in TypeScript (esbuild bundles it, then it is
// built into a component). Every request runs `fetch` in a fresh sandbox;
// `env` holds the function's variables and secrets ([vars] in fn0.toml,
// `fn0 env` / `fn0 secret`, .dev.vars under `fn0 dev`) and `env.KV`, its
// key-value bucket. console.log lines show up in `fn0 logs {{name}}`.
interface Env {
  GREETING?: string;
  KV: KVNamespace;
}

interface Reply {
  message: string;
  path: string;
}

function reply(request: Request, env: Env): Reply {
  const url = new URL(request.url);
  return { message: `${env.GREETING ?? 'Hello'} from {{name}}!`, path: url.pathname };
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    console.log(`${request.method} ${request.url}`);
    if (new URL(request.url).pathname === '/count') {
      // A counter kept in the key-value bucket (`fn0 kv {{name}} get visits`).
      return Response.json({ visits: await env.KV.increment('visits') });
    }
    return Response.json(reply(request, env));
  },
} satisfies ExportedHandler<Env>;
