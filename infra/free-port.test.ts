import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canBind, freePorts, onFreePort } from './free-port.ts';

describe('onFreePort', () => {
  it('tries another free port when the one picked was taken before the server bound it', async () => {
    const tried: number[] = [];
    const started = await onFreePort(undefined, async (port) => {
      tried.push(port);
      if (tried.length === 1) throw new Error('prometheus: bind: address already in use');
      return port;
    });
    assert.equal(tried.length, 2);
    assert.equal(started, tried[1]);
  });

  it('gives up after 3 taken ports, and at once on any other error or a given port', async () => {
    let calls = 0;
    const taken = async () => {
      calls++;
      throw new Error('listen EADDRINUSE');
    };
    await assert.rejects(onFreePort(undefined, taken), /EADDRINUSE/);
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(onFreePort(4321, taken), /EADDRINUSE/);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      onFreePort(undefined, async () => {
        calls++;
        throw new Error('bad configuration');
      }),
      /bad configuration/,
    );
    assert.equal(calls, 1);
  });
});

describe('freePorts', () => {
  it('hands out distinct ports, each free again once picked', async () => {
    const ports = await freePorts(50);
    assert.equal(new Set(ports).size, 50, 'no port twice');
    for (const port of ports) assert.ok(await canBind(port), `port ${port} is released`);
  });
});
