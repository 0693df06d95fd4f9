// Loaded with NODE_OPTIONS=--import=... when running componentize-js:
// preview2-shim >= 0.26 starts Node's WASI with no preopened directories, so
// componentize could not read the WIT folder. Preopen the root.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
_setPreopens({ '/': '/' });
