/**
 * An edge's second looks on its page (issue 17): each recent request with its verdict, the alarm's
 * fate (forwarded at once, held, released, dropped), the model, and the frame the verdict was made
 * on with the model's boxes drawn over it — absolutely positioned boxes in fractions of the frame,
 * so they sit where the verdict says whatever size the image is shown at — labelled with their
 * label and score. Frames are fetched with the operator's key (an `<img>` cannot send it) and
 * shown from a blob URL. Reloads when a verdict for this edge comes in.
 */
import { api, key } from '../lib/api.js';
import { html, useEffect, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { useData } from '../lib/use-data.js';

const when = (ms) => new Date(ms).toLocaleString();
const pct = (f) => `${(f * 100).toFixed(3)}%`;

/** One frame of an event, fetched with the key; its boxes over it. */
function Frame({ edgeId, eventId, index, detections }) {
  const [src, setSrc] = useState(null);
  const [problem, setProblem] = useState(null);
  useEffect(() => {
    let url = null;
    let live = true;
    const path = `/v1/edges/${encodeURIComponent(edgeId)}/frames/${encodeURIComponent(eventId)}/${index}`;
    fetch(path, { headers: { authorization: `Bearer ${key}` } })
      .then(async (res) => {
        if (!res.ok) throw new Error(res.status === 404 ? 'frame not uploaded' : `HTTP ${res.status}`);
        url = URL.createObjectURL(await res.blob());
        if (live) setSrc(url);
      })
      .catch((e) => live && setProblem(e.message));
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [edgeId, eventId, index]);
  if (problem) return html`<p class="muted">${problem}</p>`;
  if (!src) return html`<p class="muted">loading frame…</p>`;
  return html`<div class="verdict-frame">
    <img class="verdict-image" src=${src} alt=${`frame ${index} of ${eventId}`} />
    ${(detections ?? []).map(
      (d, i) => html`<div
        class="box"
        key=${i}
        data-label=${d.label}
        data-box=${d.box.join(',')}
        style=${{ left: pct(d.box[0]), top: pct(d.box[1]), width: pct(d.box[2]), height: pct(d.box[3]) }}
      >
        <span class="box-label">${d.label} ${d.score.toFixed(2)}</span>
      </div>`,
    )}
  </div>`;
}

function Verdict({ edgeId, v }) {
  return html`<div class="verdict" data-event=${v.eventId}>
    <h3>
      ${v.alarm} <span class=${`verdict-${v.status}`}>${v.status}</span>${' '}
      <span class="muted">alarm ${v.outcome} · ${when(v.since)} · event ${v.eventId}</span>
    </h3>
    <p class="muted">
      ${v.model ? `${v.model.name} ${v.model.version}` : 'no model'}
      ${v.inferMs === undefined ? '' : ` · inference ${Math.round(v.inferMs)} ms`}
      ${v.queueMs === undefined ? '' : ` · queued ${Math.round(v.queueMs)} ms`}
      ${v.reason ? ` · ${v.reason}` : ''}
    </p>
    ${
      v.frame === undefined
        ? html`<p class="muted">no frame judged</p>`
        : html`<${Frame} edgeId=${edgeId} eventId=${v.eventId} index=${v.frame} detections=${v.detections} />`
    }
  </div>`;
}

export function EdgeVerdicts({ id }) {
  const [version, setVersion] = useState(0);
  useLiveEvents((event) => {
    if (event.edgeId === id && event.type === 'vision.verdict') setVersion((n) => n + 1);
  });
  const { data, error } = useData(
    async () => (await api(`/v1/edges/${encodeURIComponent(id)}/verdicts`)).body,
    [id, version],
  );
  if (error) return html`<section><h2>Second looks</h2><p class="muted">${error.message}</p></section>`;
  if (!data) return null;
  const counts = Object.entries(data.counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(' · ');
  return html`<section id="verdicts">
    <h2>
      Second looks${' '}
      <span class="muted">${data.pending} waiting · ${counts || 'no verdicts yet'} · ${data.legacy} without frames</span>
    </h2>
    ${
      data.verdicts.length === 0
        ? html`<p class="muted">no second looks yet</p>`
        : data.verdicts.map((v) => html`<${Verdict} key=${v.eventId} edgeId=${id} v=${v} />`)
    }
  </section>`;
}
