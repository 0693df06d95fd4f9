// {{name}}: an fn0 function. Every request runs this handler in a fresh
// sandbox. Return a Response; console.log lines show up in `fn0 logs {{name}}`.
addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  console.log(`${event.request.method} ${url.pathname}`);
  event.respondWith(
    new Response(`Hello from {{name}}!\n`, {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    }),
  );
});
