/**
 * The box's own health, as the agent reports it on the configured period: uptime, the agent's
 * CPU since the last report, free memory and disk, whether elenet and litefcccore are still
 * feeding it, and whether commands can reach it (its downlink subscription).
 */
import { statfs } from 'node:fs/promises';
import { freemem, uptime } from 'node:os';
import type { Health } from '../protocol/mod.ts';
import type { DownlinkState } from './uplink.ts';

/** A program that handed the agent nothing for this long counts as not alive. */
const ALIVE_MS = 60_000;

/** When each program last handed the agent something (ms). */
export interface LastInput {
  readonly elenet: number;
  readonly litefcccore: number;
}

export class HealthProbe {
  readonly #dataDir: string;
  #cpu = process.cpuUsage();
  #cpuAt = Date.now();

  /** `dataDir`: the disk whose free space is reported (the queue's). */
  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Measures now; the CPU share is the agent's since the previous measurement. */
  async measure(lastInput: LastInput, downlink: DownlinkState | undefined): Promise<Health> {
    const now = Date.now();
    const cpu = process.cpuUsage(this.#cpu);
    const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#cpuAt)) * 100);
    this.#cpu = process.cpuUsage();
    this.#cpuAt = now;
    const disk = await statfs(this.#dataDir).catch(() => undefined);
    const alive = (at: number) => now - at < ALIVE_MS;
    return {
      uptimeSeconds: Math.round(uptime()),
      cpuPercent,
      memoryFreeMb: Math.round(freemem() / 2 ** 20),
      diskFreeMb: disk ? Math.round((disk.bavail * disk.bsize) / 2 ** 20) : 0,
      elenetAlive: alive(lastInput.elenet),
      litefcccoreAlive: alive(lastInput.litefcccore),
      downlinkSubscribed: downlink?.subscribed ?? false,
      downlinkFailures: downlink?.failures ?? 0,
    };
  }
}
