/**
 * The live-events feed: one `/v1/events` socket for the page, reconnecting after 2 s; views
 * subscribe with `useLiveEvents`. The header shows the socket's state.
 */
import { openSocket } from './api.js';
import { useEffect, useRef } from './html.js';

const listeners = new Set();

/** Calls `listener` with every fleet event; returns the unsubscribe function. */
export function onLiveEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Opens the feed; `status` receives the text for the header. */
export function startLiveEvents(status) {
  const ws = openSocket('/v1/events');
  ws.onmessage = (m) => {
    const event = JSON.parse(m.data);
    if (event.type === 'ready') {
      status('live: connected');
      return;
    }
    for (const listener of listeners) listener(event);
  };
  ws.onclose = () => {
    status('live: reconnecting…');
    setTimeout(() => startLiveEvents(status), 2000);
  };
}

/** Subscribes a view to the feed while it is mounted; the latest `listener` is always called. */
export function useLiveEvents(listener) {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => onLiveEvent((event) => latest.current(event)), []);
}
