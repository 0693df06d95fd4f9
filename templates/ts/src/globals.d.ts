// What fn0 gives a TypeScript function besides the web platform's
// Request/Response/fetch (StarlingMonkey, through componentize-js).

// The third argument of fetch(): work that may go on after the response.
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

// env.KV: the function's key-value bucket (docs/kv.md), with Workers KV's
// methods and an atomic increment.
interface KVNamespace {
  get(key: string, type?: 'text'): Promise<string | null>;
  get(key: string, type: 'json'): Promise<unknown>;
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  get(key: string, type: 'stream'): Promise<ReadableStream | null>;
  get(key: string, options: { type: 'text' | 'json' | 'arrayBuffer' | 'stream' }): Promise<unknown>;
  put(key: string, value: string | ArrayBuffer | ArrayBufferView | ReadableStream): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string; limit?: number; cursor?: string }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
  increment(key: string, delta?: number): Promise<number>;
  bucket(name: string): KVNamespace;
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
