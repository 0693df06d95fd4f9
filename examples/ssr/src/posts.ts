// The posts, one JSON value per post in the function's key-value bucket:
// `post/<slug>` -> { title, author, date, body }. `fn0 kv ssr set
// post/<slug> --file post.json` adds or changes one.

export interface Post {
  slug: string;
  title: string;
  author: string;
  date: string; // YYYY-MM-DD
  body: string[]; // paragraphs
}

const PREFIX = 'post/';
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function validSlug(slug: string): boolean {
  return slug.length <= 100 && SLUG.test(slug);
}

// A stored value as a Post, or null when it is not one (a value written by
// hand that lacks a field is skipped, not a 500).
function asPost(slug: string, v: unknown): Post | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.title !== 'string' || typeof o.date !== 'string') return null;
  const body = Array.isArray(o.body) ? o.body.filter((p): p is string => typeof p === 'string') : [];
  const author = typeof o.author === 'string' ? o.author : 'anonymous';
  return { slug, title: o.title, author, date: o.date, body };
}

async function read(kv: KVNamespace, slug: string): Promise<Post | null> {
  let v: unknown;
  try {
    v = await kv.get(PREFIX + slug, 'json');
  } catch (e) {
    if (e instanceof SyntaxError) return null; // not JSON
    throw e;
  }
  return asPost(slug, v);
}

export async function getPost(kv: KVNamespace, slug: string): Promise<Post | null> {
  await seedOnce(kv);
  return validSlug(slug) ? read(kv, slug) : null;
}

// Every post, newest first.
export async function allPosts(kv: KVNamespace): Promise<Post[]> {
  await seedOnce(kv);
  const slugs: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: PREFIX, cursor });
    for (const k of page.keys) slugs.push(k.name.slice(PREFIX.length));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  const posts = await Promise.all(slugs.filter(validSlug).map((s) => read(kv, s)));
  return posts
    .filter((p): p is Post => p !== null)
    .sort((a, b) => (a.date === b.date ? a.title.localeCompare(b.title) : a.date < b.date ? 1 : -1));
}

// The first request to a new bucket writes the sample posts. The increment
// is atomic, so of several first requests exactly one writes them, and
// deleting every post later does not bring them back.
async function seedOnce(kv: KVNamespace): Promise<void> {
  if ((await kv.get('meta/seeded', 'json')) !== null) return; // a read: no write per page view
  if ((await kv.increment('meta/seeded', 1)) !== 1) return;
  for (const p of SAMPLES) {
    const { slug, ...value } = p;
    await kv.put(PREFIX + slug, JSON.stringify(value));
  }
}

const SAMPLES: Post[] = [
  {
    slug: 'hello-fn0',
    title: 'Hello from fn0',
    author: 'The fn0 team',
    date: '2026-11-02',
    body: [
      'This page was rendered on the server by Preact, inside a WebAssembly sandbox that lived for one request.',
      'Its text comes from the function\u2019s key-value bucket: fn0 kv ssr list shows the keys.',
    ],
  },
  {
    slug: 'state-in-a-stateless-world',
    title: 'State in a stateless world',
    author: 'The fn0 team',
    date: '2026-11-20',
    body: [
      'Every request gets a fresh instance, so nothing survives in memory. The key-value store is where a function keeps what it must remember.',
      'Writes are durable when the call returns, on SQLite for one node and on PostgreSQL for a cluster.',
    ],
  },
  {
    slug: 'write-your-own-post',
    title: 'Write your own post',
    author: 'You',
    date: '2026-11-28',
    body: [
      'Save {"title": "My post", "author": "me", "date": "2026-12-01", "body": ["First paragraph."]} as post.json, then run fn0 kv ssr set post/my-post --file post.json.',
      'The list page shows it on the next request; pages are cached for 30 seconds by browsers and proxies.',
    ],
  },
];
