/**
 * `diet`: the same simulated day of one edge (elevator-day.ts), sent as today's legacy JSON over
 * Kafka and as DeviceHub's compact format over MQTT. Both streams are decoded by the hub's
 * decoders and applied to an edge actor each; at sample points the two rebuilt states must be
 * the same: every status field right after each compact snapshot (every 60 s); event fields,
 * vision, static facts and open alarms every 10 s; health is left out (heartbeat every 10 s vs
 * health every 300 s, by design).
 */
import { isDeepStrictEqual } from 'node:util';
import { type ActorContext, silentLogger } from '../../actors/mod.ts';
import {
  birthOf,
  CompactEdge,
  type CompactMessage,
  decodeCompact,
  decodeLegacy,
  type EdgeState,
  edgeActor,
  elevatorDay,
  encodeCompact,
  type HubMessage,
  kafkaProduceBytes,
  LegacyEdge,
  type LegacyMessage,
  legacyQos,
  legacyUplinkTopic,
  mqttPublishBytes,
  STATUS_EVENT_FIELDS,
  UPLINK_QOS,
  uplinkTopic,
} from '../../edge/mod.ts';
import type { Target } from '../report.ts';
import type { ScenarioResult } from './common.ts';

const EDGE = 'E-000123';
const BASE = Date.UTC(2026, 10, 24);

function applyAll(state: EdgeState, messages: HubMessage[], now: number): EdgeState {
  const ctx: ActorContext = {
    address: `edge/${EDGE}`,
    id: EDGE,
    messageId: '0-0',
    enqueuedAt: now,
    now,
    epoch: 1,
    log: silentLogger,
    setTimer() {},
    cancelTimer() {},
    emit() {},
    publish() {},
    send() {},
  };
  let s = state;
  for (const m of messages) {
    if (m.method === 'telemetry') s = edgeActor.handlers.telemetry(s, m.payload, ctx);
    else if (m.method === 'alarm') s = edgeActor.handlers.alarm(s, m.payload, ctx);
  }
  return s;
}

export async function dietScenario(): Promise<ScenarioResult> {
  const birth = birthOf(EDGE);
  const legacyEdge = new LegacyEdge(EDGE, birth);
  const compactEdge = new CompactEdge(EDGE, birth, { boot: 'boot-1' });
  const streams = twoStreams();
  const comparison = { samplePoints: 0, stateMismatches: 0, firstMismatches: [] as string[] };
  for (const second of elevatorDay(7)) {
    const { t } = second;
    const now = BASE + t * 1000;
    // Legacy: everything, all the time. Compact: birth once, status on change and every
    // minute, vision and faults as events, health every 5 minutes (workloads.ts).
    for (const m of legacyEdge.second(second, now)) streams.sendLegacy(m, now);
    if (t === 0) streams.sendCompact(compactEdge.birth(now), now);
    const { messages, snapshot } = compactEdge.second(second, now);
    for (const m of messages) streams.sendCompact(m, now);
    // Compare what the hub rebuilt from each.
    if (t % 10 === 0) compareStates(streams.states(), { t, full: snapshot }, comparison);
  }
  return dietReport(streams, comparison);
}

/**
 * The two streams of the same day: each message counted (its bytes with the transport's framing,
 * per hour), decoded by the hub's decoder and applied to that stream's edge state.
 */
function twoStreams() {
  const legacy = { msgs: 0, bytes: 0, payload: 0, overMqtt: 0 };
  const compact = { msgs: 0, bytes: 0, payload: 0 };
  let legacyState = edgeActor.initialState(EDGE);
  let compactState = edgeActor.initialState(EDGE);
  const hourly = { legacy: new Array<number>(24).fill(0), compact: new Array<number>(24).fill(0) };
  const sendLegacy = ({ topic, msgType, json }: LegacyMessage, now: number) => {
    const size = Buffer.byteLength(json);
    legacy.msgs++;
    legacy.payload += size;
    legacy.bytes += kafkaProduceBytes({ topic, key: EDGE, valueBytes: size });
    legacy.overMqtt += mqttPublishBytes(legacyUplinkTopic(EDGE), size, legacyQos(msgType));
    hourly.legacy[Math.floor((now - BASE) / 3_600_000)]! += size;
    legacyState = applyAll(legacyState, decodeLegacy(json, EDGE), now);
  };
  const sendCompact = (message: CompactMessage, now: number) => {
    const bytes = encodeCompact(message);
    compact.msgs++;
    compact.payload += bytes.byteLength;
    compact.bytes += mqttPublishBytes(
      uplinkTopic(EDGE, message.kind),
      bytes.byteLength,
      UPLINK_QOS[message.kind],
    );
    hourly.compact[Math.floor((now - BASE) / 3_600_000)]! += bytes.byteLength;
    compactState = applyAll(compactState, decodeCompact(bytes), now);
  };
  return { legacy, compact, hourly, sendLegacy, sendCompact, states: () => ({ legacyState, compactState }) };
}

