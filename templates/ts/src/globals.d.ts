// What fn0 gives a TypeScript function besides the web platform's
// Request/Response/fetch (StarlingMonkey, through componentize-js).

// The third argument of fetch(): work that may go on after the response.
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

// The Workers-style module: `export default { fetch(request, env, ctx) }`.
interface ExportedHandler<Env = Record<string, string>> {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

// The fetch-event style, which keeps working.
interface FetchEvent extends Event {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
  waitUntil(promise: Promise<unknown>): void;
}
declare function addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
