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

/** Throws the error of field `name` of `b`, which failed its check. */
function invalid(b: Json, name: string, what: string): never {
  throw new DecodeError(
    'INVALID_FIELD',
    `${isName(b.msgType, 40) ? b.msgType : describe(b.msgType)}: ${name} must be ${what}, got ${describe(b[name])}`,
  );
}

/**
 * `value`, field `name` of `b`, when it passes `check`. The caller reads it by name (`b.floor`): a
 * load of one shape at each call site, where `b[name]` in here was a keyed load of every field of
 * every message type (−1 µs a legacy status, a fifth of its decoding). Positional on purpose: called
 * per field of every legacy message, where an options object per call would allocate.
 */
function at<T>(value: unknown, check: (v: unknown) => v is T, b: Json, name: string, what: string): T {
  return check(value) ? value : invalid(b, name, what);
}

const isNum = isNumber;
const isInt = (v: unknown): v is number => isIntIn(v, INT_RANGE);
const isTimestamp = (v: unknown): v is number => isIntIn(v, TIMESTAMP_RANGE);
// Built once: every legacy message passes it to the timestamp's check.
const TIMESTAMP_WHAT = `a timestamp in ms ${TIMESTAMP_RANGE.min}..${TIMESTAMP_RANGE.max}`;
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
      running: at(b.runningStatus, isRunning, b, 'runningStatus', '"running" or "stopped"') === 'running',
      floor: at(b.currentFloor, isInt, b, 'currentFloor', 'an integer'),
      door: LEGACY_DOOR[at(b.doorStatus, isDoor, b, 'doorStatus', 'a door state')]!,
      direction: LEGACY_DIRECTION[at(b.direction, isDirection, b, 'direction', 'a direction')]!,
      hasPerson: at(b.hasPerson, isBool, b, 'hasPerson', 'a boolean'),
      brakeEngaged: at(b.brakeStatus, isBrake, b, 'brakeStatus', 'a brake state') === 'engaged',
      safetyCircuitClosed: at(b.safetyCircuit, isCircuit, b, 'safetyCircuit', 'a circuit state') === 'closed',
      maintenance: at(b.maintenanceMode, isBool, b, 'maintenanceMode', 'a boolean'),
      faultCode: at(b.controllerFaultCode, isInt, b, 'controllerFaultCode', 'an integer'),
      speed: round(at(b.speedMetersPerSecond, isNum, b, 'speedMetersPerSecond', 'a number'), 2),
      load: Math.round(at(b.loadPercent, isNum, b, 'loadPercent', 'a number')),
      temperature: round(at(b.cabinTemperature, isNum, b, 'cabinTemperature', 'a number'), 1),
      motorAmps: round(at(b.motorCurrentAmps, isNum, b, 'motorCurrentAmps', 'a number'), 1),
      levelingMm: at(b.levelingAccuracyMm, isInt, b, 'levelingAccuracyMm', 'an integer'),
      positionMm: at(b.carPositionMm, isInt, b, 'carPositionMm', 'an integer'),
      signalDbm: at(b.networkSignalDbm, isInt, b, 'networkSignalDbm', 'an integer'),
      runCount: at(b.totalRunCount, isInt, b, 'totalRunCount', 'an integer'),
      runSeconds: at(b.totalRunSeconds, isInt, b, 'totalRunSeconds', 'an integer'),
      doorOpenCount: at(b.totalDoorOpenCount, isInt, b, 'totalDoorOpenCount', 'an integer'),
    },
    {
      model: at(b.deviceModel, isStr, b, 'deviceModel', 'a string'),
      firmware: at(b.firmwareVersion, isStr, b, 'firmwareVersion', 'a string'),
      registrationCode: at(b.registrationCode, isStr, b, 'registrationCode', 'a string'),
      buildingId: at(b.buildingId, isStr, b, 'buildingId', 'a string'),
      elevatorNo: at(b.elevatorNo, isStr, b, 'elevatorNo', 'a string'),
      // Only an edge that knows its camera sends it.
      ...decodeCamera(b.cameraSerial, b.cameraChannel, CAMERA_FIELDS),
    },
  );
}

function decodeDetection(b: Json, head: Head): HubMessage[] {
  return telemetry('vision', head, {
    ebike: at(b.ebikeDetected, isBool, b, 'ebikeDetected', 'a boolean'),
    doorBlocked: at(b.doorBlocked, isBool, b, 'doorBlocked', 'a boolean'),
  });
}

function decodeHeartbeat(b: Json, head: Head): HubMessage[] {
  return telemetry('heartbeat', head, {
    uptimeSeconds: at(b.uptimeSeconds, isInt, b, 'uptimeSeconds', 'an integer'),
    cpuPercent: at(b.cpuPercent, isNum, b, 'cpuPercent', 'a number'),
    memoryFreeMb: at(b.memoryFreeMb, isNum, b, 'memoryFreeMb', 'a number'),
    diskFreeMb: at(b.diskFreeMb, isNum, b, 'diskFreeMb', 'a number'),
    elenetAlive: at(b.elenetAlive, isBool, b, 'elenetAlive', 'a boolean'),
    litefcccoreAlive: at(b.litefcccoreAlive, isBool, b, 'litefcccoreAlive', 'a boolean'),
  });
}

function decodeFault(b: Json, { ts, tracked }: Head): HubMessage[] {
  return [
    {
      method: 'alarm',
      payload: {
        alarm: at(b.faultType, isFaultType, b, 'faultType', 'a fault type'),
        phase: at(b.faultStatus, isPhase, b, 'faultStatus', '"start" or "end"'),
        ts,
        ...tracked,
        data: {
          floor: at(b.currentFloor, isInt, b, 'currentFloor', 'an integer'),
          // A vision alarm's start names its event and how many frames the edge uploads.
          ...decodeVisionRef(b.eventId, b.frames, { eventId: 'fault: eventId', frames: 'fault: frames' }),
        },
      },
    },
  ];
}

function decodeCommandResult(b: Json): HubMessage[] {
  const ok = at(b.success, isBool, b, 'success', 'a boolean');
  return [
    {
      method: 'commandResult',
      payload: {
        id: at(b.commandId, isCommandId, b, 'commandId', 'a command id'),
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
  const ts = at(b.timestamp, isTimestamp, b, 'timestamp', TIMESTAMP_WHAT);
  // Optional sequence tracking (firmware that numbers its messages since boot): lost and repeated
  // messages are counted and repeats applied once, as for the compact format.
  const tracked =
    isIntIn(b.seqNo, SEQ_RANGE) && b.seqNo > 0 && isStr(b.bootId) ? { seq: b.seqNo, boot: b.bootId } : {};
  const decode = DECODERS.get(b.msgType);
  if (decode === undefined) throw new DecodeError('UNKNOWN_TYPE', `unknown msgType ${describe(b.msgType)}`);
  return decode(b, { ts, tracked });
}
