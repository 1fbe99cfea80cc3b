/**
 * A full status as the link hands it to the edge actor: one JSON array instead of the canonical
 * object (docs/decisions/068). A legacy status, the commonest message of the fleet, carries all
 * 19 status fields and its 5–7 birth facts every second; as an object its mailbox entry spells
 * 28 keys (557 bytes), as an array it is the values alone (~210 bytes). The link writes fewer
 * bytes, Redis holds fewer, and the hub node parses an array, which costs it about half as much
 * as the object (no keys to look up, no shapes to find), then builds the same object the handler
 * always had.
 *
 *   ["status/1", ts, seq | null, boot | null, via | null, [19 status values], [birth] | null]
 *   birth: [model, firmware, registrationCode, buildingId, elevatorNo, cameraSerial | null, cameraChannel | null]
 *
 * Only a status with every field is packed (a compact agent's partial updates stay objects), and
 * a telemetry payload with anything else on it is left as it is: packing loses nothing.
 */
import type { Birth, Status } from './normalized.ts';
import type { TelemetryPayload } from './payloads.ts';

/** The first element of a packed status: what it is and the version of its layout. */
export const PACKED_STATUS = 'status/1';

/**
 * How many values a packed status holds: every field of `Status`, in the order `unpackParts`
 * writes them out (its object is typed with every key of `Status`: a field added there fails to
 * compile until the layout has it; a status with a field more is not packed meanwhile).
 */
const STATUS_VALUES = 19;

const BIRTH_STRINGS = [
  'model',
  'firmware',
  'registrationCode',
  'buildingId',
  'elevatorNo',
] as const satisfies readonly (keyof Birth)[];
const PAYLOAD_KEYS = new Set(['kind', 'ts', 'seq', 'boot', 'data', 'birth', 'via']);
const BIRTH_KEYS = new Set<string>([...BIRTH_STRINGS, 'camera']);

type Fields = Readonly<Record<string, unknown>>;
type Packed = unknown[];

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const scalar = (v: unknown) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';

/** The status's values in field order, or undefined when a field is missing or more are there. */
function statusValues(d: Fields): unknown[] | undefined {
  let keys = 0;
  for (const _ in d) keys++;
  if (keys !== STATUS_VALUES) return undefined;
  // Written out, not looped over a list of names: named loads of one shape, not keyed ones.
  const values = [
    d.running,
    d.floor,
    d.door,
    d.direction,
    d.hasPerson,
    d.brakeEngaged,
    d.safetyCircuitClosed,
    d.maintenance,
    d.faultCode,
    d.speed,
    d.load,
    d.temperature,
    d.motorAmps,
    d.levelingMm,
    d.positionMm,
    d.signalDbm,
    d.runCount,
    d.runSeconds,
    d.doorOpenCount,
  ];
  for (const value of values) if (!scalar(value)) return undefined;
  return values;
}

function birthValues(b: Fields): unknown[] | undefined {
  for (const key in b) if (!BIRTH_KEYS.has(key)) return undefined;
  const { model, firmware, registrationCode, buildingId, elevatorNo, camera } = b;
  if (
    typeof model !== 'string' ||
    typeof firmware !== 'string' ||
    typeof registrationCode !== 'string' ||
    typeof buildingId !== 'string' ||
    typeof elevatorNo !== 'string'
  )
    return undefined;
  if (camera === undefined) return [model, firmware, registrationCode, buildingId, elevatorNo, null, null];
  if (!isCamera(camera)) return undefined;
  return [model, firmware, registrationCode, buildingId, elevatorNo, camera.serial, camera.channel];
}

/** A camera as a birth holds it: its serial and channel, nothing else. */
function isCamera(v: unknown): v is { serial: unknown; channel: unknown } {
  if (!isFields(v)) return false;
  let keys = 0;
  for (const _ in v) keys++;
  return keys === 2 && scalar(v.serial) && scalar(v.channel);
}

/** What `optional` answers for a value of another type: the payload is not packed. */
const WRONG = Symbol('wrong type');
/** An optional value as it is packed: null when absent. */
const optional = (v: unknown, type: 'number' | 'string') =>
  v === undefined ? null : typeof v === type ? v : WRONG;

/**
 * The payload packed, when it is a full status and nothing else; undefined otherwise (send the
 * payload as it is).
 */
export function packTelemetry(payload: TelemetryPayload): Packed | undefined {
  if (payload.kind !== 'status' || !isFields(payload.data)) return undefined;
  for (const key in payload) if (!PAYLOAD_KEYS.has(key)) return undefined;
  const ts = optional(payload.ts, 'number');
  const seq = optional(payload.seq, 'number');
  const boot = optional(payload.boot, 'string');
  const via = optional(payload.via, 'string');
  if (ts === WRONG || seq === WRONG || boot === WRONG || via === WRONG) return undefined;
  const data = statusValues(payload.data);
  if (data === undefined) return undefined;
  let birth: unknown[] | null = null;
  if (payload.birth !== undefined) {
    const values = isFields(payload.birth) ? birthValues(payload.birth) : undefined;
    if (values === undefined) return undefined;
    birth = values;
  }
  return [PACKED_STATUS, ts, seq, boot, via, data, birth];
}

/**
 * The canonical payload of a packed status, the same object the link decoded (keys in the same
 * order, so every status shares one shape); undefined when `packed` is not a packed status. A
 * telemetry payload that is an array came packed: no other payload is one.
 */
