/**
 * Every environment variable a DeviceHub process reads, in one schema: which commands read it,
 * what it means and what values it takes. `checkEnvironment` runs at start-up of each command
 * (cli/devicehub.ts), so a bad value or a misspelt `DH_` name stops the process with an error
 * naming the variable, instead of a default silently taking its place; the compose-file test
 * checks every service's environment against the same schema.
 */

import { ConfigError } from '../actors/errors.ts';
import { AGENT_SETTINGS } from './agent-settings.ts';
import { CLIPS_SETTINGS } from './clips-settings.ts';
import { GATEWAY_SETTINGS } from './gateway-settings.ts';
import { HUB_SETTINGS } from './hub-settings.ts';
import { RECOGNIZE_SETTINGS } from './recognize-settings.ts';
import type { CommandName, Setting } from './setting-checks.ts';

export type { CommandName, Setting } from './setting-checks.ts';

// The one configuration error (actors/errors.ts, a file without imports); re-exported for callers
// of checkEnvironment, which sets its `variable`.
export { ConfigError };

/** Every setting, hub side first (the order `Unknown setting` errors list them in). */
export const SETTINGS: readonly Setting[] = [
  ...HUB_SETTINGS,
  ...GATEWAY_SETTINGS,
  ...CLIPS_SETTINGS,
  ...RECOGNIZE_SETTINGS,
  ...AGENT_SETTINGS,
];

const byName = new Map(SETTINGS.map((s) => [s.name, s]));

/** The values an integer setting takes (cli/config.ts checks its flag against the same). */
export function intRange(name: string): readonly [number, number] {
  const range = byName.get(name)?.range;
  if (range === undefined) throw new Error(`${name} is not an integer setting in cli/settings.ts`);
  return range;
}

/**
 * Checks the environment a command starts with: every known setting it reads must be valid,
 * and a `DH_` variable that this command does not read is refused (a misspelling would
 * otherwise be ignored). Throws ConfigError naming the variable.
 */
export function checkEnvironment(command: CommandName, env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue; // unset (compose writes `${X:-}` as '')
    const setting = byName.get(name);
    if (setting === undefined) {
      if (name.startsWith('DH_') && !IGNORED.has(name)) {
        const known = SETTINGS.filter((s) => s.commands.includes(command) && s.name.startsWith('DH_'));
        throw new ConfigError(
          `Unknown setting ${name} for devicehub ${command}; it reads ${known.map((s) => s.name).join(', ')}`,
          { variable: name },
        );
      }
      continue;
    }
    if (!setting.commands.includes(command)) continue; // another command's: harmless here
    const problem = setting.check(value);
    if (problem !== undefined) {
      throw new ConfigError(`Invalid ${name}=${JSON.stringify(value)}: ${problem} (${setting.doc})`, {
        variable: name,
      });
    }
  }
}

/** `DH_` variables read by the tooling rather than the commands (tests, benchmarks, profiling). */
const IGNORED = new Set([
  'DH_NODE_ARGS',
  'DH_GATEWAY_ARGS',
  'DH_LINK_ARGS',
  'DH_SIM_ARGS',
  'DH_TEST_ARTIFACTS',
]);
