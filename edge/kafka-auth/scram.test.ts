/**
 * The credential admin's SCRAM-SHA-512 and wire format without a broker: a login checked by a
 * server written from RFC 5802's definitions (the broker test, edge/link/kafka-auth.test.ts, checks
 * the real one), and the encodings at their edges.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KafkaAuthError } from './errors.ts';
import { ScramClient, scramCredential } from './scram.ts';
import { frame, Reader, Writer } from './wire.ts';

const hmac = (key: Buffer, text: string) => createHmac('sha512', key).update(text).digest();
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest();

/** A SCRAM server holding what the broker stores: salt, iterations, StoredKey and ServerKey. */
async function server(password: string) {
  const { salt, iterations, saltedPassword } = await scramCredential(password);
  const storedKey = sha512(hmac(saltedPassword, 'Client Key'));
  const serverKey = hmac(saltedPassword, 'Server Key');
  let first = '';
  let serverFirst = '';
  return {
    first(clientFirst: Buffer): Buffer {
      first = clientFirst.toString().replace(/^n,,/, '');
      const nonce = `${/r=([^,]+)/.exec(first)![1]}${randomBytes(8).toString('base64')}`;
      serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
      return Buffer.from(serverFirst);
    },
    final(clientFinal: Buffer): Buffer {
      const text = clientFinal.toString();
      const withoutProof = text.slice(0, text.lastIndexOf(',p='));
      const proof = Buffer.from(text.slice(text.lastIndexOf(',p=') + 3), 'base64');
      const authMessage = `${first},${serverFirst},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
      if (!sha512(clientKey).equals(storedKey)) return Buffer.from('e=invalid-proof');
      return Buffer.from(`v=${hmac(serverKey, authMessage).toString('base64')}`);
    },
  };
}

describe('SCRAM-SHA-512', () => {
  it('logs in with the password the credential was made from, and checks the server’s signature', async () => {
    const s = await server('the-password');
    const c = new ScramClient('E-1', 'the-password');
    c.verify(s.final(c.final(s.first(c.first()))));
  });

  it('fails a wrong password, and a server that does not know the credential', async () => {
    const s = await server('the-password');
    const wrong = new ScramClient('E-1', 'not-the-password');
    assert.throws(() => wrong.verify(s.final(wrong.final(s.first(wrong.first())))), {
      code: 'AUTHENTICATION_FAILED',
    });
    const c = new ScramClient('E-1', 'the-password');
    c.final(s.first(c.first()));
    assert.throws(() => c.verify(Buffer.from(`v=${randomBytes(64).toString('base64')}`)), {
      code: 'AUTHENTICATION_FAILED',
    });
  });

  it('refuses a server nonce that does not extend its own', () => {
    const c = new ScramClient('E-1', 'pw');
    c.first();
    assert.throws(() => c.final(Buffer.from('r=other,s=AAAA,i=4096')), { code: 'PROTOCOL' });
  });
});

describe('Kafka wire format', () => {
  it('writes and reads varints, compact and classic strings, bytes and arrays', () => {
    const numbers = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 28, 2 ** 32 - 1];
    const w = new Writer();
    for (const n of numbers) w.uvarint(n);
    w.compactString('E-1')
      .string('SCRAM-SHA-512')
      .string(null)
      .bytes(Buffer.from([1, 2]));
    w.compactArray(['a', 'bc'], (x, s) => x.compactString(s).tags()).compactArray(null, () => {});
    const r = new Reader(w.toBuffer());
    assert.deepEqual(
      numbers.map(() => r.uvarint()),
      numbers,
    );
    assert.equal(r.compactString(), 'E-1');
    assert.equal(r.string(), 'SCRAM-SHA-512');
    assert.equal(r.string(), null);
    assert.deepEqual([...(r.bytes() ?? [])], [1, 2]);
    assert.deepEqual(
      r.compactArray((x) => {
        const s = x.compactString();
        x.tags();
        return s;
      }),
      ['a', 'bc'],
    );
    assert.equal(
      r.compactArray(() => 0),
      null,
    );
  });

  it('frames a flexible request with a tagged-field header, and refuses a truncated answer', () => {
    const plain = frame(
      { apiKey: 17, apiVersion: 1, correlationId: 7, clientId: 'c', flexible: false },
      Buffer.alloc(0),
    );
    const flexible = frame(
      { apiKey: 51, apiVersion: 0, correlationId: 7, clientId: 'c', flexible: true },
      Buffer.alloc(0),
    );
    assert.equal(plain.readInt32BE(0), plain.length - 4);
    assert.equal(flexible.length, plain.length + 1, 'one byte of empty tagged fields');
    assert.throws(
      () => new Reader(Buffer.from([0, 0, 0])).int32(),
      (e: unknown) => e instanceof KafkaAuthError && e.code === 'PROTOCOL',
    );
  });
});
