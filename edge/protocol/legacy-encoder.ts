/**
 * Writing today's verbose JSON from canonical values: what the simulator's legacy edges send,
 * and the fixtures of legacy decoding. The inverse of legacy.ts.
 */
import type { AlarmReading, Birth, Health, Status, Vision } from './normalized.ts';

/** Who sends a legacy message and when: every legacy message carries both. */
export interface LegacyHeader {
  readonly edgeId: string;
  /** The message's timestamp (ms). */
  readonly ts: number;
}

/** An `elevatorStatus` message: the reading and the birth facts it repeats. */
export interface LegacyStatus extends LegacyHeader {
  readonly status: Status;
  readonly birth: Birth;
}

/** A `detection` message: the vision state and how many people the camera sees. */
export interface LegacyDetection extends LegacyHeader {
  readonly vision: Vision;
  readonly peopleCount: number;
}

/** A `heartbeat` message: the health figures and the firmware version. */
export interface LegacyHeartbeat extends LegacyHeader {
  readonly health: Health;
  readonly firmware: string;
}

/** A `fault` message: an alarm starting or ending. */
export interface LegacyFault extends LegacyHeader, Readonly<AlarmReading> {
  /** A vision alarm's start: its event id and how many candidate frames the edge uploads (1..4). */
  readonly eventId?: string;
  readonly frames?: number;
}

export function legacyStatus(message: LegacyStatus): string {
  const { edgeId, ts, status: s, birth } = message;
  return JSON.stringify({
    msgType: 'elevatorStatus',
    deviceId: edgeId,
    deviceModel: birth.model,
    firmwareVersion: birth.firmware,
    registrationCode: birth.registrationCode,
    buildingId: birth.buildingId,
    elevatorNo: birth.elevatorNo,
    ...(birth.camera === undefined
      ? {}
      : { cameraSerial: birth.camera.serial, cameraChannel: birth.camera.channel }),
    timestamp: ts,
    runningStatus: s.running ? 'running' : 'stopped',
    currentFloor: s.floor,
    doorStatus: s.door,
    direction: s.direction === 'idle' ? 'stop' : s.direction,
    speedMetersPerSecond: s.speed,
    hasPerson: s.hasPerson,
    loadPercent: s.load,
    totalRunCount: s.runCount,
    totalRunSeconds: s.runSeconds,
    totalDoorOpenCount: s.doorOpenCount,
    cabinTemperature: s.temperature,
    brakeStatus: s.brakeEngaged ? 'engaged' : 'released',
    safetyCircuit: s.safetyCircuitClosed ? 'closed' : 'open',
    maintenanceMode: s.maintenance,
    levelingAccuracyMm: s.levelingMm,
    carPositionMm: s.positionMm,
    motorCurrentAmps: s.motorAmps,
    controllerFaultCode: s.faultCode,
    networkSignalDbm: s.signalDbm,
  });
}

export function legacyDetection(message: LegacyDetection): string {
  const { edgeId, ts, vision: v, peopleCount } = message;
  return JSON.stringify({
    msgType: 'detection',
    deviceId: edgeId,
    timestamp: ts,
    peopleCount,
    ebikeDetected: v.ebike,
    doorBlocked: v.doorBlocked,
    boxes: Array.from({ length: Math.min(peopleCount, 3) }, (_, i) => ({
      x: 120 + 90 * i,
      y: 80,
      w: 60,
      h: 140,
      label: 'person',
      score: 0.9,
    })),
    modelVersion: 'elenet-2.4.1',
    cameraId: `CAM-${edgeId}`,
  });
}

export function legacyHeartbeat(message: LegacyHeartbeat): string {
  const { edgeId, ts, health: h, firmware } = message;
  return JSON.stringify({
    msgType: 'heartbeat',
    deviceId: edgeId,
    timestamp: ts,
    ...h,
    firmwareVersion: firmware,
  });
}

/** A legacy message with the optional sequence fields some firmware adds (seqNo since bootId). */
export function withSequence(json: string, seqNo: number, bootId: string): string {
  return `${json.slice(0, -1)},"seqNo":${seqNo},"bootId":${JSON.stringify(bootId)}}`;
}

/** A legacy edge's answer to a command. */
export function legacyCommandResult(
  edgeId: string,
  ts: number,
  result: { id: string; ok: boolean; result?: unknown; error?: string },
): string {
  return JSON.stringify({
    msgType: 'commandResult',
    deviceId: edgeId,
    timestamp: ts,
    commandId: result.id,
    success: result.ok,
    ...(result.ok ? { result: result.result ?? null } : { errorMessage: result.error ?? 'failed' }),
  });
}

const FAULT_TEXT: Record<string, string> = {
  trapped: '困人',
  overTop: '冲顶',
  bottomSqueeze: '蹲底',
  doorOpenMoving: '开门走车',
  overspeed: '超速',
  ebike: '助动车',
  smoke: '烟雾',
};

export function legacyFault(message: LegacyFault): string {
  const { edgeId, ts, alarm, phase, floor, eventId, frames } = message;
  return JSON.stringify({
    msgType: 'fault',
    deviceId: edgeId,
    timestamp: ts,
    faultId: `F-${edgeId}-${alarm}-${Math.floor(ts / 1000)}`,
    faultType: alarm,
    faultStatus: phase,
    currentFloor: floor,
    description: FAULT_TEXT[alarm] ?? alarm,
    ...(eventId === undefined ? {} : { eventId }),
    ...(frames === undefined ? {} : { frames }),
  });
}
