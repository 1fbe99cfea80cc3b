/**
 * `npm run bundle:agent`: the agent for devices as one ES module, dist/devicehub-agent.mjs, with its
 * dependencies inside (mqtt, kafkajs, msgpackr, tuf-js, pino), for Node 22 on the RV1126 (armv7l):
 * plain JavaScript only. Optional native accelerators that the packages load only if present
 * (msgpackr-extract, bufferutil, utf-8-validate) stay out; the build fails if any `.node` file or
 * other native addon would end up in it. Prints the bundle's size and the packages in it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Optional native add-ons the packages try to load and do without. */
const OPTIONAL_NATIVE = ['msgpackr-extract', 'bufferutil', 'utf-8-validate'];

export interface AgentBundle {
  readonly file: string;
  readonly bytes: number;
  /** The npm packages inside, by name. */
  readonly packages: string[];
}

export async function bundleAgent(outfile = join(ROOT, 'dist', 'devicehub-agent.mjs')): Promise<AgentBundle> {
  mkdirSync(join(outfile, '..'), { recursive: true });
  const result = await build({
    entryPoints: [join(ROOT, 'cli', 'agent-main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    external: OPTIONAL_NATIVE,
    // CommonJS packages inside an ES module still call require() for Node's built-ins.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __dhRequire } from 'node:module'; const require = __dhRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const native = inputs.filter((p) => p.endsWith('.node'));
  if (native.length > 0) throw new Error(`the agent bundle would hold native add-ons: ${native.join(', ')}`);
  const packages = [
    ...new Set(
      inputs
        .map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1])
        .filter((name): name is string => name !== undefined),
    ),
  ].sort();
  const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.bytes;
  return { file: outfile, bytes, packages };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bundle = await bundleAgent();
  process.stdout.write(
    `${bundle.file}: ${(bundle.bytes / 2 ** 20).toFixed(2)} MiB, ${bundle.packages.length} packages: ${bundle.packages.join(' ')}\n`,
  );
}
