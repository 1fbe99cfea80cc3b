/**
 * The agent stands alone: loading it (edge/agent/mod.ts), or the `devicehub agent` command that
 * runs it, loads no hub module and none of the hub's servers' clients. The module graph is the one
 * Node really resolves (a resolve hook in a child process records every URL), so an
 * `import { type X }` that survives type stripping, or a module further down that pulls in the
 * hub, fails here just as a direct import would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TS_NODE_ARGS } from '../../infra/ts-node-args.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HUB_FOLDERS = ['actors/', 'bus/', 'gateway/', 'cli/', 'infra/', 'bench/'];
const HUB_PACKAGES = ['ioredis', 'bullmq', 'hono', '@hono', 'drizzle-orm', '@electric-sql', 'postgres'];

// Records every URL the loader resolves (run before tsx's hooks, after them in the chain).
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, result.url + '\\n');
  return result;
}`;

/** The files of this repository and the packages that running `args` (after tsx) loads. */
function moduleGraph(args: readonly string[]): { files: string[]; packages: string[]; all: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'dh-graph-'));
  const out = join(dir, 'urls.txt');
  writeFileSync(out, '');
  const register = join(dir, 'register.mjs');
  writeFileSync(
    register,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)}, { data: { out: ${JSON.stringify(out)} } });\n`,
  );
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(
    process.execPath,
    [...TS_NODE_ARGS, '--import', pathToFileURL(register).href, ...args],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(run.status, 0, `node ${args.join(' ')} failed: ${run.stderr}`);
  const all = [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))];
  const local = all
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u))
    .filter((p) => p.startsWith(ROOT));
  const files = local.filter((p) => !p.includes('/node_modules/')).map((p) => p.slice(ROOT.length));
  const packages = [
    ...new Set(
      local
        .map((p) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1])
        .filter((name): name is string => name !== undefined),
    ),
  ];
  return { files, packages, all };
}

const isHubPackage = (name: string) => HUB_PACKAGES.some((p) => name === p || name.startsWith(`${p}/`));

describe('the edge agent stands alone', { timeout: 120_000 }, () => {
  it('loads no hub module and no hub server client (edge/agent/mod.ts)', () => {
    const graph = moduleGraph(['--input-type=module', '-e', "await import('./edge/agent/mod.ts');"]);
    // The recorder sees the graph: the agent's own files and its MQTT client are in it.
    assert.ok(graph.files.includes('edge/agent/agent.ts'), `graph: ${graph.files.join(', ')}`);
    assert.ok(graph.files.includes('edge/agent/tunnels.ts'));
    assert.ok(graph.packages.includes('mqtt'), `packages: ${graph.packages.join(', ')}`);
    assert.deepEqual(
      graph.files.filter((f) => HUB_FOLDERS.some((folder) => f.startsWith(folder))),
      [],
      'hub modules the agent loads',
    );
    assert.deepEqual(graph.packages.filter(isHubPackage), [], 'hub packages the agent loads');
  });

  it('the recorder would see a hub module: actors/mod.ts brings in ioredis', () => {
    const graph = moduleGraph(['--input-type=module', '-e', "await import('./actors/mod.ts');"]);
    assert.ok(graph.packages.includes('ioredis'), `packages: ${graph.packages.join(', ')}`);
    assert.ok(graph.files.some((f) => f.startsWith('bus/')));
  });

  it('`devicehub agent --help` loads none of the hub either', () => {
    const graph = moduleGraph(['cli/devicehub.ts', 'agent', '--help']);
    assert.ok(graph.files.includes('cli/agent-command.ts'), `graph: ${graph.files.join(', ')}`);
    assert.ok(graph.files.includes('edge/agent/agent.ts'));
    // The command line's own modules (cli/) are its host; the hub's folders stay out. The one
    // exception is actors/errors.ts, a file without imports holding the one ConfigError that the
    // settings schema throws.
    assert.deepEqual(
      graph.files.filter(
        (f) =>
          ['actors/', 'bus/', 'gateway/', 'infra/', 'bench/'].some((folder) => f.startsWith(folder)) &&
          f !== 'actors/errors.ts',
      ),
      [],
      'hub modules `devicehub agent` loads',
    );
    assert.deepEqual(graph.packages.filter(isHubPackage), [], 'hub packages `devicehub agent` loads');
  });
});
