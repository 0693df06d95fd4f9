// Source positions for stack traces: `fn0 build` bundles a project into one
// file, so the engine reports bundle lines; this maps them back to the
// project's files with the bundle's source map (registered by the bundle
// itself, see prelude.js `sourceMap`). Only the `mappings` and `sources` of a
// standard version-3 map are used.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) DIGIT[B64.charCodeAt(i)] = i;

// One array per generated line: [column, source, line, column] * n, by column.
export function decodeMappings(mappings) {
  const lines = [];
  let src = 0, line = 0, col = 0;
  let current = [];
  let value = 0, shift = 0, fields = [];
  let genCol = 0;
  const flush = () => {
    if (fields.length >= 4) {
      genCol += fields[0];
      src += fields[1];
      line += fields[2];
      col += fields[3];
      current.push(genCol, src, line, col);
    } else if (fields.length >= 1) {
      genCol += fields[0];
    }
    fields = [];
  };
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === 59 /* ; */) {
      flush();
      lines.push(current);
      current = [];
      genCol = 0;
      continue;
    }
    if (c === 44 /* , */) {
      flush();
      continue;
    }
    const d = c < 128 ? DIGIT[c] : -1;
    if (d < 0) return lines;  // not a valid map: keep what was read
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
    } else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  flush();
  lines.push(current);
  return lines;
}

export class SourceMap {
  constructor(map) {
    this.sources = map.sources || [];
    this.raw = map.mappings || '';
    this.lines = null;
  }
  decode() {
    if (!this.lines) this.lines = decodeMappings(this.raw);
    return this;
  }
  // 1-based line and column in the bundle -> "file:line:column" or null.
  lookup(line, column) {
    const segs = this.decode().lines[line - 1];
    if (!segs || segs.length === 0) return null;
    let best = -1;
    for (let i = 0; i < segs.length; i += 4) {
      if (segs[i] <= column - 1) best = i;
      else break;
    }
    if (best < 0) best = 0;
    const file = this.sources[segs[best + 1]];
    if (file === undefined) return null;
    return `${file}:${segs[best + 2] + 1}:${segs[best + 3] + 1}`;
  }
}

// Rewrites every "file:line:column" of `bundleName` in a stack (SpiderMonkey
// prints frames as "name@file:line:column").
export function mapStack(stack, map, bundleName) {
  if (!map || typeof stack !== 'string') return stack;
  const pattern = new RegExp(`(?:[^\\s@(]*/)?${bundleName.replace(/[.]/g, '\\.')}(?: line \\d+ > eval)?:(\\d+):(\\d+)`, 'g');
  return stack.replace(pattern, (whole, l, c) => map.lookup(Number(l), Number(c)) || whole);
}
