/**
 * What the hub keeps of an edge, whatever format it arrived in: canonical field names and units,
 * the same from the legacy JSON and from the compact format. Decoders produce `HubMessage`s, the
 * edge actor's methods and payloads.
 */
import type { ClipCamera } from './clips.ts';
import type { AlarmPayload, CommandResultPayload, TelemetryPayload, UpdateStatePayload } from './payloads.ts';

export type HubMessage =
  | { readonly method: 'telemetry'; readonly payload: TelemetryPayload }
  | { readonly method: 'alarm'; readonly payload: AlarmPayload }
  | { readonly method: 'commandResult'; readonly payload: CommandResultPayload }
  | { readonly method: 'updateState'; readonly payload: UpdateStatePayload };

/** Door states, direction: the values the canonical status uses. */
export const DOOR = ['closed', 'open', 'opening', 'closing'] as const;
export const DIRECTION = ['idle', 'up', 'down'] as const;

/** The canonical status: event fields (exact), measured fields (deadbanded), counters. */
export interface Status {
  running: boolean;
  floor: number;
  door: (typeof DOOR)[number];
  direction: (typeof DIRECTION)[number];
  hasPerson: boolean;
  brakeEngaged: boolean;
  safetyCircuitClosed: boolean;
  maintenance: boolean;
  faultCode: number;
  /** m/s, 2 decimals. */
  speed: number;
  /** % of rated load. */
  load: number;
  /** °C, 1 decimal. */
  temperature: number;
  /** A, 1 decimal. */
  motorAmps: number;
  levelingMm: number;
  positionMm: number;
  signalDbm: number;
  runCount: number;
  runSeconds: number;
  doorOpenCount: number;
}

/** Fields of a status that change with events and are sent on every change. */
export const STATUS_EVENT_FIELDS = [
  'running',
  'floor',
  'door',
  'direction',
  'hasPerson',
  'brakeEngaged',
  'safetyCircuitClosed',
  'maintenance',
  'faultCode',
] as const satisfies readonly (keyof Status)[];

/** Static facts about the edge, sent once in a birth message and on change. */
export interface Birth {
  model: string;
  firmware: string;
  registrationCode: string;
  buildingId: string;
  elevatorNo: string;
  /** The Ezviz camera filming the car, when the edge knows it (else its configuration names it). */
  camera?: ClipCamera;
}

/** What the image recognition reports as state (start/end events in the compact format). */
export interface Vision {
  ebike: boolean;
  doorBlocked: boolean;
}

/** An alarm as the controller reports it: which one, starting or ending, and the car's floor. */
export interface AlarmReading {
  alarm: string;
  phase: 'start' | 'end';
  floor: number;
}

export interface Health {
  uptimeSeconds: number;
  cpuPercent: number;
  memoryFreeMb: number;
  diskFreeMb: number;
  elenetAlive: boolean;
  litefcccoreAlive: boolean;
  /** The agent's downlink subscription is granted (commands can arrive); absent from older agents. */
  downlinkSubscribed?: boolean;
  /** Downlink subscription attempts the broker refused since the agent connected to it. */
  downlinkFailures?: number;
}

export const round = (value: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
};
