/**
 * Which loopback address a simulated edge connects from. Tens of thousands of connections from
 * one address to one broker listener make each connect() slow: the kernel looks for a free
 * ephemeral port for that pair by walking the range, and once about half of it is taken the walk
 * grows with every connection (a probe here: ~40 µs of system time a connect up to 12,000
 * connections, 370 µs at 12,000–15,000, 1,270 µs at 15,000–18,000). In a reconnect storm of a
 * whole shard that is tens of CPU-seconds. Every address in 127.0.0.0/8 reaches the loopback
 * broker, and each has its own ports: edge i connects from its own address, so no walk is long.
 */

/** 127.1.0.0 up to 127.64.255.255: one address per edge for the first 4,194,304 edges, then again from the start. */
export function loopbackSourceOf(index: number): string {
  const n = index % (1 << 22);
  return `127.${1 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Edge `index`'s source address for a broker at `url`: its own loopback address when the broker is on 127.0.0.0/8, else none (the system picks). */
export function sourceAddressFor(url: string, index: number): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ? loopbackSourceOf(index) : undefined;
}
