import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeLine } from './normalize.ts';

const bytes = (s: string) => Buffer.byteLength(s);

test('a plain line is kept as it is', () => {
  assert.equal(normalizeLine('GET /v1/edges 200 12ms\ttab kept'), 'GET /v1/edges 200 12ms\ttab kept');
  assert.equal(normalizeLine('温度 25℃ — ok'), '温度 25℃ — ok');
  assert.equal(normalizeLine(new TextEncoder().encode('bytes ok')), 'bytes ok');
});

test('control characters are escaped, so a line cannot forge a second one', () => {
  assert.equal(normalizeLine('a\nb\r\x00c\x1b[31m\x7f'), 'a\\x0ab\\x0d\\x00c\\x1b[31m\\x7f');
  assert.equal(normalizeLine('x\u0085y\u2028z'), 'x\\u0085y\\u2028z');
});

test('bytes that are not UTF-8 are escaped one by one, valid ones kept', () => {
  const raw = Uint8Array.from([
    0x6f, 0x6b, 0xff, 0xfe, 0xc3, 0xa9, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82,
  ]);
  assert.equal(normalizeLine(raw), 'ok\\xff\\xfeé\\xc3(\\xed\\xa0\\x80😀\\xe2\\x82');
  // Overlong encodings are not UTF-8.
  assert.equal(normalizeLine(Uint8Array.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf])), '\\xc0\\xaf\\xe0\\x80\\xaf');
});

test('a line over the limit is cut at a character boundary and marked, the mark included', () => {
  const line = 'é'.repeat(100); // 200 bytes
  const cut = normalizeLine(line, 100);
  assert.ok(bytes(cut) <= 100, `${bytes(cut)} bytes`);
  const match = /^(é*)…\[cut (\d+) bytes\]$/.exec(cut);
  assert.ok(match, cut);
  assert.equal(bytes(match[1] as string) + Number(match[2]), 200, 'kept + cut = the input');
  // Escapes are never split either.
  const binary = normalizeLine(new Uint8Array(1000).fill(0xff), 100);
  assert.match(binary, /^(\\xff)+…\[cut \d+ bytes\]$/);
  assert.ok(bytes(binary) <= 100);
  // Exactly at the limit: not cut.
  assert.equal(normalizeLine('a'.repeat(100), 100), 'a'.repeat(100));
  const long = bytes(normalizeLine('a'.repeat(100_000)));
  assert.ok(long <= 8192 && long > 8180, `${long} bytes`);
});

test('binary garbage of any kind comes out as valid, single-line UTF-8', () => {
  const garbage = new Uint8Array(4096);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 256;
  const line = normalizeLine(garbage, 2048);
  assert.ok(bytes(line) <= 2048);
  const control = [...line].find((ch) => {
    const cp = ch.codePointAt(0) as number;
    return (cp < 0x20 && cp !== 0x09) || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029;
  });
  assert.equal(control, undefined);
  assert.equal(Buffer.from(line, 'utf8').toString('utf8'), line);
});
