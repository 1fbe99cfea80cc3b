/**
 * The client side of the big-artifact test, in a process of its own so that the test process's
 * memory is the gateway's alone: an HTTP client holds what it sends in ways of its own (fetch
 * with a streamed body kept 120-160 MB of a 128 MB upload on the JavaScript heap in a script
 * with nothing else in it), and the test measures the gateway, not the client.
 *
 *   node --import tsx transfer-client.ts <upload url> <download base url> <api key> <bytes>
 *
 * Uploads `<bytes>` of a fixed pattern (64 KiB chunks, with backpressure) with its SHA-256, then
 * downloads `<download base url>/<sha256>/content` and hashes it as it streams. Prints
 * `{ "status", "body", "sha256", "back" }`: the upload's status and body, the pattern's hash and
 * the hash of what came back.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';

const [uploadUrl, downloadBase, key, bytes] = process.argv.slice(2);
if (uploadUrl === undefined || downloadBase === undefined || key === undefined || bytes === undefined) {
  throw new Error('usage: transfer-client.ts <upload url> <download base url> <api key> <bytes>');
}
const total = Number(bytes);
const chunk = Buffer.from(new Uint8Array(64 * 1024).map((_, i) => (i * 31) % 251));
const part = (sent: number) => chunk.subarray(0, Math.min(chunk.length, total - sent));

const hash = createHash('sha256');
for (let n = 0; n < total; n += chunk.length) hash.update(part(n));
const sha256 = hash.digest('hex');

const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
  const req = request(new URL(uploadUrl), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'x-content-sha256': sha256,
      'content-length': String(total),
    },
  });
  req.on('error', reject);
  req.on('response', (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => {
      text += s;
    });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    res.on('error', reject);
  });
  let sent = 0;
  const more = () => {
    while (sent < total) {
      const next = part(sent);
      sent += next.length;
      if (!req.write(next)) return void req.once('drain', more);
    }
    req.end();
  };
  more();
});

let back = '';
if (status === 201) {
  const got = await fetch(`${downloadBase}/${sha256}/content`);
  const hashBack = createHash('sha256');
  for await (const piece of got.body as unknown as AsyncIterable<Uint8Array>) hashBack.update(piece);
  back = hashBack.digest('hex');
}
process.stdout.write(JSON.stringify({ status, body, sha256, back }));
