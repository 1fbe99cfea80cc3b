/**
 * The compact format DeviceHub's own agent sends: one header byte (protocol version in the high
 * nibble, uplink kind in the low one) and a MessagePack map with short keys and integer units.
 * The edge id travels in the MQTT topic / Kafka key only. Status carries only what changed
 * (deadbands on the agent) plus a full snapshot every minute; static facts go in a birth message.
 */
import { pack, unpack } from 'msgpackr';
import { describe, errorText, intIn, isIntIn, name, resultValue } from './checks.ts';
import { decodeCamera } from './clips.ts';
import { decodeUpdate, encodeUpdateBody, type UpdateReport } from './compact-update.ts';
import { DecodeError } from './errors.ts';
import {
  INT_RANGE,
  MAX_ALARM_CHARS,
  MAX_DEVICE_MESSAGE_BYTES,
  SEQ_RANGE,
  SILENCE_RANGE,
  TIMESTAMP_RANGE,
} from './limits.ts';
import {
  type Birth,
  DIRECTION,
  DOOR,
  type Health,
  type HubMessage,
  type Status,
  type Vision,
} from './normalized.ts';
import { PROTOCOL_VERSION, UplinkKind } from './protocol.ts';
import { decodeVisionRef } from './vision.ts';

/** Short key, and how a canonical status value is stored (×scale as an integer, enum index, 0/1). */
const STATUS_CODEC: {
  [K in keyof Status]: {
    key: string;
    type: 'bool' | 'int' | 'scaled' | 'enum';
    scale?: number;
    values?: readonly string[];
  };
} = {
  running: { key: 'r', type: 'bool' },
  floor: { key: 'f', type: 'int' },
  door: { key: 'd', type: 'enum', values: DOOR },
  direction: { key: 'v', type: 'enum', values: DIRECTION },
  hasPerson: { key: 'p', type: 'bool' },
  brakeEngaged: { key: 'bk', type: 'bool' },
  safetyCircuitClosed: { key: 'sc', type: 'bool' },
  maintenance: { key: 'mm', type: 'bool' },
  faultCode: { key: 'fc', type: 'int' },
  speed: { key: 's', type: 'scaled', scale: 100 },
  load: { key: 'l', type: 'int' },
  temperature: { key: 'tc', type: 'scaled', scale: 10 },
  motorAmps: { key: 'ma', type: 'scaled', scale: 10 },
  levelingMm: { key: 'lv', type: 'int' },
  positionMm: { key: 'ps', type: 'int' },
  signalDbm: { key: 'sg', type: 'int' },
  runCount: { key: 'rc', type: 'int' },
  runSeconds: { key: 'rs', type: 'int' },
  doorOpenCount: { key: 'dc', type: 'int' },
};
const STATUS_FIELDS = Object.keys(STATUS_CODEC) as (keyof Status)[];
const STATUS_BY_KEY = new Map(Object.entries(STATUS_CODEC).map(([name, c]) => [c.key, { name, ...c }]));
const VISION_EVENTS = ['ebike', 'doorBlocked'] as const satisfies readonly (keyof Vision)[];

export type CompactMessage =
  | {
      kind: 'birth';
      seq: number;
      ts: number;
      boot: string;
      birth: Birth;
      /** The longest the edge is silent when all is well (its status snapshot period), seconds. */
      silenceSeconds?: number;
    }
  | { kind: 'status'; seq: number; ts: number; snapshot: boolean; status: Partial<Status> }
  | { kind: 'vision'; seq: number; ts: number; event: (typeof VISION_EVENTS)[number]; active: boolean }
  | {
      kind: 'alarm';
      seq: number;
      ts: number;
      alarm: string;
      phase: 'start' | 'end';
      floor: number;
      /** A vision alarm's start: its event id (`i`) and candidate frames uploaded (`n`, 1..4). */
      eventId?: string;
      frames?: number;
    }
  | { kind: 'health'; seq: number; ts: number; health: Health }
  | { kind: 'result'; seq: number; ts: number; id: string; ok: boolean; result?: unknown; error?: string }
  | ({ kind: 'update'; seq: number; ts: number } & UpdateReport);

