/**
 * The kernel's TCP counters of this host (`/proc/net/netstat`, TcpExt): how many connection
 * attempts a listener's full accept queue refused (ListenOverflows, ListenDrops) and how many
 * SYNs clients sent again (TCPSynRetrans). Read before and after the reconnect storm, their
 * difference says whether the brokers' accept queues (mosquitto listens with a backlog of 100)
 * turned edges away. The counters are the whole network namespace's: on this benchmark's
 * loopback-only box, the storm is nearly all of it.
 */
import { readFileSync } from 'node:fs';

export interface TcpCounters {
  readonly listenOverflows: number;
  readonly listenDrops: number;
  readonly synRetrans: number;
}

/** The counters now, or undefined where /proc/net/netstat is not there (not Linux). */
export function readTcpCounters(): TcpCounters | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/netstat', 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const get = (name: string) => Number(values[names.indexOf(name)] ?? Number.NaN);
  return {
    listenOverflows: get('ListenOverflows'),
    listenDrops: get('ListenDrops'),
    synRetrans: get('TCPSynRetrans'),
  };
}

/** `after` less `before`, each counter. */
export function tcpCountersSince(before: TcpCounters, after: TcpCounters): TcpCounters {
  return {
    listenOverflows: after.listenOverflows - before.listenOverflows,
    listenDrops: after.listenDrops - before.listenDrops,
    synRetrans: after.synRetrans - before.synRetrans,
  };
}
