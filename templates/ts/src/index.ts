// {{name}}: an fn0 function in TypeScript (bundled by esbuild, then built into
// a component). console.log lines show up in `fn0 logs {{name}}`.
interface Reply {
  message: string;
  path: string;
}

function reply(request: Request): Reply {
  const url = new URL(request.url);
  return { message: 'Hello from {{name}}!', path: url.pathname };
}

addEventListener('fetch', (event: FetchEvent) => {
  console.log(`${event.request.method} ${event.request.url}`);
  event.respondWith(
    new Response(JSON.stringify(reply(event.request)) + '\n', {
      headers: { 'content-type': 'application/json' },
    }),
  );
});
