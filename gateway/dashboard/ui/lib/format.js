/** Small formatting helpers shared by the views. */

/** "12 s ago" for a timestamp in milliseconds, "—" for none. */
export const ago = (ms) => (ms ? `${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago` : '—');

/** Pretty JSON for a `<pre>`. */
export const pretty = (value) => JSON.stringify(value, null, 2);

/** An edge's page in the dashboard. */
export const edgeHref = (id) => `#/edges/${encodeURIComponent(id)}`;

/** A view's link with its filters in the query (`#/alarms?edge=E-1`); empty filters are left out. */
export const hashHref = (route, filters = {}) => {
  const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
  return q ? `${route}?${q}` : route;
};

/** A from/to filter as the API's ms: as given when it is ms already, else a datetime-local (local time). */
export const timeParam = (value) => (/^\d+$/.test(value) ? value : String(new Date(value).getTime()));