export function unpackTelemetry(packed: Packed): TelemetryPayload | undefined {
  const parts = packedParts(packed);
  return parts === undefined ? undefined : unpackParts(parts);
}

/** The canonical payload of a packed status whose layout `packedParts` checked. */
export function unpackParts(parts: PackedParts): TelemetryPayload {
  const { status: d, birth: b } = parts;
  // Written out, not looped over a list of names: one object literal is one shape, made at once.
  const data: Record<keyof Status, unknown> = {
    running: d[0],
    floor: d[1],
    door: d[2],
    direction: d[3],
    hasPerson: d[4],
    brakeEngaged: d[5],
    safetyCircuitClosed: d[6],
    maintenance: d[7],
    faultCode: d[8],
    speed: d[9],
    load: d[10],
    temperature: d[11],
    motorAmps: d[12],
    levelingMm: d[13],
    positionMm: d[14],
    signalDbm: d[15],
    runCount: d[16],
    runSeconds: d[17],
    doorOpenCount: d[18],
  };
  const payload: { -readonly [K in keyof TelemetryPayload]: TelemetryPayload[K] } = { kind: 'status' };
  if (parts.ts !== null) payload.ts = parts.ts;
  if (parts.seq !== null) payload.seq = parts.seq;
  if (parts.boot !== null) payload.boot = parts.boot;
  payload.data = data;
  if (b !== null) {
    const birth: Record<string, unknown> = {
      model: b[0],
      firmware: b[1],
      registrationCode: b[2],
      buildingId: b[3],
      elevatorNo: b[4],
    };
    if (b[5] !== null) birth.camera = { serial: b[5], channel: b[6] };
    payload.birth = birth;
  }
  if (parts.via !== null) payload.via = parts.via;
  return payload;
}

/** A packed status's parts, once its layout is checked (`packedParts`). */
export interface PackedParts {
  /** Device time, null when the edge sent none. */
  readonly ts: number | null;
  readonly seq: number | null;
  readonly boot: string | null;
  readonly via: TelemetryPayload['via'] | null;
  /** The 19 status values, in `unpackParts`'s order. */
  readonly status: readonly unknown[];
  /** The birth values, or null. */
  readonly birth: readonly unknown[] | null;
}

/** The parts of a packed status, or undefined when `packed` is not one (what `unpackTelemetry` checks). */
export function packedParts(packed: readonly unknown[]): PackedParts | undefined {
  if (packed.length !== 7 || packed[0] !== PACKED_STATUS) return undefined;
  const d = packed[5];
  const b = packed[6];
  if (!Array.isArray(d) || d.length !== STATUS_VALUES) return undefined;
  if (b !== null && (!Array.isArray(b) || b.length !== BIRTH_STRINGS.length + 2)) return undefined;
  return {
    ts: packed[1] as number | null,
    seq: packed[2] as number | null,
    boot: packed[3] as string | null,
    via: packed[4] as TelemetryPayload['via'] | null,
    status: d,
    birth: b,
  };
}

/**
 * Lays a packed status's values over a held status, a value only where it differs: what unpacking
 * it and merging the object in would do, without the object (decision 071). Written out, field by
 * field in `unpackParts`'s order: named stores of one shape, where a loop over keys was a
 * megamorphic keyed load and store per field (edge/actor/telemetry.test.ts compares the two ways).
 */
export function mergePackedStatus(into: Record<string, unknown>, d: readonly unknown[]): void {
  if (into.running !== d[0]) into.running = d[0];
  if (into.floor !== d[1]) into.floor = d[1];
  if (into.door !== d[2]) into.door = d[2];
  if (into.direction !== d[3]) into.direction = d[3];
  if (into.hasPerson !== d[4]) into.hasPerson = d[4];
  if (into.brakeEngaged !== d[5]) into.brakeEngaged = d[5];
  if (into.safetyCircuitClosed !== d[6]) into.safetyCircuitClosed = d[6];
  if (into.maintenance !== d[7]) into.maintenance = d[7];
  if (into.faultCode !== d[8]) into.faultCode = d[8];
  if (into.speed !== d[9]) into.speed = d[9];
  if (into.load !== d[10]) into.load = d[10];
  if (into.temperature !== d[11]) into.temperature = d[11];
  if (into.motorAmps !== d[12]) into.motorAmps = d[12];
  if (into.levelingMm !== d[13]) into.levelingMm = d[13];
  if (into.positionMm !== d[14]) into.positionMm = d[14];
  if (into.signalDbm !== d[15]) into.signalDbm = d[15];
  if (into.runCount !== d[16]) into.runCount = d[16];
  if (into.runSeconds !== d[17]) into.runSeconds = d[17];
  if (into.doorOpenCount !== d[18]) into.doorOpenCount = d[18];
}

/** The same for a packed birth: its five strings, and its camera when it names one. */
export function mergePackedBirth(into: Record<string, unknown>, b: readonly unknown[]): void {
  if (into.model !== b[0]) into.model = b[0];
  if (into.firmware !== b[1]) into.firmware = b[1];
  if (into.registrationCode !== b[2]) into.registrationCode = b[2];
  if (into.buildingId !== b[3]) into.buildingId = b[3];
  if (into.elevatorNo !== b[4]) into.elevatorNo = b[4];
  if (b[5] === null) return;
  const camera = into.camera as { serial?: unknown; channel?: unknown } | undefined;
  if (camera?.serial !== b[5] || camera?.channel !== b[6]) into.camera = { serial: b[5], channel: b[6] };
}