export function encodeCompact(message: CompactMessage): Uint8Array {
  const body: Record<string, unknown> = { q: message.seq, t: message.ts };
  switch (message.kind) {
    case 'birth':
      Object.assign(body, {
        b: message.boot,
        m: message.birth.model,
        fw: message.birth.firmware,
        rg: message.birth.registrationCode,
        bi: message.birth.buildingId,
        en: message.birth.elevatorNo,
      });
      if (message.birth.camera !== undefined)
        Object.assign(body, { cs: message.birth.camera.serial, cc: message.birth.camera.channel });
      if (message.silenceSeconds !== undefined) body.sl = message.silenceSeconds;
      break;
    case 'status': {
      const encode = (name: string, value: unknown) => {
        const c = STATUS_CODEC[name as keyof Status];
        return c.type === 'bool'
          ? value
            ? 1
            : 0
          : c.type === 'enum'
            ? c.values!.indexOf(value as string)
            : c.type === 'scaled'
              ? Math.round((value as number) * c.scale!)
              : value;
      };
      // A snapshot is positional (every field, in STATUS_CODEC order); a change names its fields.
      if (message.snapshot) body.x = STATUS_FIELDS.map((name) => encode(name, message.status[name]));
      else
        for (const [name, value] of Object.entries(message.status))
          body[STATUS_CODEC[name as keyof Status].key] = encode(name, value);
      break;
    }
    case 'vision':
      Object.assign(body, { e: VISION_EVENTS.indexOf(message.event), a: message.active ? 1 : 0 });
      break;
    case 'alarm':
      Object.assign(body, { a: message.alarm, p: message.phase === 'start' ? 1 : 0, f: message.floor });
      if (message.eventId !== undefined) body.i = message.eventId;
      if (message.frames !== undefined) body.n = message.frames;
      break;
    case 'result':
      Object.assign(body, { i: message.id, o: message.ok ? 1 : 0 });
      if (message.result !== undefined) body.r = message.result;
      if (message.error !== undefined) body.e = message.error;
      break;
    case 'update':
      Object.assign(body, encodeUpdateBody(message));
      break;
    case 'health': {
      const h = message.health;
      Object.assign(body, {
        u: h.uptimeSeconds,
        c: h.cpuPercent,
        mf: h.memoryFreeMb,
        df: h.diskFreeMb,
        ea: h.elenetAlive ? 1 : 0,
        la: h.litefcccoreAlive ? 1 : 0,
      });
      // Newer keys: decoders skip keys they do not know, and an older agent sends neither.
      if (h.downlinkSubscribed !== undefined) body.ds = h.downlinkSubscribed ? 1 : 0;
      if (h.downlinkFailures !== undefined) body.dr = h.downlinkFailures;
      break;
    }
  }
  const payload = pack(body);
  const out = new Uint8Array(payload.length + 1);
  out[0] = (PROTOCOL_VERSION << 4) | UplinkKind[message.kind];
  out.set(payload, 1);
  return out;
}

const KIND_BY_CODE = new Map<number, UplinkKind>(
  Object.entries(UplinkKind).map(([kind, code]) => [code, kind as UplinkKind]),
);
const int = (v: unknown, what: string): number => intIn(v, INT_RANGE, what);

type Body = Record<string, unknown>;
/** What every compact message carries: its sequence number and device time. */
interface Head {
  readonly seq: number;
  readonly ts: number;
}

function decodeBirth(b: Body, { seq, ts }: Head): HubMessage[] {
  return [
    {
      method: 'telemetry',
      payload: {
        kind: 'birth',
        seq,
        ts,
        boot: name(b.b, 'b (boot id)'),
        // Outside its range the edge's silence is not taken (the default applies), as before.
        ...(isIntIn(b.sl, SILENCE_RANGE) ? { silenceSeconds: b.sl } : {}),
        data: {
          model: name(b.m, 'm'),
          firmware: name(b.fw, 'fw'),
          registrationCode: name(b.rg, 'rg'),
          buildingId: name(b.bi, 'bi'),
          elevatorNo: name(b.en, 'en'),
          ...decodeCamera(b.cs, b.cc, { serial: 'cs', channel: 'cc' }),
        },
      },
    },
  ];
}

function decodeStatus(b: Body, { seq, ts }: Head): HubMessage[] {
  const data: Record<string, unknown> = {};
  const decode = (name: string, value: unknown) => {
    const c = STATUS_CODEC[name as keyof Status];
    const n = int(value, c.key);
    data[name] =
      c.type === 'bool'
        ? n === 1
        : c.type === 'enum'
          ? (c.values![n] ?? 'unknown')
          : c.type === 'scaled'
            ? n / c.scale!
            : n;
  };
  if (Array.isArray(b.x)) {
    if (b.x.length !== STATUS_FIELDS.length)
      throw new DecodeError(
        'INVALID_FIELD',
        `status snapshot has ${b.x.length} fields, expected ${STATUS_FIELDS.length}`,
      );
    for (const [i, name] of STATUS_FIELDS.entries()) decode(name, (b.x as unknown[])[i]);
  }
  for (const [key, value] of Object.entries(b)) {
    const c = STATUS_BY_KEY.get(key);
    if (c !== undefined) decode(c.name, value); // q, t, x and fields of a later minor version are skipped
  }
  return [{ method: 'telemetry', payload: { kind: 'status', seq, ts, data } }];
}

