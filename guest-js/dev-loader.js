// The engine `fn0 dev` builds once per project WIT: this prelude, and at
// each request the project's current script, which `fn0 dev` bundles on every
// save and hands over in the FN0_DEV_SCRIPT variable (not visible in `env`).
// So an edit needs no componentize and no compile: the script is evaluated
// in the fresh instance of each request.
import { getEnvironment } from 'wasi:cli/environment@0.2.10';
import { serve, setLoader, resetListeners } from './prelude.js';

setLoader(() => {
  let script = '';
  // The function's `env` hides FN0_DEV_*; read it here.
  for (const [k, v] of getEnvironment()) if (k === 'FN0_DEV_SCRIPT') script = v;
  resetListeners();
  globalThis.__fn0_user = undefined;
  (0, eval)(script);
  serve(globalThis.__fn0_user);
});
