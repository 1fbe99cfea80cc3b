/**
 * Requests the demo's and the cluster's tests make of their TLS endpoints: an HTTPS request checked
 * against a CA, and bytes written in the clear to a port (what a plaintext client would get).
 */

import { request } from 'node:https';
import { connect } from 'node:net';

/** An HTTPS request (GET by default) on a connection of its own; the server's certificate must chain to `ca` (default: the system's). */
export function httpsRequest(
  url: string,
  o: { ca?: Buffer; headers?: Record<string, string>; method?: string; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? 'GET',
        headers: o.headers,
        ...(o.ca === undefined ? {} : { ca: o.ca }),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Writes `text` in the clear to the URL's host and port; what came back before the close (or 5 s). */
export function plainExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(text, 'latin1'));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.setTimeout(5000, () => socket.destroy());
  });
}