/**
 * One sample point: every status field right after a compact snapshot (`full`), else the event
 * fields; birth, vision and open alarms always.
 */
function compareStates(
  { legacyState, compactState }: { legacyState: EdgeState; compactState: EdgeState },
  at: { t: number; full: boolean },
  tally: { samplePoints: number; stateMismatches: number; firstMismatches: string[] },
): void {
  tally.samplePoints++;
  const pick = (s: EdgeState) => {
    const status = (s.shadow.status ?? {}) as Record<string, unknown>;
    return {
      status: at.full ? status : Object.fromEntries(STATUS_EVENT_FIELDS.map((k) => [k, status[k]])),
      birth: s.shadow.birth,
      vision: { ebike: false, doorBlocked: false, ...s.shadow.vision },
      alarms: s.openAlarms,
    };
  };
  const a = pick(legacyState);
  const b = pick(compactState);
  if (!isDeepStrictEqual(a, b)) {
    tally.stateMismatches++;
    if (tally.firstMismatches.length < 3)
      tally.firstMismatches.push(`t=${at.t}: legacy ${JSON.stringify(a)} compact ${JSON.stringify(b)}`);
  }
}

function dietReport(
  { legacy, compact, hourly }: ReturnType<typeof twoStreams>,
  {
    samplePoints,
    stateMismatches,
    firstMismatches,
  }: { samplePoints: number; stateMismatches: number; firstMismatches: string[] },
): ScenarioResult {
  const result = {
    scenario: 'diet',
    legacy: {
      msgsPerDay: legacy.msgs,
      bytesPerDay: legacy.bytes,
      payloadBytesPerDay: legacy.payload,
      transport: 'kafka',
    },
    compact: {
      msgsPerDay: compact.msgs,
      bytesPerDay: compact.bytes,
      payloadBytesPerDay: compact.payload,
      transport: 'mqtt',
    },
    legacyOverMqtt: { bytesPerDay: legacy.overMqtt },
    bytesRatio: Number((legacy.bytes / compact.bytes).toFixed(1)),
    bytesRatioSameTransport: Number((legacy.overMqtt / compact.bytes).toFixed(1)),
    msgsRatio: Number((legacy.msgs / compact.msgs).toFixed(1)),
    samplePoints,
    stateMismatches,
    firstMismatches,
  };
  const targets: Target[] = [
    { metric: 'legacy msgs/day', value: legacy.msgs, target: '—', met: true },
    { metric: 'compact msgs/day', value: compact.msgs, target: '—', met: true },
    { metric: 'legacy bytes/day (Kafka framing)', value: legacy.bytes, target: '—', met: true },
    { metric: 'compact bytes/day (MQTT framing)', value: compact.bytes, target: '—', met: true },
    { metric: 'bytesRatio', value: result.bytesRatio, target: '≥ 20', met: result.bytesRatio >= 20 },
    { metric: 'bytesRatio, both over MQTT', value: result.bytesRatioSameTransport, target: '—', met: true },
    { metric: 'msgsRatio', value: result.msgsRatio, target: '≥ 5', met: result.msgsRatio >= 5 },
    {
      metric: 'stateMismatches',
      value: stateMismatches,
      target: `0 of ${samplePoints} samples`,
      met: stateMismatches === 0,
    },
  ];
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return {
    result,
    targets,
    plot: {
      xLabel: 'hour of the day',
      x: hours,
      charts: [
        { label: 'legacy payload bytes per hour', values: hourly.legacy },
        { label: 'compact payload bytes per hour', values: hourly.compact },
      ],
    },
  };
}
