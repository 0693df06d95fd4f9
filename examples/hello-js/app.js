// The smallest fn0 function in JavaScript: answers every request with a
// greeting. Built into a component by componentize-js (see examples/README.md).
addEventListener('fetch', (event) => {
  event.respondWith(
    new Response('Hello from fn0 (JavaScript)!\n', {
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    }),
  );
});
