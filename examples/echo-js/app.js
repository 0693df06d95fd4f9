// Echo in JavaScript: the request's body streams back unchanged; its method,
// path, query and headers come back in x-echo-* response headers (headers as
// a JSON list of [name, value] pairs, in the order received).
addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  const headers = [...req.headers.entries()];
  event.respondWith(
    new Response(req.body, {
      headers: {
        'content-type': req.headers.get('content-type') ?? 'application/octet-stream',
        'x-echo-method': req.method,
        'x-echo-path': url.pathname,
        'x-echo-query': url.search.replace(/^\?/, ''),
        'x-echo-headers': JSON.stringify(headers),
      },
    }),
  );
});
