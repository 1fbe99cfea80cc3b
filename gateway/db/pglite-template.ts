/**
 * In-memory PGlite databases (the tests', one per test) start from a template: a data folder that
 * initdb made and the migrations filled, dumped once per machine into the temp folder and loaded
 * by every later one. Loading it takes about a third of initdb's time (0.5 s against 1.6 s here);
 * the database is the same, and `migrate` still runs over it (finding nothing left to apply).
 *
 * The template's name holds a hash of PGlite's version and of every migration file, so a changed
 * migration makes a new one; a template that cannot be read or loaded is made again. A folder
 * database (`dataDir`: the demo's) never uses it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

const PREFIX = 'devicehub-pglite-template-';

/** The template file for these migrations and this PGlite: `<tmp>/devicehub-pglite-template-<hash>.tar`. */
export function templateFile(migrations: URL, dir = tmpdir()): string {
  const key = `${migrations.href}\u0000${dir}`;
  let file = files.get(key);
  if (file === undefined) {
    file = hashedName(migrations, dir);
    files.set(key, file);
  }
  return file;
}
const files = new Map<string, string>();

function hashedName(migrations: URL, dir: string): string {
  const hash = createHash('sha256');
  hash.update(`pglite ${pgliteVersion()}\n`);
  for (const file of readdirSync(migrations).sort()) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(new URL(file, migrations)));
  }
  return join(dir, `${PREFIX}${hash.digest('hex').slice(0, 16)}.tar`);
}

/** The installed PGlite's version, from the package.json above its entry (it exports no ./package.json). */
function pgliteVersion(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite') return String(pkg.version);
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/**
 * A new in-memory PGlite: from the template when there is one (`fromTemplate` true), otherwise
 * made by initdb (then `saveTemplate` once it is migrated).
 */
export async function openMemoryPglite(file: string): Promise<{ client: PGlite; fromTemplate: boolean }> {
  const bytes = await readFile(file).catch(() => undefined);
  if (bytes !== undefined) {
    try {
      const client = new PGlite({ loadDataDir: new Blob([bytes]) });
      await client.waitReady;
      return { client, fromTemplate: true };
    } catch {
      // Torn or from elsewhere: made again below, and replaced once migrated.
      await rm(file, { force: true });
    }
  }
  const client = new PGlite();
  await client.waitReady;
  return { client, fromTemplate: false };
}

/**
 * Dumps a freshly migrated in-memory database as the template: written whole under a private name
 * and renamed into place (processes doing it at once write the same content; the last rename
 * wins), and templates of other migrations removed.
 */
export async function saveTemplate(client: PGlite, file: string): Promise<void> {
  const dump = await client.dumpDataDir('none');
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(draft, new Uint8Array(await dump.arrayBuffer()));
    await rename(draft, file);
  } finally {
    await rm(draft, { force: true });
  }
  const dir = join(file, '..');
  const mine = file.slice(dir.length + 1);
  for (const name of await readdir(dir)) {
    if (name.startsWith(PREFIX) && name.endsWith('.tar') && name !== mine)
      await rm(join(dir, name), { force: true });
  }
}
