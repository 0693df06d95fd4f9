// Function, env var and secret names: the same rules the node and the CLI
// apply, checked before a request so a form can say what is wrong at once.

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const FUNCTION_NAME_RULE =
  'lowercase letters, digits and hyphens, at most 63 characters, not starting or ending with a hyphen';

export function isFunctionName(s) {
  return DNS_LABEL.test(s);
}

// What the CLI makes of a file name (src/cli/input.cc normalizeName):
// "Hello_World" -> "hello-world".
export function normalizeName(s) {
  let out = '';
  for (const c of s) {
    if (/^[A-Za-z0-9]$/.test(c)) out += c.toLowerCase();
    else if (out && !out.endsWith('-')) out += '-';
  }
  return out.slice(0, 63).replace(/-+$/, '');
}

// "Hello_World.wasm" -> "hello-world".
export function nameFromFile(fileName) {
  return normalizeName(fileName.replace(/\.wasm$/i, ''));
}

// Why `s` is not a function name, or null when it is one.
export function functionNameProblem(s) {
  if (!s) return 'Give the function a name.';
  if (isFunctionName(s)) return null;
  const n = normalizeName(s);
  return `Use ${FUNCTION_NAME_RULE}${n ? ` (for example "${n}")` : ''}.`;
}

// Why `s` is not an env var or secret name, or null.
export function varNameProblem(s) {
  if (!s) return 'Give it a name.';
  if (new TextEncoder().encode(s).length > 256) return 'At most 256 bytes.';
  if (!VAR_NAME.test(s)) return 'Letters, digits and _, not starting with a digit.';
  return null;
}
