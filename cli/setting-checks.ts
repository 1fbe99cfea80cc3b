/**
 * The vocabulary of the settings schema (cli/settings.ts): what a setting is, the commands that
 * read settings, and the value checks each setting names.
 */

import { isIP } from 'node:net';

export type CommandName =
  | 'node'
  | 'link'
  | 'gateway'
  | 'simulate'
  | 'demo'
  | 'cluster'
  | 'agent'
  | 'clips'
  | 'recognize';

export interface Setting {
  readonly name: string;
  /** The commands that read it. */
  readonly commands: readonly CommandName[];
  readonly doc: string;
  /** Why `value` is refused, or undefined when it is fine. */
  check(value: string): string | undefined;
  /** For an integer setting, the values it takes (flags of the same name take the same). */
  readonly range?: readonly [number, number];
}

const int =
  (min: number, max: number) =>
  (value: string): string | undefined =>
    /^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `expected an integer ${min}..${max}`;

export const ranged = (min: number, max: number) => ({ range: [min, max] as const, check: int(min, max) });

export const oneOf =
  (...values: string[]) =>
  (value: string): string | undefined =>
    values.includes(value) ? undefined : `expected one of ${values.join(', ')}`;

export const url =
  (...protocols: string[]) =>
  (value: string): string | undefined => {
    if (protocols.includes('redis+cluster:') && value.startsWith('redis+cluster://')) {
      return /^redis\+cluster:\/\/([^@/]*@)?[^,/:]+:\d+(,[^,/:]+:\d+)*\/?$/.test(value)
        ? undefined
        : 'expected redis+cluster://host:port,host:port,…';
    }
    try {
      const parsed = new URL(value);
      return protocols.includes(parsed.protocol) ? undefined : `expected a ${protocols.join(' or ')} URL`;
    } catch {
      return `expected a ${protocols.join(' or ')} URL`;
    }
  };

export const hostPorts = (value: string): string | undefined =>
  value.split(',').every((hp) => /^[A-Za-z0-9_.-]+:\d{1,5}$/.test(hp))
    ? undefined
    : 'expected host:port,host:port,…';

/**
 * A comma-separated list of IP addresses and CIDR ranges (what the gateway's TrustedProxies takes;
 * checked here with node:net alone, so the settings table loads none of the gateway).
 */
export const addressRanges = (value: string): string | undefined => {
  for (const entry of value.split(',').map((e) => e.trim())) {
    const [address = '', prefix] = entry.split('/', 2);
    const family = isIP(address);
    const bits = family === 6 ? 128 : 32;
    if (family === 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits)))
      return `not an address or CIDR range: ${entry}`;
  }
  return undefined;
};

export const nonEmpty = (value: string): string | undefined =>
  value.trim() === '' ? 'must not be empty' : undefined;

export const flag = oneOf('0', '1');

export const ALL: readonly CommandName[] = [
  'node',
  'link',
  'gateway',
  'simulate',
  'demo',
  'cluster',
  'agent',
  'clips',
  'recognize',
];
export const HUB: readonly CommandName[] = [
  'node',
  'link',
  'gateway',
  'demo',
  'cluster',
  'clips',
  'recognize',
];
