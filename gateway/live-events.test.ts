/**
 * The gateway's event feed against a real Redis (and the cluster pass): outbox events to its
 * fleet listeners, live entries (bus/live.ts) to its listeners of every event, one item per event
 * and in order; a gap in the live numbers (entries trimmed before the feed read them) told to its
 * gap listeners; a live entry that is not what live.lua writes skipped and counted, the rest still
 * delivered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appendLive } from '../bus/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { EventFeed } from './live-events.ts';
import type { OutboxItem } from './outbox/events.ts';

const t = useRedis();

describe('the event feed', () => {
  it('hands live entries’ events to its listeners of all, and tells its gap listeners of missed entries', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace);
    // An entry from before the feed started: not handed out, and the numbering goes on from it.
    await appendLive(t.redis, keyspace, 0, ['{"type":"edge.tile","edgeId":"E-0"}']);
    await using feed = await new EventFeed({ bus }).start();
    const all: OutboxItem[] = [];
    const fleet: OutboxItem[] = [];
    let gaps = 0;
    feed.subscribeAll((item) => all.push(item));
    feed.subscribe((item) => fleet.push(item));
    feed.subscribeGaps(() => gaps++);
    const tile = (edgeId: string, floor: number) => JSON.stringify({ type: 'edge.tile', edgeId, floor });
    await appendLive(t.redis, keyspace, 0, [tile('E-1', 1), tile('E-2', 1)]);
    await t.redis.xadd(keyspace.outbox(0), '*', 'e', JSON.stringify({ type: 'edge.online', edgeId: 'E-1' }));
    await appendLive(t.redis, keyspace, 0, [tile('E-1', 2)]);
    await waitFor(() => all.length === 4, { message: 'three tiles and an online' });
    const tiles = all.filter((i) => i.event.type === 'edge.tile');
    assert.deepEqual(
      tiles.map((i) => [i.event.edgeId, i.event.floor]),
      [
        ['E-1', 1],
        ['E-2', 1],
        ['E-1', 2],
      ],
    );
    assert.match(tiles[0]!.id, /^l0-\d+-\d+-0$/);
    assert.notEqual(tiles[0]!.id, tiles[1]!.id, 'each event its own id');
    assert.ok(Math.abs(tiles[0]!.emittedAt - Date.now()) < 60_000, 'emittedAt: the entry id’s time');
    assert.deepEqual(
      fleet.map((i) => i.event.type),
      ['edge.online'],
      'a tile is no fleet event',
    );
    assert.equal(gaps, 0, 'numbers without a gap since the start');

    // Entries appended and trimmed before the feed read them look like this: the number jumps.
    await t.redis.incrby(keyspace.liveSeq(0), 5);
    await appendLive(t.redis, keyspace, 0, [tile('E-1', 3)]);
    await waitFor(() => gaps === 1, { message: 'the gap told' });
    assert.equal(feed.liveGaps, 1);
    assert.deepEqual(
      all.at(-1)!.event,
      { type: 'edge.tile', edgeId: 'E-1', floor: 3 },
      'and its events handed out',
    );

    // One entry not what live.lua writes, then a good one.
    await t.redis.xadd(keyspace.live(0), '*', 'n', 'x', 'e', '[{');
    await appendLive(t.redis, keyspace, 0, [tile('E-2', 4)]);
    await waitFor(() => all.at(-1)?.event.floor === 4, { message: 'the entry after the bad one' });
    assert.equal(feed.unreadableLive, 1);
    assert.equal(gaps, 1, 'a skipped entry is not a gap in the numbers');
  });
});
