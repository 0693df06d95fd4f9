// ssr: server-side rendered pages (Preact + preact-render-to-string, bundled
// by esbuild) with their data in the function's key-value bucket.
//   GET /              the list of posts, newest first
//   GET /posts/<slug>  one post
//   anything else      a 404 page; methods other than GET and HEAD get 405
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { ListPage, NotFoundPage, PostPage, type Site } from './pages';
import { allPosts, getPost } from './posts';

// Browsers and proxies may keep a page this long (seconds); a 404 briefly.
const PAGE_MAX_AGE = 30;
const NOT_FOUND_MAX_AGE = 10;

// The path the function is mounted at: the client's path minus the one the
// function sees (fn0 passes the client's in fn0-original-path).
function mountPoint(request: Request, path: string): string {
  const original = request.headers.get('fn0-original-path');
  if (!original) return '';
  const clientPath = original.split('?')[0];
  const mount = clientPath.endsWith(path) ? clientPath.slice(0, clientPath.length - path.length) : '';
  return mount.replace(/\/+$/, '');
}

// FNV-1a over the page's UTF-16 code units: a strong validator of this page.
function etagOf(html: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < html.length; i++) {
    h ^= html.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `"${(h >>> 0).toString(16).padStart(8, '0')}-${html.length.toString(16)}"`;
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null; // a malformed %-escape: no such post
  }
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function page(request: Request, status: number, node: VNode, maxAge: number): Response {
  const html = '<!doctype html>' + renderToString(node);
  const etag = etagOf(html);
  const headers = new Headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': `public, max-age=${maxAge}`,
    etag,
  });
  if (status === 200 && matches(request.headers.get('if-none-match'), etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === 'HEAD' ? null : html, { status, headers });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    console.log(`${request.method} ${path}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response(`${request.method} is not allowed here\n`, {
        status: 405,
        headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' },
      });
    }
    const site: Site = { title: env.SITE_TITLE || 'fn0 journal', base: mountPoint(request, path) };
    if (path === '/') {
      return page(request, 200, <ListPage site={site} posts={await allPosts(env.KV)} />, PAGE_MAX_AGE);
    }
    const m = /^\/posts\/([^/]+)\/?$/.exec(path);
    const slug = m ? safeDecode(m[1]) : null;
    const post = slug ? await getPost(env.KV, slug) : null;
    if (post) return page(request, 200, <PostPage site={site} post={post} />, PAGE_MAX_AGE);
    return page(request, 404, <NotFoundPage site={site} path={path} />, NOT_FOUND_MAX_AGE);
  },
};
