/** Calls `fn` at most once per `ms` after a burst of calls (the last call wins), while mounted. */
import { useEffect, useRef } from './html.js';

export function useThrottled(fn, ms) {
  const latest = useRef(fn);
  latest.current = fn;
  const pending = useRef(undefined);
  useEffect(() => () => clearTimeout(pending.current), []);
  return () => {
    pending.current ??= setTimeout(() => {
      pending.current = undefined;
      latest.current();
    }, ms);
  };
}
