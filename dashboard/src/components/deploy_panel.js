// Deploy by upload: a name, a .wasm dropped or picked, upload progress
// (XMLHttpRequest), then the URLs the node answers with.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { uploadVersion } from '../lib/api.js';
import { formatBytes } from '../lib/format.js';
import { functionNameProblem, nameFromFile } from '../lib/names.js';
import { ErrorText } from './ui.js';

const MAX_BYTES = 64 * 1024 * 1024; // the node's component cap

// A component starts "\0asm" then version 0x0d and layer 1; a core module
// has version 1, layer 0. Saying so here saves an upload.
async function fileProblem(file) {
  if (file.size > MAX_BYTES) return `${file.name} is ${formatBytes(file.size)}; a component may be at most 64 MiB.`;
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const magic = head[0] === 0 && head[1] === 0x61 && head[2] === 0x73 && head[3] === 0x6d;
  if (!magic) return `${file.name} is not WebAssembly. Upload a component (.wasm) built for wasi:http/proxy.`;
  if (head[6] === 0 && head[7] === 0)
    return `${file.name} is a core WebAssembly module, not a component. fn0 build (or wasm-tools component new) makes one.`;
  return null;
}

const URL_LABELS = { live: 'Live', live_path: 'Live (path)', version: 'This version', path: 'This version (path)' };

function Urls({ urls }) {
  const entries = Object.entries(urls || {}).sort(
    ([a], [b]) => Object.keys(URL_LABELS).indexOf(a) - Object.keys(URL_LABELS).indexOf(b),
  );
  return html`<dl class="urls">
    ${entries.map(
      ([k, u]) => html`<div class="url-row" key=${k}>
        <dt>${URL_LABELS[k] || k}</dt>
        <dd><a href=${u} target="_blank" rel="noopener noreferrer" class="mono">${u}</a></dd>
      </div>`,
    )}
  </dl>`;
}

export function DeployPanel({ onDeployed, disabled }) {
  const [name, setName] = useState('');
  const [nameTouched, setNameTouched] = useState(false);
  const [file, setFile] = useState(null);
  const [dragging, setDragging] = useState(false);
  const [phase, setPhase] = useState('idle'); // idle | uploading | compiling | done
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState(null);
  const [problem, setProblem] = useState(null);
  const [result, setResult] = useState(null);
  const upload = useRef(null);
  const fileInput = useRef(null);

  const choose = async (f) => {
    if (!f) return;
    setResult(null);
    setError(null);
    setFile(f);
    if (!nameTouched || !name) setName(nameFromFile(f.name));
    setProblem(await fileProblem(f));
  };

  const onDrop = (e) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    choose(f);
  };

  const nameProblem = nameTouched || name ? functionNameProblem(name) : null;
  const busy = phase === 'uploading' || phase === 'compiling';

  const onSubmit = async (e) => {
    e.preventDefault();
    setNameTouched(true);
    if (functionNameProblem(name) || !file || problem) {
      if (!file) setError({ message: 'Choose a .wasm component first.' });
      return;
    }
    setError(null);
    setResult(null);
    setPhase('uploading');
    setProgress(0);
    const up = uploadVersion(name, file, {
      onProgress: (sent, total) => setProgress(total ? Math.round((sent / total) * 100) : 0),
      onUploaded: () => setPhase('compiling'),
    });
    upload.current = up;
    try {
      const r = await up.promise;
      setResult(r);
      setPhase('done');
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
      onDeployed && onDeployed(r);
    } catch (err) {
      setPhase('idle');
      if (err.name !== 'AbortError') setError(err);
    } finally {
      upload.current = null;
    }
  };

  return html`<form class="deploy" onSubmit=${onSubmit} aria-label="Deploy a function" novalidate>
    <div class="deploy-grid">
      <div class="field">
        <label for="deploy-name">Function name</label>
        <input
          id="deploy-name"
          value=${name}
          autocomplete="off"
          spellcheck="false"
          placeholder="hello"
          disabled=${busy || disabled}
          aria-invalid=${nameProblem ? 'true' : undefined}
          aria-describedby="deploy-name-help"
          onInput=${(e) => {
            setName(e.target.value);
            setNameTouched(true);
          }}
        />
        <p id="deploy-name-help" class=${nameProblem ? 'error small' : 'help'}>
          ${nameProblem || 'A new name creates the function; an existing one gets a new version.'}
        </p>
      </div>
      <div
        class="drop ${dragging ? 'drop-over' : ''} ${file ? 'drop-has' : ''}"
        onDragOver=${(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave=${() => setDragging(false)}
        onDrop=${onDrop}
      >
        <input
          id="deploy-file"
          ref=${fileInput}
          class="visually-hidden"
          type="file"
          accept=".wasm,application/wasm"
          disabled=${busy || disabled}
          onChange=${(e) => choose(e.target.files[0])}
        />
        <label for="deploy-file" class="drop-label">
          ${file
            ? html`<strong class="mono">${file.name}</strong><span class="muted">${formatBytes(file.size)} · choose another</span>`
            : html`<strong>Drop a .wasm component here</strong><span class="muted">or click to choose a file</span>`}
        </label>
      </div>
    </div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    ${busy &&
    html`<div class="progress-row" role="status">
      ${phase === 'uploading'
        ? html`<progress max="100" value=${progress} aria-label="Upload progress"></progress>
            <span>Uploading ${progress}%</span>`
        : html`<progress aria-label="Compiling on the node"></progress><span>Compiling on the node…</span>`}
    </div>`}
    <${ErrorText} error=${error} prefix="Deploy failed" />
    <div class="form-actions">
      ${busy
        ? html`<button type="button" class="btn btn-secondary" onClick=${() => upload.current && upload.current.abort()}>
            Cancel
          </button>`
        : html`<button type="submit" class="btn btn-primary" disabled=${disabled}>Deploy</button>`}
    </div>
    ${result &&
    html`<div class="deploy-result" role="status">
      <p class="deploy-result-head">
        <span>
          <strong>${result.function} ${result.version}</strong>
          ${result.created ? ' deployed' : ' (these bytes were already that version)'}${result.live ? ' and live.' : '.'}
        </span>
        <a class="btn btn-small btn-secondary" href=${`#/functions/${encodeURIComponent(result.function)}`}>Open ${result.function} →</a>
      </p>
      <${Urls} urls=${result.urls} />
    </div>`}
  </form>`;
}
