/**
 * The contract every LogStore keeps, one suite run against each implementation (today
 * `victorialogs.test.ts`, against a real victoria-logs): write then query by edge, service, level,
 * words and time, newest first; pages without gaps or repeats; words and ids taken literally;
 * escaped lines; a live tail that sees new lines, stops on abort and survives a store restart.
 * A store for Aliyun SLS or Loki would run it too (docs/decisions/036-log-store.md).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { waitFor } from '../../infra/wait-for.ts';
import type { LogQuery, LogRecord, LogStore } from './types.ts';

/** The store under test (opened by the test file's hooks), and how to restart its server. */
export interface LogStoreUnderTest {
  store(): LogStore;
  restart(): Promise<void>;
}

export function logStoreContract(name: string, env: LogStoreUnderTest): void {
  /** Records of a test of their own (a unique service), `time` spread over the last minute. */
  function records(
    service: string,
    count: number,
    make: (i: number) => Partial<LogRecord> = () => ({}),
  ): LogRecord[] {
    const now = Date.now();
    return Array.from({ length: count }, (_, i) => ({
      time: now - 60_000 + i * 10,
      level: 'info',
      msg: `line ${i}`,
      service,
      ...make(i),
    }));
  }

  function window(service: string, extra: Partial<LogQuery> = {}): LogQuery {
    return { from: Date.now() - 120_000, to: Date.now() + 1_000, service, limit: 1000, ...extra };
  }

  /** The query's records once `count` are queryable. */
  async function queryWhen(q: LogQuery, count: number): Promise<LogRecord[]> {
    return waitFor(
      async () => {
        const page = await env.store().query(q);
        return page.records.length >= count && page.records;
      },
      { message: `${count} records for ${JSON.stringify(q)}` },
    );
  }

  describe(`LogStore contract: ${name}`, () => {
    test('write, then query by edge, service, level, words and time range, newest first', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      const levels = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
      const written = records(service, 50, (i) => ({
        edgeId: i % 2 === 0 ? 'edge-a' : 'edge-b',
        level: levels[i % 5],
        msg: i % 10 === 0 ? `Disk FULL on /data ${i}` : `ok ${i}`,
        host: 'hub-1',
        nodeId: 'n1',
        fields: { shard: i, ok: true, level: 'shadowed', _hidden: 'x' },
      }));
      await env.store().write(written);
      const all = await queryWhen(window(service), 50);
      assert.equal(all.length, 50);
      assert.deepEqual(
        all.map((r) => r.time),
        written.map((r) => r.time).sort((a, b) => b - a),
        'newest first',
      );
      const first = all.find((r) => r.msg === 'ok 1');
      assert.deepEqual(first, {
        time: written[1]?.time,
        level: 'info',
        msg: 'ok 1',
        service,
        host: 'hub-1',
        edgeId: 'edge-b',
        nodeId: 'n1',
        fields: { shard: '1', ok: 'true', level: 'shadowed', _hidden: 'x' },
      });
      const edgeA = (await env.store().query(window(service, { edgeId: 'edge-a' }))).records;
      assert.equal(edgeA.length, 25);
      assert.ok(edgeA.every((r) => r.edgeId === 'edge-a'));
      const bad = (await env.store().query(window(service, { level: 'error' }))).records;
      assert.deepEqual(new Set(bad.map((r) => r.level)), new Set(['error', 'fatal']));
      assert.equal(bad.length, 20);
      const disk = (await env.store().query(window(service, { text: 'disk full' }))).records;
      assert.deepEqual(
        disk.map((r) => r.msg),
        [
          'Disk FULL on /data 40',
          'Disk FULL on /data 30',
          'Disk FULL on /data 20',
          'Disk FULL on /data 10',
          'Disk FULL on /data 0',
        ],
        'every word, any case',
      );
      const ranged = (
        await env
          .store()
          .query({ ...window(service), from: written[10]?.time ?? 0, to: written[19]?.time ?? 0 })
      ).records;
      assert.deepEqual(
        ranged.map((r) => r.msg),
        written
          .slice(10, 20)
          .map((r) => r.msg)
          .reverse(),
        'from and to inclusive',
      );
      assert.equal((await env.store().query(window(service, { edgeId: 'edge-c' }))).records.length, 0);
    });

    test('pages follow each other without gaps or repeats, even with equal times and lines written between pages', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      // 95 records on 5 distinct milliseconds: pages must break ties the same way every time.
      // The first is a whole second, which a store may print as `…:49Z` (less precise than the rest).
      const now = Math.floor((Date.now() - 30_000) / 1000) * 1000;
      const written = records(service, 95, (i) => ({ time: now + (i % 5), msg: `tie ${i}` }));
      await env.store().write(written);
      await queryWhen(window(service), 95);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await env.store().query(window(service, { limit: 10, cursor }));
        seen.push(...page.records.map((r) => r.msg));
        cursor = page.next;
        pages++;
        // A newer line written between pages does not shift the pages after it.
        if (pages === 2)
          await env.store().write(records(service, 1, () => ({ time: Date.now(), msg: 'newer' })));
      } while (cursor !== undefined && pages < 20); // a cursor that goes round stops here
      assert.equal(pages, 10);
      assert.equal(seen.length, 95);
      assert.equal(new Set(seen).size, 95, 'no repeats');
      assert.deepEqual(new Set(seen), new Set(written.map((r) => r.msg)), 'no gaps');
      const last = await env.store().query(window(service, { limit: 95 }));
      assert.equal(last.next, undefined, 'no next page when nothing is left');
    });

    test('words are literal: LogsQL in text or edgeId finds only lines with those characters', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      await env.store().write(
        records(service, 3, (i) => ({
          msg: ['plain line', 'quote " and ) or * here', 'another'][i] as string,
          edgeId: 'e"1',
        })),
      );
      await queryWhen(window(service), 3);
      for (const text of ['x" OR *', '* | delete _msg', '") OR ("', 'line" OR "another']) {
        const { records: found } = await env.store().query(window(service, { text }));
        assert.equal(found.length, 0, `text ${JSON.stringify(text)} found ${JSON.stringify(found)}`);
      }
      const quoted = (await env.store().query(window(service, { text: '" )' }))).records;
      assert.deepEqual(
        quoted.map((r) => r.msg),
        ['quote " and ) or * here'],
      );
      assert.equal((await env.store().query(window(service, { edgeId: 'e"1' }))).records.length, 3);
      assert.equal(
        (await env.store().query(window(service, { edgeId: 'e"1"} OR {service=*' }))).records.length,
        0,
      );
      assert.equal(
        (await env.store().query({ ...window(service), service: `${service}"} OR {service=~".*` })).records
          .length,
        0,
      );
    });

    test('a line with control characters is stored escaped, on one line', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      await env.store().write(records(service, 1, () => ({ msg: 'a\nforged {"level":"fatal"}\x00' })));
      const [stored] = await queryWhen(window(service), 1);
      assert.equal(stored?.msg, 'a\\x0aforged {"level":"fatal"}\\x00');
    });

    test('a live tail gets new lines that match, and stops on abort', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      const controller = new AbortController();
      const got: LogRecord[] = [];
      const reading = (async () => {
        for await (const record of env.store().tail({ service, level: 'warn' }, controller.signal))
          got.push(record);
      })();
      // Lines keep coming until the tail has seen one (it starts at an unknown moment).
      await waitFor(
        async () => {
          await env.store().write([
            { time: Date.now(), level: 'info', msg: 'quiet', service },
            { time: Date.now(), level: 'error', msg: 'loud', service },
          ]);
          return got.length > 0;
        },
        { intervalMs: 300, message: 'a tailed line' },
      );
      assert.ok(
        got.every((r) => r.msg === 'loud' && r.service === service),
        JSON.stringify(got),
      );
      controller.abort();
      await reading; // ends without an error
    });

    test('a tail reconnects when the store restarts, without repeating what it gave', async () => {
      const service = `svc${randomUUID().slice(0, 8)}`;
      const controller = new AbortController();
      const got: string[] = [];
      const reading = (async () => {
        for await (const record of env.store().tail({ service }, controller.signal)) got.push(record.msg);
      })();
      let n = 0;
      const writeUntilSeen = async (prefix: string) =>
        waitFor(
          async () => {
            await env.store().write([{ time: Date.now(), level: 'info', msg: `${prefix} ${n++}`, service }]);
            return got.some((m) => m.startsWith(prefix));
          },
          { intervalMs: 300, timeoutMs: 20_000, message: `a tailed ${prefix} line` },
        );
      await writeUntilSeen('before');
      await env.restart();
      await writeUntilSeen('after');
      controller.abort();
      await reading;
      assert.equal(new Set(got).size, got.length, `no repeats: ${got.join(', ')}`);
    });
  });
}
