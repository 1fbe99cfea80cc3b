/**
 * One elevator's canonical status and birth facts, for the tests that encode, decode, pack or
 * apply them (legacy.test.ts's hand-written field capture holds the same values).
 */
import type { Birth, Status } from '../normalized.ts';

export const SAMPLE_BIRTH: Birth = {
  model: 'RV1126-ELEV',
  firmware: '3.2.14',
  registrationCode: '3110000000000123',
  buildingId: 'B-0007',
  elevatorNo: 'A2',
};

export const SAMPLE_STATUS: Status = {
  running: true,
  floor: 7,
  door: 'closed',
  direction: 'up',
  hasPerson: true,
  brakeEngaged: false,
  safetyCircuitClosed: true,
  maintenance: false,
  faultCode: 0,
  speed: 1.5,
  load: 36,
  temperature: 24.5,
  motorAmps: 12.4,
  levelingMm: 3,
  positionMm: 18000,
  signalDbm: -67,
  runCount: 100123,
  runSeconds: 3600123,
  doorOpenCount: 50012,
};
