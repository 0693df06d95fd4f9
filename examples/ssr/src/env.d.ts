// What this function uses of fn0's JS environment (docs/javascript.md,
// docs/kv.md): its variables and env.KV, its key-value bucket.
interface KVNamespace {
  get(key: string, type: 'json'): Promise<unknown>;
  put(key: string, value: string): Promise<void>;
  list(options?: { prefix?: string; limit?: number; cursor?: string }): Promise<{
    keys: { name: string }[];
    list_complete: boolean;
    cursor?: string;
  }>;
  increment(key: string, delta?: number): Promise<number>;
}

interface Env {
  SITE_TITLE?: string;
  KV: KVNamespace;
}

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}
