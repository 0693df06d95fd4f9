// usePoll(load, ms, deps): runs load() now and every `ms` while the tab is
// visible, keeps the last answer and the last error. A slow answer never
// overlaps the next one, and answers from a previous `deps` are dropped.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export function usePoll(load, ms, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const gen = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async (g) => {
    try {
      const data = await loadRef.current();
      if (g === gen.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (g === gen.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, []);

  useEffect(() => {
    const g = ++gen.current;
    setState({ data: null, error: null, loading: true });
    let timer = null;
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      if (!document.hidden) await run(g);
      if (!stopped) timer = setTimeout(tick, ms);
    };
    tick();
    const onVisible = () => {
      if (!document.hidden && !stopped) {
        clearTimeout(timer);
        tick();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, deps);

  const refresh = useCallback(() => run(gen.current), [run]);
  return { ...state, refresh };
}
