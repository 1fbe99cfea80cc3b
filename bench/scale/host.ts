/**
 * What this host allows a fleet (open files per process, the local port range, cores, memory) and
 * what a process holds (resident memory), read from /proc: the limits the scale benchmark prints.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { openFileCap } from '../../infra/mod.ts';

export interface HostLimits {
  readonly openFilesSoft: number;
  readonly openFilesHard: number;
  /** net.ipv4.ip_local_port_range: ephemeral ports per (source, destination) pair. */
  readonly portRange: [number, number];
  readonly cores: number;
  readonly memoryGb: number;
}

export function hostLimits(): HostLimits {
  const { soft, hard } = openFileCap();
  const [low = 0, high = 0] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  return {
    openFilesSoft: soft,
    openFilesHard: hard,
    portRange: [low, high],
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

/** Resident memory of `pid` in MiB (0 when it is gone). */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0;
  }
}
