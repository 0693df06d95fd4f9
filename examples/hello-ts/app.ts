// A typed JSON endpoint in TypeScript: bundled by esbuild, then built into a
// component by componentize-js. Answers with a greeting and what was asked.

interface Greeting {
  greeting: string;
  method: string;
  path: string;
  name: string | null;
}

function greet(request: Request): Greeting {
  const url = new URL(request.url);
  const name = url.searchParams.get('name');
  return {
    greeting: `Hello, ${name ?? 'world'}, from fn0 (TypeScript)!`,
    method: request.method,
    path: url.pathname,
    name,
  };
}

addEventListener('fetch', (event: FetchEvent) => {
  event.respondWith(
    new Response(JSON.stringify(greet(event.request)) + '\n', {
      headers: { 'content-type': 'application/json' },
    }),
  );
});
