// fn0's JavaScript runtime glue, bundled in front of every JS/TS function by
// `fn0 build` (and into the `fn0 dev` engine). It gives a function the
// Workers-style module interface:
//
//   export default { async fetch(request, env, ctx) { ... } }
//
// with `env` holding the function's environment variables and secrets, its
// key-value bucket as `env.KV` (Workers KV's methods, guest-js/kv.js), and
// `ctx.waitUntil(promise)`, while the fetch-event style
// (`addEventListener('fetch', ...)`) keeps working. It also turns uncaught
// exceptions and rejected promises into one log line naming the project file
// and line (through the bundle's source map) and a 500 that says where to
// look, instead of the engine's bare "no fetch-event handler triggered".
import { getEnvironment } from 'wasi:cli/environment@0.2.10';
import { SourceMap, mapStack } from './sourcemap.js';
import { KvNamespace } from './kv.js';

const realAddEventListener = globalThis.addEventListener.bind(globalThis);
const fetchListeners = [];
let handler = null;  // the module's default export, when it has fetch()
let setupError = null;
let sourceMap = null;
let bundleName = 'bundle.js';
let loader = null;   // fn0 dev: evaluates the current script on each request
const hidden = (name) => name.startsWith('FN0_DEV_');

// Listeners are collected, not registered: one real listener dispatches, so
// a listener added while a request is being handled (fn0 dev evaluates the
// script then) is still called, and its failures are reported.
globalThis.addEventListener = function addEventListener(type, listener, options) {
  if (type === 'fetch') {
    if (typeof listener === 'function' || (listener && typeof listener.handleEvent === 'function'))
      fetchListeners.push(listener);
    return;
  }
  return realAddEventListener(type, listener, options);
};

// Called by the bundle's last line with its own source map.
export function registerSourceMap(map, name, eager) {
  sourceMap = new SourceMap(map);
  bundleName = name;
  if (eager) sourceMap.decode();  // at build time (wizer): free per request
}

globalThis.__fn0_registerSourceMap = registerSourceMap;

export function setLoader(fn) {
  loader = fn;
}

// The user's module namespace: its default export is the handler.
export function serve(mod) {
  handler = null;
  setupError = null;
  const d = mod ? mod.default : undefined;
  if (d && typeof d.fetch === 'function') {
    handler = d;
  } else if (d !== undefined && d !== null && fetchListeners.length === 0) {
    setupError =
      'the default export has no fetch() method: write `export default { async fetch(request, env, ctx) { ... } }`';
  }
}

export function resetListeners() {
  fetchListeners.length = 0;
}

export function readEnv() {
  const env = {};
  for (const [k, v] of getEnvironment()) if (!hidden(k)) env[k] = v;
  // The function's own key-value bucket, unless a variable took the name.
  if (!('KV' in env)) env.KV = new KvNamespace('');
  return env;
}

export function describe(err) {
  let text;
  if (err instanceof Error) {
    const stack = typeof err.stack === 'string' ? mapStack(err.stack, sourceMap, bundleName) : '';
    // fn0's own frames (the glue, the dev engine) are left out.
    const frames = stack.split('\n').filter((l) => l.trim() !== '' && !l.includes('fn0-runtime'));
    const where = frames.length ? frames[0].slice(frames[0].lastIndexOf('@') + 1) : '';
    text = `${err.name}: ${err.message}${where ? ` (at ${where})` : ''}`;
    for (const f of frames) {
      const at = f.lastIndexOf('@');
      text += `\n    at ${at > 0 ? `${f.slice(0, at)} (${f.slice(at + 1)})` : f.slice(at + 1)}`;
    }
  } else {
    let shown;
    try {
      shown = typeof err === 'string' ? JSON.stringify(err) : String(err);
    } catch {
      shown = Object.prototype.toString.call(err);
    }
    text = `${shown} (a thrown value that is not an Error, so it has no stack)`;
  }
  return text;
}

function report(context, err) {
  console.error(`Uncaught ${context}: ${describe(err)}`);
}

function failure(request, reason, message) {
  const id = request && request.headers ? request.headers.get('fn0-request-id') : null;
  const body = { error: reason, message };
  if (id) body.request_id = id;
  return new Response(JSON.stringify(body) + '\n', {
    status: 500,
    headers: { 'content-type': 'application/json' },
  });
}

function exceptionResponse(request) {
  return failure(request, 'uncaught-exception',
    'the function threw an exception; the error and its stack are in the function\'s logs (fn0 logs)');
}

// A handler's result -> a Response, its failures reported.
async function settle(request, value, what) {
  let res;
  try {
    res = await value;
  } catch (err) {
    report(`exception in ${what}`, err);
    return exceptionResponse(request);
  }
  if (!(res instanceof Response)) {
    const got = res === undefined ? 'undefined' : res === null ? 'null' : typeof res === 'object' ? `a ${res.constructor ? res.constructor.name : 'object'}` : `a ${typeof res}`;
    console.error(`${what} returned ${got}, not a Response: return new Response(body, { status, headers })`);
    return failure(request, 'invalid-response', `${what} did not return a Response (see the function's logs)`);
  }
  return res;
}

function guarded(promise, what) {
  return Promise.resolve(promise).catch((err) => report(`rejection in ${what}`, err));
}

function dispatch(event) {
  const request = event.request;
  let env;
  try {
    env = readEnv();
    if (loader) loader(env);
  } catch (err) {
    report('exception while loading the script', err);
    event.respondWith(exceptionResponse(request));
    return;
  }
  if (handler) {
    const ctx = {
      waitUntil: (p) => event.waitUntil(guarded(p, 'ctx.waitUntil()')),
      passThroughOnException: () => {},
    };
    let result;
    try {
      result = handler.fetch(request, env, ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    event.respondWith(settle(request, result, 'fetch()'));
    return;
  }
  if (fetchListeners.length === 0) {
    const why = setupError ||
      'no handler: write `export default { async fetch(request, env, ctx) { ... } }` (or add a fetch event listener)';
    console.error(`fn0: ${why}`);
    event.respondWith(failure(request, 'no-handler', why));
    return;
  }
  // The fetch-event style: the listener gets the event with respondWith and
  // waitUntil that report what fails.
  let responded = false;
  const realRespondWith = event.respondWith.bind(event);
  const realWaitUntil = event.waitUntil.bind(event);
  const wrapped = Object.create(event, {
    request: { value: request, enumerable: true },
    respondWith: {
      value: (r) => {
        responded = true;
        realRespondWith(settle(request, r, 'the response given to respondWith()'));
      },
    },
    waitUntil: { value: (p) => realWaitUntil(guarded(p, 'event.waitUntil()')) },
  });
  for (const listener of fetchListeners) {
    try {
      if (typeof listener === 'function') listener.call(globalThis, wrapped);
      else listener.handleEvent(wrapped);
    } catch (err) {
      report('exception in the fetch event listener', err);
      if (!responded) {
        responded = true;
        realRespondWith(exceptionResponse(request));
      }
    }
    if (responded) return;
  }
  console.error('fn0: the fetch event listener returned without calling event.respondWith()');
  realRespondWith(failure(request, 'no-response', 'the fetch event listener did not call event.respondWith()'));
}

realAddEventListener('fetch', dispatch);
