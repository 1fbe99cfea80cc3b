/**
 * An alarm clip (`#/clips/<id>`): the video with its poster in a `<video>` (its signed links,
 * Range requests let it seek), the alarm, window, camera and status — or why it failed.
 * Reloads when the clip is stored or fails.
 */
import { api } from '../lib/api.js';
import { edgeHref } from '../lib/format.js';
import { html } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { useData } from '../lib/use-data.js';
import { alarmsHref } from './alarms.js';
import { Failure } from './failure.js';
import { logsAround } from './logs.js';

const noVideo = (status) =>
  status === 'deleted' ? 'deleted: past its retention' : `no video yet (${status})`;
const time = (ms) => (ms === null ? '—' : new Date(ms).toLocaleString());

export function ClipPage({ id }) {
  const { data: clip, error, reload } = useData(async () => (await api(`/v1/clips/${id}`)).body, [id]);
  useLiveEvents((event) => {
    if ((event.type === 'clip.ready' || event.type === 'clip.failed') && event.clipId === id) reload();
  });
  if (error) return html`<${Failure} error=${error} />`;
  if (!clip) return html`<p class="muted">loading…</p>`;
  return html`<section>
    <h2>
      ${clip.alarm} on <a href=${edgeHref(clip.edgeId)}>${clip.edgeId}</a>${' '}
      <span id="clip-status" class=${`clip-${clip.status}`}>${clip.status}</span>${' '}
      <a class="muted" href=${alarmsHref({ edge: clip.edgeId })}>all alarms of this edge</a>${' '}
      <a id="clip-logs" class="muted" href=${logsAround(clip.edgeId, clip.since)}>the edge’s logs then</a>
    </h2>
    ${
      clip.links
        ? html`<video id="clip-video" controls preload="metadata" width="640" poster=${clip.links.poster}
          src=${clip.links.video}></video>`
        : html`<p id="clip-none" class="muted">${clip.reason ?? noVideo(clip.status)}</p>`
    }
    <table id="clip-facts">
      <tr><th>alarm</th><td>${time(clip.since)} – ${clip.end === null ? 'cut at the longest clip' : time(clip.end)}</td></tr>
      <tr><th>video window</th><td>${time(clip.window.start)} – ${time(clip.window.end)}</td></tr>
      <tr><th>camera</th><td>${clip.camera ? `${clip.camera.serial} channel ${clip.camera.channel}` : '—'}</td></tr>
      <tr><th>duration</th><td>${clip.durationMs === null ? '—' : `${(clip.durationMs / 1000).toFixed(1)} s`}</td></tr>
      <tr><th>size</th><td>${clip.bytes === null ? '—' : `${Math.round(clip.bytes / 1024)} KiB`}</td></tr>
      <tr><th>SHA-256</th><td><code>${clip.sha256 ?? '—'}</code></td></tr>
      ${clip.code ? html`<tr><th>failure</th><td class="alarm">${clip.code}: ${clip.reason}</td></tr>` : null}
      <tr><th>stored</th><td>${time(clip.storedAt)} (kept until ${time(clip.expiresAt)})</td></tr>
      <tr><th>clip id</th><td><code>${clip.id}</code></td></tr>
    </table>
  </section>`;
}
