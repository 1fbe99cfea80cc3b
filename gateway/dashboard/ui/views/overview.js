/**
 * The overview (`#/`): fleet tiles, hub nodes, edges with open alarms, the edges table and the
 * configuration editor. The fleet follows the live events, redrawn at most once a second.
 */
import { api } from '../lib/api.js';
import { applyFleetEvent, edges, loadFleet } from '../lib/fleet.js';
import { html, useState } from '../lib/html.js';
import { useLiveEvents } from '../lib/live.js';
import { useThrottled } from '../lib/throttle.js';
import { useData } from '../lib/use-data.js';
import { ConfigEditor } from './config-editor.js';
import { Failure } from './failure.js';
import { FleetTable } from './fleet-table.js';
import { FleetTiles } from './fleet-tiles.js';
import { HubNodes } from './hub-nodes.js';
import { OpenAlarms } from './open-alarms.js';

const redrawMs = 1000;

export function Overview() {
  const { data, error } = useData(async () => {
    await loadFleet();
    return (await api('/v1/nodes')).body.nodes;
  }, []);
  const [, setTick] = useState(0);
  const redraw = useThrottled(() => setTick((n) => n + 1), redrawMs);
  useLiveEvents((event) => {
    applyFleetEvent(event);
    redraw();
  });

  if (error) return html`<${Failure} error=${error} />`;
  if (!data) return html`<p class="muted">loading…</p>`;
  const all = [...edges.values()];
  return html`
    <${FleetTiles} edges=${all} />
    <div class="grid">
      <${HubNodes} nodes=${data} />
      <${OpenAlarms} edges=${all} />
    </div>
    <${FleetTable} edges=${all} />
    <${ConfigEditor} />
  `;
}