function decodeVision(b: Body, { seq, ts }: Head): HubMessage[] {
  const event = VISION_EVENTS[int(b.e, 'e (event)')];
  if (event === undefined) throw new DecodeError('INVALID_FIELD', `unknown vision event ${describe(b.e)}`);
  return [{ method: 'telemetry', payload: { kind: 'vision', seq, ts, data: { [event]: b.a === 1 } } }];
}

function decodeAlarm(b: Body, { seq, ts }: Head): HubMessage[] {
  const alarm = name(b.a, 'a (alarm)', MAX_ALARM_CHARS, true);
  const phase = b.p === 1 ? 'start' : 'end';
  const floor = int(b.f, 'f (floor)');
  const vision = decodeVisionRef(b.i, b.n, { eventId: 'i (event id)', frames: 'n (frames)' });
  return [{ method: 'alarm', payload: { alarm, phase, seq, ts, data: { floor, ...vision } } }];
}

function decodeHealth(b: Body, { seq, ts }: Head): HubMessage[] {
  const data = {
    uptimeSeconds: int(b.u, 'u'),
    cpuPercent: int(b.c, 'c'),
    memoryFreeMb: int(b.mf, 'mf'),
    diskFreeMb: int(b.df, 'df'),
    elenetAlive: b.ea === 1,
    litefcccoreAlive: b.la === 1,
    ...(b.ds !== undefined ? { downlinkSubscribed: b.ds === 1 } : {}),
    ...(b.dr !== undefined ? { downlinkFailures: int(b.dr, 'dr') } : {}),
  };
  return [{ method: 'telemetry', payload: { kind: 'heartbeat', seq, ts, data } }];
}

function decodeResult(b: Body): HubMessage[] {
  return [
    {
      method: 'commandResult',
      payload: {
        id: name(b.i, 'i (command id)', undefined, true),
        ok: b.o === 1,
        ...(b.r !== undefined ? { result: resultValue(b.r, 'r (result)') } : {}),
        ...(b.e !== undefined ? { error: errorText(b.e, 'failed') } : {}),
      },
    },
  ];
}

/** The decoder of each kind that goes to the edge actor (`log` is not one: logs.ts, then the log shipper). */
const DECODERS: Partial<Record<UplinkKind, (b: Body, head: Head) => HubMessage[]>> = {
  birth: decodeBirth,
  status: decodeStatus,
  vision: decodeVision,
  alarm: decodeAlarm,
  health: decodeHealth,
  result: decodeResult,
  update: decodeUpdate,
};

/** The header's kind and the MessagePack map after it; size, version and kind checked. */
function parseFrame(bytes: Uint8Array): { kind: UplinkKind; b: Body } {
  if (bytes.byteLength > MAX_DEVICE_MESSAGE_BYTES)
    throw new DecodeError(
      'TOO_LARGE',
      `message of ${bytes.byteLength} bytes, limit ${MAX_DEVICE_MESSAGE_BYTES}`,
    );
  if (bytes.byteLength < 2) throw new DecodeError('BAD_HEADER', 'compact message shorter than 2 bytes');
  const version = bytes[0]! >> 4;
  const kind = KIND_BY_CODE.get(bytes[0]! & 0x0f);
  if (version !== PROTOCOL_VERSION)
    throw new DecodeError('BAD_HEADER', `protocol version ${version}, this hub speaks ${PROTOCOL_VERSION}`);
  if (kind === undefined) throw new DecodeError('BAD_HEADER', `unknown message kind ${bytes[0]! & 0x0f}`);
  let body: unknown;
  try {
    // msgpackr throws Error, or RangeError on nesting deeper than the stack: either is not MessagePack we take.
    body = unpack(bytes.subarray(1));
  } catch {
    throw new DecodeError('INVALID_FIELD', 'body is not MessagePack');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || body instanceof Uint8Array)
    throw new DecodeError('INVALID_FIELD', `body is not a map but ${describe(body)}`);
  return { kind, b: body as Body };
}

/** Decodes one compact message into what the edge actor takes. */
export function decodeCompact(bytes: Uint8Array): HubMessage[] {
  const { kind, b } = parseFrame(bytes);
  const seq = intIn(b.q, SEQ_RANGE, 'q (sequence)');
  const ts = intIn(b.t, TIMESTAMP_RANGE, 't (timestamp)');
  const decode = DECODERS[kind];
  if (decode === undefined)
    throw new DecodeError('UNKNOWN_TYPE', `the hub does not take "${kind}" messages yet`);
  return decode(b, { seq, ts });
}
