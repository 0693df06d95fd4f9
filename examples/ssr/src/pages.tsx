// The pages, as Preact components rendered to HTML on the server.
import type { ComponentChildren } from 'preact';
import type { Post } from './posts';

// `base` is where the function is mounted: "" on its own host name,
// "/ssr" when the node routes by path. Links are made absolute with it.
export interface Site {
  title: string;
  base: string;
}

const STYLE = `
body { font: 17px/1.55 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header a { color: inherit; text-decoration: none; font-weight: 700; }
article, li { margin: 1.5rem 0; }
.meta { color: #666; font-size: 0.9rem; }
footer { margin-top: 3rem; color: #888; font-size: 0.85rem; }
`;

function Layout({ site, title, children }: { site: Site; title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title === site.title ? title : `${title} \u2014 ${site.title}`}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <a href={`${site.base}/`}>{site.title}</a>
        </header>
        <main>{children}</main>
        <footer>Rendered by Preact in an fn0 function.</footer>
      </body>
    </html>
  );
}

function Meta({ post }: { post: Post }) {
  return (
    <p class="meta">
      <time datetime={post.date}>{post.date}</time> by {post.author}
    </p>
  );
}

export function ListPage({ site, posts }: { site: Site; posts: Post[] }) {
  return (
    <Layout site={site} title={site.title}>
      <h1>{site.title}</h1>
      {posts.length === 0 ? (
        <p>No posts yet.</p>
      ) : (
        <ul class="posts">
          {posts.map((p) => (
            <li key={p.slug}>
              <a href={`${site.base}/posts/${p.slug}`}>{p.title}</a>
              <Meta post={p} />
              {p.body.length > 0 && <p>{p.body[0]}</p>}
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function PostPage({ site, post }: { site: Site; post: Post }) {
  return (
    <Layout site={site} title={post.title}>
      <article>
        <h1>{post.title}</h1>
        <Meta post={post} />
        {post.body.map((text, i) => (
          <p key={i}>{text}</p>
        ))}
      </article>
      <p>
        <a href={`${site.base}/`}>All posts</a>
      </p>
    </Layout>
  );
}

export function NotFoundPage({ site, path }: { site: Site; path: string }) {
  return (
    <Layout site={site} title="Not found">
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href={`${site.base}/`}>All posts</a>
      </p>
    </Layout>
  );
}
