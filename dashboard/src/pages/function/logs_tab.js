// Live log tail over Server-Sent Events (GET .../logs?follow=true, with the
// session cookie). Bounded (lib/log_filter.js): KEEP entries in memory, at
// most SHOW lines in the DOM. Pause freezes the view while lines keep
// arriving; the filters (request id, text) apply to what is held.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { Badge, Card, Empty } from '../../components/ui.js';
import { API, fnPath } from '../../lib/api.js';
import { formatClock, formatCount } from '../../lib/format.js';
import { loadSession } from '../../lib/session.js';
import { SHOW, appendBounded, visibleLines } from '../../lib/log_filter.js';

const STATES = {
  connecting: ['neutral', 'Connecting…'],
  live: ['ok', 'Live'],
  reconnecting: ['warn', 'Reconnecting…'],
  closed: ['bad', 'Disconnected'],
};

function useLogStream(name, generation) {
  const entries = useRef([]);
  const [tick, setTick] = useState(0);
  const [state, setState] = useState('connecting');
  const frame = useRef(0);
  useEffect(() => {
    entries.current = [];
    setTick((t) => t + 1);
    setState('connecting');
    const es = new EventSource(`${API}${fnPath(name, 'logs')}?follow=true`);
    es.onopen = () => setState('live');
    es.onmessage = (m) => {
      let e;
      try {
        e = JSON.parse(m.data);
      } catch {
        return;
      }
      appendBounded(entries.current, e);
      // One render per frame however many lines arrive.
      if (!frame.current) frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        setTick((t) => t + 1);
      });
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        setState('closed');
        // A refused stream is often an ended session: this finds out, and a
        // logged-out page goes to the login.
        loadSession();
      } else {
        setState('reconnecting');
      }
    };
    return () => {
      es.close();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [name, generation]);
  return { entries: entries.current, tick, state };
}

function LogLine({ e, onRid }) {
  return html`<div class="log-line ${e.stream === 'stderr' ? 'log-err' : ''}">
    <span class="log-time">${formatClock(e.time)}</span>
    <span class="log-version">${e.version || ''}</span>
    <button type="button" tabindex="-1" class="log-rid" title="Show only this request" onClick=${() => onRid(e.request_id)}>
      ${e.request_id || ''}
    </button>
    ${e.stream === 'stderr' && html`<span class="log-stream" title="stderr">!</span>`}
    <span class="log-text">${e.line}</span>
  </div>`;
}

export function LogsTab({ name }) {
  const [generation, setGeneration] = useState(0);
  const { entries, tick, state } = useLogStream(name, generation);
  const [rid, setRid] = useState('');
  const [text, setText] = useState('');
  const [paused, setPaused] = useState(null); // {entries, count} when paused
  const box = useRef(null);
  const stick = useRef(true);

  const held = paused ? paused.entries : entries;
  const lines = useMemo(() => visibleLines(held, rid, text), [held, rid, text, tick, paused]);
  const newSincePause = paused ? Math.max(0, entries.length - paused.count) : 0;

  const onScroll = () => {
    const el = box.current;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const togglePause = () => {
    if (paused) setPaused(null);
    else setPaused({ entries: entries.slice(), count: entries.length });
  };
  const [tone, label] = STATES[state];
  const filtered = rid.trim() || text.trim();

  return html`<${Card}
    title="Live logs"
    id="logs"
    actions=${html`<${Badge} tone=${paused ? 'neutral' : tone}>${paused ? 'Paused' : label}<//>`}
  >
    <div class="log-controls">
      <div class="field">
        <label for="log-text">Filter by text</label>
        <input id="log-text" type="search" value=${text} placeholder="error" onInput=${(e) => setText(e.target.value)} />
      </div>
      <div class="field">
        <label for="log-rid">Request id</label>
        <input id="log-rid" type="search" value=${rid} class="mono" placeholder="any" onInput=${(e) => setRid(e.target.value)} />
      </div>
      <div class="log-buttons">
        <button type="button" class="btn btn-secondary" onClick=${togglePause} aria-pressed=${paused ? 'true' : 'false'}>
          ${paused ? 'Resume' : 'Pause'}
        </button>
        ${state === 'closed' &&
        html`<button type="button" class="btn btn-secondary" onClick=${() => setGeneration((g) => g + 1)}>Reconnect</button>`}
      </div>
    </div>
    <p class="help log-summary" aria-live="polite">
      ${paused && newSincePause > 0 ? `${formatCount(newSincePause)} new lines while paused. ` : ''}
      ${filtered ? `${formatCount(lines.length)} matching lines` : `${formatCount(lines.length)} lines`}
      ${held.length > lines.length && !filtered ? ` (newest ${SHOW} shown of ${formatCount(held.length)} held)` : ''}
    </p>
    <div class="log-box" ref=${box} onScroll=${onScroll} role="log" aria-live="off" aria-label=${`Log lines of ${name}`} tabindex="0">
      ${lines.length === 0 &&
      html`<${Empty} title=${filtered ? 'No line matches the filters' : 'No log lines yet'}>
        <p>
          ${filtered
            ? 'Clear the filters to see every line.'
            : 'What the function writes to stdout and stderr shows here as it happens. Call it to see some.'}
        </p>
      <//>`}
      ${lines.map((e) => html`<${LogLine} key=${`${e.node}:${e.seq}`} e=${e} onRid=${setRid} />`)}
    </div>
  <//>`;
}
