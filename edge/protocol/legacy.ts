/**
 * Decoding what today's edges send over Kafka: verbose JSON from litefcccore (status, faults)
 * and elenet (detections), plus a heartbeat — ~25 fields with long keys, static fields repeated
 * in every status. Existing edges keep working unchanged; the hub rebuilds the same state as
 * from the compact format (see normalized.ts).
 */
import { describe, errorText, isIntIn, isName, isNumber, resultValue } from './checks.ts';
import { decodeCamera } from './clips.ts';
import { DecodeError } from './errors.ts';
import {
  INT_RANGE,
  MAX_ALARM_CHARS,
  MAX_DEVICE_MESSAGE_BYTES,
  SEQ_RANGE,
  TIMESTAMP_RANGE,
} from './limits.ts';
import { type DIRECTION, type DOOR, type HubMessage, round } from './normalized.ts';
import type { TelemetryPayload } from './payloads.ts';
import { decodeVisionRef } from './vision.ts';

type Json = Record<string, unknown>;

// Positional on purpose: called per field of every legacy message, where an options object per call would allocate.
function field<T>(body: Json, name: string, check: (v: unknown) => v is T, what: string): T {
  const value = body[name];
  if (!check(value))
    throw new DecodeError(
      'INVALID_FIELD',
      `${isName(body.msgType, 40) ? body.msgType : describe(body.msgType)}: ${name} must be ${what}, got ${describe(value)}`,
    );
  return value;
}
const isNum = isNumber;
const isInt = (v: unknown): v is number => isIntIn(v, INT_RANGE);
const isTimestamp = (v: unknown): v is number => isIntIn(v, TIMESTAMP_RANGE);
const isStr = (v: unknown): v is string => isName(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

const LEGACY_DOOR: Record<string, (typeof DOOR)[number]> = {
  closed: 'closed',
  open: 'open',
  opening: 'opening',
  closing: 'closing',
};
const LEGACY_DIRECTION: Record<string, (typeof DIRECTION)[number]> = {
  up: 'up',
  down: 'down',
  stop: 'idle',
  idle: 'idle',
};

// The checks of the legacy messages, made once: built per field of every message, they were two
// arrays and six closures a status.
const isRunning = oneOf(['running', 'stopped']);
const isDoor = oneOf(Object.keys(LEGACY_DOOR));
const isDirection = oneOf(Object.keys(LEGACY_DIRECTION));
const isBrake = oneOf(['engaged', 'released']);
const isCircuit = oneOf(['closed', 'open']);
const isPhase = oneOf(['start', 'end']);
const isFaultType = (v: unknown): v is string => isName(v, MAX_ALARM_CHARS, true);
const isCommandId = (v: unknown): v is string => isName(v, undefined, true);
const CAMERA_FIELDS = { serial: 'cameraSerial', channel: 'cameraChannel' } as const;

/** What every legacy message carries: its device time and, when numbered, its sequence. */
interface Head {
  readonly ts: number;
  readonly tracked: { seq?: number; boot?: string };
}

/** One telemetry message of `kind`: the head's time and sequence, the decoded fields. */
function telemetry(
  kind: 'status' | 'vision' | 'heartbeat',
  { ts, tracked }: Head,
  data: Record<string, unknown>,
  birth?: Record<string, unknown>,
): HubMessage[] {
  const payload: { -readonly [K in keyof TelemetryPayload]: TelemetryPayload[K] } = {
    kind,
    ts,
    ...tracked,
    data,
  };
  if (birth !== undefined) payload.birth = birth; // set in place: legacy status, the commonest message, has one
  return [{ method: 'telemetry', payload }];
}

function decodeStatus(b: Json, head: Head): HubMessage[] {
  return telemetry(
    'status',
    head,
    {
      running: field(b, 'runningStatus', isRunning, '"running" or "stopped"') === 'running',
      floor: field(b, 'currentFloor', isInt, 'an integer'),
      door: LEGACY_DOOR[field(b, 'doorStatus', isDoor, 'a door state')]!,
      direction: LEGACY_DIRECTION[field(b, 'direction', isDirection, 'a direction')]!,
      hasPerson: field(b, 'hasPerson', isBool, 'a boolean'),
      brakeEngaged: field(b, 'brakeStatus', isBrake, 'a brake state') === 'engaged',
      safetyCircuitClosed: field(b, 'safetyCircuit', isCircuit, 'a circuit state') === 'closed',
      maintenance: field(b, 'maintenanceMode', isBool, 'a boolean'),
      faultCode: field(b, 'controllerFaultCode', isInt, 'an integer'),
      speed: round(field(b, 'speedMetersPerSecond', isNum, 'a number'), 2),
      load: Math.round(field(b, 'loadPercent', isNum, 'a number')),
      temperature: round(field(b, 'cabinTemperature', isNum, 'a number'), 1),
      motorAmps: round(field(b, 'motorCurrentAmps', isNum, 'a number'), 1),
      levelingMm: field(b, 'levelingAccuracyMm', isInt, 'an integer'),
      positionMm: field(b, 'carPositionMm', isInt, 'an integer'),
      signalDbm: field(b, 'networkSignalDbm', isInt, 'an integer'),
      runCount: field(b, 'totalRunCount', isInt, 'an integer'),
      runSeconds: field(b, 'totalRunSeconds', isInt, 'an integer'),
      doorOpenCount: field(b, 'totalDoorOpenCount', isInt, 'an integer'),
    },
    {
      model: field(b, 'deviceModel', isStr, 'a string'),
      firmware: field(b, 'firmwareVersion', isStr, 'a string'),
      registrationCode: field(b, 'registrationCode', isStr, 'a string'),
      buildingId: field(b, 'buildingId', isStr, 'a string'),
      elevatorNo: field(b, 'elevatorNo', isStr, 'a string'),
      // Only an edge that knows its camera sends it.
      ...decodeCamera(b.cameraSerial, b.cameraChannel, CAMERA_FIELDS),
    },
  );
}

function decodeDetection(b: Json, head: Head): HubMessage[] {
  return telemetry('vision', head, {
    ebike: field(b, 'ebikeDetected', isBool, 'a boolean'),
    doorBlocked: field(b, 'doorBlocked', isBool, 'a boolean'),
  });
}

function decodeHeartbeat(b: Json, head: Head): HubMessage[] {
  return telemetry('heartbeat', head, {
    uptimeSeconds: field(b, 'uptimeSeconds', isInt, 'an integer'),
    cpuPercent: field(b, 'cpuPercent', isNum, 'a number'),
    memoryFreeMb: field(b, 'memoryFreeMb', isNum, 'a number'),
    diskFreeMb: field(b, 'diskFreeMb', isNum, 'a number'),
    elenetAlive: field(b, 'elenetAlive', isBool, 'a boolean'),
    litefcccoreAlive: field(b, 'litefcccoreAlive', isBool, 'a boolean'),
  });
}

function decodeFault(b: Json, { ts, tracked }: Head): HubMessage[] {
  return [
    {
      method: 'alarm',
      payload: {
        alarm: field(b, 'faultType', isFaultType, 'a fault type'),
        phase: field(b, 'faultStatus', isPhase, '"start" or "end"'),
        ts,
        ...tracked,
        data: {
          floor: field(b, 'currentFloor', isInt, 'an integer'),
          // A vision alarm's start names its event and how many frames the edge uploads.
          ...decodeVisionRef(b.eventId, b.frames, { eventId: 'fault: eventId', frames: 'fault: frames' }),
        },
      },
    },
  ];
}

function decodeCommandResult(b: Json): HubMessage[] {
  const ok = field(b, 'success', isBool, 'a boolean');
  return [
    {
      method: 'commandResult',
      payload: {
        id: field(b, 'commandId', isCommandId, 'a command id'),
        ok,
        ...(ok
          ? b.result === undefined
            ? {}
            : { result: resultValue(b.result, 'result') }
          : { error: errorText(b.errorMessage, 'failed') }),
      },
    },
  ];
}

/** The decoder of each msgType (a Map: a msgType such as "constructor" is just unknown). */
const DECODERS = new Map<unknown, (b: Json, head: Head) => HubMessage[]>([
  ['elevatorStatus', decodeStatus],
  ['detection', decodeDetection],
  ['heartbeat', decodeHeartbeat],
  ['fault', decodeFault],
  ['commandResult', decodeCommandResult],
]);

/** The message as a JSON object from `edgeId`: size, syntax and the device it names checked. */
function parseBody(raw: string | Uint8Array, edgeId: string): Json {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > MAX_DEVICE_MESSAGE_BYTES)
    throw new DecodeError('TOO_LARGE', `message of ${size} bytes, limit ${MAX_DEVICE_MESSAGE_BYTES}`);
  let body: unknown;
  try {
    // A view of the bytes, not a copy (Buffer.from of a Uint8Array copies).
    body = JSON.parse(
      typeof raw === 'string'
        ? raw
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'),
    );
  } catch {
    throw new DecodeError('NOT_JSON', 'legacy message is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new DecodeError('NOT_JSON', 'legacy message is not a JSON object');
  const b = body as Json;
  if (b.deviceId !== edgeId)
    throw new DecodeError(
      'EDGE_MISMATCH',
      `message names device ${describe(b.deviceId)} but came from ${edgeId}`,
    );
  return b;
}

/**
 * Decodes one legacy message. `edgeId` is the Kafka key (or topic) it came under: a body that
 * names another device is refused, so an edge cannot speak for another.
 */
export function decodeLegacy(raw: string | Uint8Array, edgeId: string): HubMessage[] {
  const b = parseBody(raw, edgeId);
  const ts = field(
    b,
    'timestamp',
    isTimestamp,
    `a timestamp in ms ${TIMESTAMP_RANGE.min}..${TIMESTAMP_RANGE.max}`,
  );
  // Optional sequence tracking (firmware that numbers its messages since boot): lost and repeated
  // messages are counted and repeats applied once, as for the compact format.
  const tracked =
    isIntIn(b.seqNo, SEQ_RANGE) && b.seqNo > 0 && isStr(b.bootId) ? { seq: b.seqNo, boot: b.bootId } : {};
  const decode = DECODERS.get(b.msgType);
  if (decode === undefined) throw new DecodeError('UNKNOWN_TYPE', `unknown msgType ${describe(b.msgType)}`);
  return decode(b, { ts, tracked });
}
