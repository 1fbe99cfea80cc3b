/**
 * The demo's vision events (issue 17): `DEMO-VISION`, an edge of the demo's own, acts as a DeviceHub
 * agent does on a vision alarm — it uploads the candidate frame with its own credentials (PUT
 * /v1/edges/{id}/frames/{eventId}, through the gateway's frames route into its object store), then
 * sends the alarm's start naming that frame (eventId, frames) over MQTT/TLS with its password, and
 * the end later. The simulated edges send alarms without frames (as legacy edges do: counted, no
 * second look); their simulator has no pictures to upload. The frames are real photographs with a
 * known content — scikit-image's, provisioned by infra/provision-vision.sh — JPEG-encoded with sharp
 * as an edge's camera would: a motorcycle (an e-bike alarm, confirmed), an astronaut (a trapped
 * passenger, confirmed), a rocket (an e-bike alarm dismissed). One event a minute, the first 15 s in.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import sharp from 'sharp';
import { encodeCompact, uplinkTopic } from '../edge/mod.ts';
import { testPhotos } from '../infra/models.ts';

export const DEMO_VISION_EDGE = 'DEMO-VISION';

const EVERY_MS = 60_000;
/** The first event waits for the demo's start-up rush (a thousand edges connecting) to pass. */
const FIRST_MS = 15_000;
/** How long after its start an alarm ends. */
const ALARM_MS = 20_000;

export interface DemoVision {
  /** One line for the live table. */
  describe(): string;
  stop(): Promise<void>;
}

export async function startDemoVision(o: {
  url: string;
  ca: Buffer;
  mqttTlsUrl: string;
  password: string;
  logger: Logger;
}): Promise<DemoVision> {
  const photos = testPhotos();
  const jpeg = (path: string) =>
    sharp(path).flatten({ background: '#ffffff' }).jpeg({ quality: 85 }).toBuffer();
  const events = [
    { alarm: 'ebike', frame: await jpeg(photos.motorcycle), shows: 'a motorcycle' },
    { alarm: 'trapped', frame: await jpeg(photos.person), shows: 'a person' },
    { alarm: 'ebike', frame: await jpeg(photos.none[0]!), shows: 'no vehicle' },
  ];
  const id = DEMO_VISION_EDGE;
  const edge = await mqtt.connectAsync(o.mqttTlsUrl, {
    ca: o.ca,
    rejectUnauthorized: true,
    username: id,
    password: o.password,
    clientId: id,
    protocolVersion: 5,
  });
  const boot = randomBytes(6).toString('hex');
  let seq = 0;
  const publish = (kind: 'birth' | 'alarm', message: Parameters<typeof encodeCompact>[0]) =>
    edge.publishAsync(uplinkTopic(id, kind), Buffer.from(encodeCompact(message)), { qos: 1 });
  await publish('birth', {
    kind: 'birth',
    seq: ++seq,
    ts: Date.now(),
    boot,
    birth: {
      model: 'RV1126-ELEV',
      firmware: '3.2.14',
      registrationCode: '3110000000000777',
      buildingId: 'B-DEMO',
      elevatorNo: 'V1',
    },
  });
  const stats = { sent: 0, uploadFailed: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let next = 0;
  const raise = async () => {
    const event = events[next++ % events.length]!;
    const eventId = `demo-${Date.now().toString(36)}`;
    const put = await putFrame({
      url: o.url,
      ca: o.ca,
      id,
      password: o.password,
      eventId,
      frame: event.frame,
    });
    if (put !== 201 && put !== 200) {
      stats.uploadFailed++;
      o.logger.warn({ eventId, status: put }, 'demo vision frame not uploaded');
      return;
    }
    const since = Date.now();
    const alarm = { kind: 'alarm', alarm: event.alarm, floor: 1, eventId, frames: 1 } as const;
    await publish('alarm', { ...alarm, seq: ++seq, ts: since, phase: 'start' });
    stats.sent++;
    o.logger.info({ eventId, alarm: event.alarm, shows: event.shows }, 'demo vision event');
    const end = setTimeout(() => {
      timers.delete(end);
      void publish('alarm', { ...alarm, seq: ++seq, ts: Date.now(), phase: 'end' }).catch(() => {});
    }, ALARM_MS);
    timers.add(end);
  };
  const tick = () =>
    void raise().catch((err: unknown) => o.logger.warn({ err }, 'demo vision event not sent'));
  const first = setTimeout(tick, FIRST_MS);
  const every = setInterval(tick, EVERY_MS);
  return {
    describe: () =>
      `${id}: ${stats.sent} vision alarms with frames (motorcycle, person, none)${stats.uploadFailed > 0 ? `, ${stats.uploadFailed} uploads failed` : ''}`,
    async stop() {
      clearTimeout(first);
      clearInterval(every);
      for (const t of timers) clearTimeout(t);
      await edge.endAsync().catch(() => {});
    },
  };
}

/** PUT /v1/edges/{id}/frames/{eventId}?index=0 with the edge's Basic credentials; the status. */
export function putFrame(o: {
  url: string;
  ca: Buffer;
  id: string;
  password: string;
  eventId: string;
  frame: Buffer;
}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${o.url}/v1/edges/${encodeURIComponent(o.id)}/frames/${o.eventId}?index=0`,
      {
        method: 'PUT',
        ca: o.ca,
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${o.id}:${o.password}`).toString('base64')}`,
          'content-type': 'image/jpeg',
          'content-length': String(o.frame.length),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(o.frame);
  });
}
