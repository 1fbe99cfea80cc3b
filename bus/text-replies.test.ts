/**
 * The connections of connectRedis() read replies as text (patches/ioredis, decision 072): the
 * parser decodes each bulk string as UTF-8 itself, where stock ioredis slices a Buffer for it and
 * converts it (and copies every array around it) afterwards. Against a real Redis, on each of its
 * masters: the same replies as a stock connection's, nested arrays, nils, integers, errors and
 * multi-byte text split across socket reads included, alone and in a pipeline; a *Buffer command
 * is refused by name instead of answered with text, and leaves the connection in step; a
 * transaction (whose EXEC ioredis itself sends as a Buffer command) answers as it should.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChainableCommander, Redis as Single } from 'ioredis';
import { useRedis } from '../infra/test-redis.ts';

const t = useRedis();

/** Every kind of reply a script can give (RESP2): text, nil, integer, status, nested and empty arrays. */
const SHAPES =
  "return { 'ascii', 'é 中文 🚀', '', false, 42, -7, { 'a', { 'b', 'c' }, {} }, redis.status_reply('OK') }";
/** ~270 KB of three-, two- and four-byte characters: arrives in several reads, characters cut between them. */
const LONG = "return string.rep('é中🚀x', 27000)";
const FAILS = "return redis.error_reply('ERR text replies keep errors')";

/** A stock ioredis connection to the same server as `master` (Buffers parsed, then converted). */
function stockOf(master: Single): Single {
  return new Single(master.options.port!, master.options.host!, { enableAutoPipelining: false });
}

async function pipelined(redis: Single): Promise<[Error | null, unknown][]> {
  const pipeline: ChainableCommander = redis.pipeline();
  pipeline.eval(SHAPES, 0);
  pipeline.echo('día 🚀');
  pipeline.eval(FAILS, 0);
  pipeline.eval(LONG, 0);
  return (await pipeline.exec()) ?? [];
}

describe('text replies (connectRedis)', () => {
  it('answers every reply as a stock connection does, alone and in a pipeline', async () => {
    for (const master of await t.masters()) {
      const stock = stockOf(master);
      try {
        assert.equal(master.options.textReplies, true, 'connectRedis asks for text replies');
        const shapes = await master.eval(SHAPES, 0);
        assert.deepEqual(shapes, await stock.eval(SHAPES, 0));
        assert.deepEqual(shapes, ['ascii', 'é 中文 🚀', '', null, 42, -7, ['a', ['b', 'c'], []], 'OK']);
        const long = (await master.eval(LONG, 0)) as string;
        assert.equal(long, await stock.eval(LONG, 0));
        assert.equal(long.length, 27000 * 5, 'every character whole (🚀 is two UTF-16 units)');
        const [text, stockReplies] = [await pipelined(master), await pipelined(stock)];
        assert.deepEqual(
          text.map(([error, reply]) => [error?.message ?? null, reply]),
          stockReplies.map(([error, reply]) => [error?.message ?? null, reply]),
        );
        assert.match(text[2]![0]?.message ?? '', /text replies keep errors/);
        await assert.rejects(master.eval(FAILS, 0), /text replies keep errors/);
      } finally {
        stock.disconnect();
      }
    }
  });

  it('answers a transaction, each result transformed by its own command (EXEC itself goes as Buffers)', async () => {
    const key = `{text${Date.now()}}`;
    const results = await t.redis
      .multi()
      .set(`${key}s`, 'é 中文 🚀')
      .get(`${key}s`)
      .hset(`${key}h`, 'f', 'v')
      .hgetall(`${key}h`)
      .getBuffer(`${key}s`)
      .exec();
    assert.deepEqual(results?.slice(0, 4), [
      [null, 'OK'],
      [null, 'é 中文 🚀'],
      [null, 1],
      [null, { f: 'v' }],
    ]);
    assert.match(String(results?.[4]?.[0]), /reply to get was asked for as Buffers/);
    await t.redis.del(`${key}s`, `${key}h`);
  });

  it('refuses a *Buffer command by name, and answers the next command in step', async () => {
    for (const master of await t.masters()) {
      const stock = stockOf(master);
      try {
        await assert.rejects(
          master.echoBuffer('bytes'),
          /reply to echo was asked for as Buffers.*textReplies/,
        );
        await assert.rejects(master.callBuffer('eval', SHAPES, 0), /reply to eval was asked for as Buffers/);
        assert.equal(await master.echo('next'), 'next', 'the reply of the refused command was consumed');
        // A connection without the option is stock ioredis.
        const bytes = await stock.echoBuffer('bytes');
        assert.ok(
          Buffer.isBuffer(bytes) && bytes.toString() === 'bytes',
          'a stock connection still gets Buffers',
        );
      } finally {
        stock.disconnect();
      }
    }
  });
});
