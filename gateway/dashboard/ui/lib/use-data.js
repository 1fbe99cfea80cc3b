/** Loads a view's data: `{ data, error, reload }`, loading again when `deps` change. */
import { useCallback, useEffect, useState } from './html.js';

export function useData(load, deps) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const reload = useCallback(async () => {
    try {
      setState({ data: await load(), error: undefined });
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  return { ...state, reload };
}
