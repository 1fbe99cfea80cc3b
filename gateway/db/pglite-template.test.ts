/** The in-memory databases' template: made once, loaded after, made again when it cannot be. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openDatabase } from './database.ts';
import { openMemoryPglite, saveTemplate, templateFile } from './pglite-template.ts';

const work = mkdtempSync(join(tmpdir(), 'dh-pglite-template-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A folder of migrations holding `files`. */
function migrations(name: string, files: Record<string, string>): URL {
  const dir = join(work, name);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return pathToFileURL(`${dir}/`);
}

describe('the in-memory PGlite template', () => {
  it('is named by the migrations, loaded when present, and replaces those of other migrations', async () => {
    const templates = join(work, 'templates');
    for (const name of ['a', 'b', 'templates']) mkdirSync(join(work, name));
    const a = migrations('a', { '0001.sql': 'create table t (id int)' });
    const b = migrations('b', { '0001.sql': 'create table t (id int, v text)' });
    assert.notEqual(
      templateFile(a, templates),
      templateFile(b, templates),
      'another migration, another name',
    );

    const first = await openMemoryPglite(templateFile(a, templates));
    assert.equal(first.fromTemplate, false, 'no template yet: initdb');
    await first.client.exec('create table t (id int); insert into t values (7)');
    await saveTemplate(first.client, templateFile(a, templates));
    await first.client.close();

    const second = await openMemoryPglite(templateFile(a, templates));
    assert.equal(second.fromTemplate, true);
    assert.deepEqual(
      (await second.client.query('select id from t')).rows,
      [{ id: 7 }],
      'the template’s data',
    );
    await second.client.close();

    // A template of other migrations is removed when one is saved.
    const other = await openMemoryPglite(templateFile(b, templates));
    assert.equal(other.fromTemplate, false);
    await saveTemplate(other.client, templateFile(b, templates));
    await other.client.close();
    assert.deepEqual(readdirSync(templates), [templateFile(b, templates).slice(templates.length + 1)]);
  });

  it('a template that cannot be loaded is dropped, and the database made by initdb', async () => {
    const templates = join(work, 'broken');
    mkdirSync(templates);
    const file = join(templates, 'devicehub-pglite-template-0000000000000000.tar');
    writeFileSync(file, 'not a tar of a PGlite data folder');
    const opened = await openMemoryPglite(file);
    assert.equal(opened.fromTemplate, false);
    assert.deepEqual((await opened.client.query('select 1 as one')).rows, [{ one: 1 }]);
    await opened.client.close();
    assert.deepEqual(readdirSync(templates), [], 'the broken template is gone');
  });

  it('openDatabase in memory: every database fully migrated and its own, from the template or not', async () => {
    const one = await openDatabase();
    const two = await openDatabase();
    try {
      for (const db of [one, two]) {
        const rows = (await db.db.execute(
          'select count(*)::int as n from schema_migrations' as never,
        )) as unknown as {
          rows: { n: number }[];
        };
        assert.ok(rows.rows[0]!.n >= 14, 'every migration applied');
      }
      await one.execInTransaction("insert into schema_migrations (name) values ('only-in-one')");
      const seen = (await two.db.execute(
        "select count(*)::int as n from schema_migrations where name = 'only-in-one'" as never,
      )) as unknown as { rows: { n: number }[] };
      assert.equal(seen.rows[0]!.n, 0, 'a write to one database is not in another');
    } finally {
      await one.close();
      await two.close();
    }
  });
});
