/**
 * The legacy reference workload of ../shared/docs/workload.md, as telemetry for edge actors:
 * per edge, status at 1 Hz (~25 fields), vision detections every 5 s, a heartbeat every 10 s
 * — 1.3 messages per second per edge. Message sizes (payload JSON with envelope) are close to
 * the workload's: status ≈ 560 B, vision ≈ 345 B, heartbeat ≈ 195 B.
 */
export const LEGACY_RATE_PER_EDGE = 1.3;

export type LegacyKind = 'status' | 'vision' | 'heartbeat';

/** What an edge sends in second `second` of its schedule (phase spreads edges over time). */
export function legacyScheduleAt(second: number): LegacyKind[] {
  const kinds: LegacyKind[] = ['status'];
  if (second % 5 === 0) kinds.push('vision');
  if (second % 10 === 0) kinds.push('heartbeat');
  return kinds;
}

export function legacyData(kind: LegacyKind, edge: number, second: number): Record<string, unknown> {
  switch (kind) {
    case 'status': {
      const floor = 1 + ((second >> 4) % 18);
      return {
        runningStatus: second % 7 === 0 ? 'stopped' : 'running',
        currentFloor: floor,
        doorStatus: second % 9 < 2 ? 'open' : 'closed',
        direction: second % 32 < 16 ? 'up' : 'down',
        speed: 1.5,
        hasPerson: second % 3 === 0,
        loadPercent: (second * 7 + edge) % 100,
        totalRunCount: 100_000 + second,
        totalRunSeconds: 3_600_000 + second,
        doorOpenCount: 50_000 + (second >> 3),
        cabinTemperature: 24.5,
        brakeStatus: 'released',
        safetyCircuit: 'closed',
        maintenance: false,
        levelingMm: 3,
        positionMm: floor * 3000,
        motorAmps: 12.4,
        faultCode: 0,
        signalDbm: -67,
        deviceModel: 'RV1126-ELEV',
        firmwareVersion: '3.2.14',
        registrationCode: `31101234${String(edge).padStart(8, '0')}`,
        buildingId: 'B-0007',
        elevatorNo: 'A2',
      };
    }
    case 'vision':
      return {
        peopleCount: second % 4,
        ebikeDetected: false,
        doorBlocked: false,
        boxes: [
          { x: 120, y: 80, w: 60, h: 140, label: 'person', score: 0.93 },
          { x: 260, y: 90, w: 55, h: 130, label: 'person', score: 0.88 },
        ],
        modelVersion: 'elenet-2.4.1',
        cameraId: `CAM-${edge}`,
        frameTimestamp: second * 1000,
      };
    case 'heartbeat':
      return {
        uptimeSeconds: second,
        cpuPercent: 37,
        memoryFreeMb: 212,
        diskFreeMb: 1480,
        elenetAlive: true,
        litefcccoreAlive: true,
      };
  }
}
