/** Small formatting helpers shared by the views. */

/** "12 s ago" for a timestamp in milliseconds, "—" for none. */
export const ago = (ms) => (ms ? `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago` : '—');

/** Pretty JSON for a `<pre>`. */
export const pretty = (value) => JSON.stringify(value, null, 2);

/** An edge's page in the dashboard. */
export const edgeHref = (id) => `#/edges/${encodeURIComponent(id)}`;
