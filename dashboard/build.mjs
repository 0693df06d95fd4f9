#!/usr/bin/env node
// Builds the dashboard into DIR: DIR/index.html and DIR/assets/* with content
// hashes in their names, for the fn0 binary to embed and serve under /_fn0/.
//
//   node dashboard/build.mjs --out DIR
//
// The output is deterministic (same sources and packages -> same bytes), so
// an unchanged dashboard does not relink fn0. index.html carries no inline
// script or style and no external URL: the node's Content-Security-Policy
// (docs/dashboard.md) allows only 'self'.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Where the node serves the files; absolute, so /_fn0 without a slash works too.
const PUBLIC_BASE = '/_fn0/assets/';

function fail(message) {
  process.stderr.write(`dashboard build: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  let out = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && i + 1 < argv.length) out = argv[++i];
    else if (argv[i].startsWith('--out=')) out = argv[i].slice(6);
    else fail(`unknown argument '${argv[i]}' (usage: node dashboard/build.mjs --out DIR)`);
  }
  if (!out) fail('missing --out DIR (usage: node dashboard/build.mjs --out DIR)');
  return { out: resolve(out) };
}

// Only what this script writes is removed, so a mistaken --out cannot wipe
// anything else.
function clean(out) {
  rmSync(join(out, 'assets'), { recursive: true, force: true });
  rmSync(join(out, 'index.html'), { force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
}

function hashName(name, bytes) {
  const h = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const ext = extname(name);
  return `${basename(name, ext)}.${h}${ext}`;
}

function indexHtml({ js, css, icon }) {
  // Everything the page needs comes from /_fn0/assets/; the app renders
  // into #app. The <noscript> text is the only content without JS.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>fn0</title>
<link rel="icon" href="${PUBLIC_BASE}${icon}" type="image/svg+xml">
<link rel="stylesheet" href="${PUBLIC_BASE}${css}">
<script defer src="${PUBLIC_BASE}${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The fn0 dashboard needs JavaScript. The command line (fn0 --help) does everything it does.</noscript>
</body>
</html>
`;
}

async function main() {
  const { out } = parseArgs(process.argv.slice(2));
  const modules = join(here, 'node_modules');
  for (const dep of ['esbuild', 'preact', 'htm', 'uplot']) {
    if (!existsSync(join(modules, dep, 'package.json')))
      fail(`${join(modules, dep)} is missing: run scripts/setup.sh (or npm install in dashboard/)`);
  }
  const esbuild = await import(join(modules, 'esbuild', 'lib', 'main.js'));

  clean(out);
  const written = [];

  // JS and CSS: main.js imports the stylesheets (ours and uPlot's), so
  // esbuild emits app.<hash>.js and app.<hash>.css next to each other.
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: here,
      entryPoints: { app: 'src/main.js' },
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      outdir: join(out, 'assets'),
      entryNames: '[name].[hash]',
      assetNames: '[name].[hash]',
      loader: { '.svg': 'file', '.woff2': 'file' },
      publicPath: PUBLIC_BASE,
      legalComments: 'none',
      charset: 'utf8',
      metafile: true,
      logLevel: 'silent',
      write: true,
    });
  } catch (e) {
    const msgs = (e.errors || []).map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`);
    fail(msgs.length ? msgs.join('\n') : String(e));
  }
  let js = null, css = null;
  for (const file of Object.keys(result.metafile.outputs)) {
    const abs = resolve(here, file);
    written.push(abs);
    if (abs.endsWith('.js')) js = basename(abs);
    else if (abs.endsWith('.css')) css = basename(abs);
  }
  if (!js || !css) fail(`esbuild wrote no ${js ? 'CSS' : 'JS'} bundle`);

  // The favicon is not imported by the code: copied here, hashed the same way.
  const iconSrc = join(here, 'src', 'assets', 'icon.svg');
  const iconBytes = readFileSync(iconSrc);
  const icon = hashName('icon.svg', iconBytes);
  writeFileSync(join(out, 'assets', icon), iconBytes);
  written.push(join(out, 'assets', icon));

  const index = join(out, 'index.html');
  writeFileSync(index, indexHtml({ js, css, icon }));
  written.push(index);

  // Anything else in assets/ would be served although nothing refers to it.
  const expected = new Set(written.map((f) => basename(f)));
  for (const f of readdirSync(join(out, 'assets')))
    if (!expected.has(f)) fail(`unexpected output ${f}`);

  // Paths relative to the working directory when inside it, else absolute.
  for (const f of written.sort()) {
    const rel = relative(process.cwd(), f);
    const shown = rel && !rel.startsWith('..') ? rel : f;
    process.stdout.write(`${shown}  ${readFileSync(f).length} bytes\n`);
  }
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
