/**
 * The gateway's outbox sink and what it feeds, started together: the alarm history, tunnel states
 * and rollouts recorded in the database, the clip and recognition requests, the fleet signals'
 * counts and, when configured, delivery to the web backend (its events' clip links signed).
 */
import type { Logger } from '../actors/mod.ts';
import type { Bus } from '../bus/mod.ts';
import { TILE_EVENT } from '../edge/mod.ts';
import { type ClipLinkSigner, withClipLinks } from './alarms/mod.ts';
import type { Db } from './db/database.ts';
import { FleetSignals } from './fleet-signals/mod.ts';
import type { FleetView } from './fleet-view.ts';
import type { GatewayOptions } from './gateway.ts';
import { ClipRequests } from './outbox/clip-requests.ts';
import { recordAlarms } from './outbox/records.ts';
import { OutboxSink } from './outbox/sink.ts';
import { VisionRequests } from './outbox/vision-requests.ts';
import { WebBackendOutbox } from './outbox/web-backend.ts';
import type { PolicyPublisher } from './policy-publisher.ts';
import { recordRollouts } from './rollouts/mod.ts';
import { recordTunnels } from './tunnels/mod.ts';

type OutboxOptions = Pick<GatewayOptions, 'webBackend' | 'leaseTtlMs' | 'fleetSignalsMs'>;

/** The outbox sink (alarm history, tunnel states) and, when configured, delivery to the web backend. */
export function startOutbox(
  options: OutboxOptions,
  {
    db,
    bus,
    name,
    log,
    clipLinks,
    policies,
    view,
  }: {
    db: Db;
    bus: Bus;
    name: string;
    log: Logger;
    clipLinks: ClipLinkSigner;
    policies: PolicyPublisher;
    view: FleetView;
  },
) {
  const webBackend =
    options.webBackend === undefined
      ? undefined
      : new WebBackendOutbox(
          { transform: withClipLinks(clipLinks), ...options.webBackend },
          {
            bus,
            holder: name,
            logger: log,
            leaseTtlMs: options.leaseTtlMs,
          },
        ).startDelivery();
  const clipRequests = new ClipRequests({ db, bus, logger: log });
  const visionRequests = new VisionRequests({ bus, logger: log, policy: () => policies.recognition() });
  const fleetSignals = new FleetSignals({
    registry: () => view.edgeBuildings(),
    bus,
    holder: name,
    logger: log,
    intervalMs: options.fleetSignalsMs,
  }).start();
  const sink = new OutboxSink({
    bus,
    holder: name,
    logger: log,
    leaseTtlMs: options.leaseTtlMs,
    // Tiles are the read model's, on the live streams (decision 056); skipped unparsed here when
    // a node from before that change wrote them into the outbox.
    skipTypes: new Set([TILE_EVENT]),
    handlers: [
      recordAlarms(db),
      recordTunnels(db, bus),
      recordRollouts(db),
      clipRequests.record,
      visionRequests.record,
      ...(webBackend === undefined ? [] : [webBackend.enqueue]),
      fleetSignals.record,
    ],
  }).start();
  return { webBackend, sink, clipRequests, visionRequests, fleetSignals };
}
