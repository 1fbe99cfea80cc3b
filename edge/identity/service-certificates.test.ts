import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { startTestPki, type TestPki } from '../../infra/tls.ts';
import { IdentityError, issueServerCertificate, issueServiceCertificate } from './mod.ts';
import { openssl } from './testdata/openssl.ts';

describe('server and service certificates', () => {
  let pki: TestPki;
  before(async () => {
    pki = await startTestPki();
  });

  it('gives the loopback server a certificate openssl accepts for TLS servers, with its names', async () => {
    const verify = await openssl([
      'verify',
      '-CAfile',
      pki.caFile,
      '-purpose',
      'sslserver',
      pki.server.certFile,
    ]);
    assert.equal(verify.code, 0, verify.out);
    const text = await openssl(['x509', '-in', pki.server.certFile, '-noout', '-ext', 'subjectAltName']);
    assert.match(text.out, /DNS:localhost/);
    assert.match(text.out, /IP Address:127\.0\.0\.1/);
    const asClient = await openssl([
      'verify',
      '-CAfile',
      pki.caFile,
      '-purpose',
      'sslclient',
      pki.server.certFile,
    ]);
    assert.notEqual(asClient.code, 0, 'a server certificate must not serve as a client certificate');
  });

  it('gives a service a client certificate with its name, not usable as a server', async () => {
    const link = await pki.issueService('link@devicehub');
    const verify = await openssl(['verify', '-CAfile', pki.caFile, '-purpose', 'sslclient', link.certFile]);
    assert.equal(verify.code, 0, verify.out);
    const subject = await openssl(['x509', '-in', link.certFile, '-noout', '-subject']);
    assert.match(subject.out, /CN ?= ?link@devicehub/);
    const asServer = await openssl(['verify', '-CAfile', pki.caFile, '-purpose', 'sslserver', link.certFile]);
    assert.notEqual(asServer.code, 0);
  });

  it('lets a Node TLS client that trusts only the fleet CA reach the server, with a client certificate', async () => {
    const edge = await pki.issueEdge('edge-tls-1');
    const server = createServer(
      {
        cert: pki.server.certificatePem,
        key: pki.server.privateKeyPem,
        ca: pki.ca.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end(String(socket.getPeerCertificate().subject.CN)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const seen = await new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: [pki.ca.certificatePem],
          cert: edge.certificatePem,
          key: edge.privateKeyPem,
        });
        let text = '';
        socket.on('data', (d) => {
          text += d;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.equal(seen, 'edge-tls-1');
    } finally {
      server.close();
    }
    assert.equal(await readFile(edge.certFile, 'utf8'), edge.certificatePem);
  });

  it('refuses names that are neither DNS names nor addresses, and service names an edge could hold badly', async () => {
    await assert.rejects(issueServerCertificate(pki.ca, { names: ['bad name'] }), IdentityError);
    await assert.rejects(issueServerCertificate(pki.ca, { names: [] }), IdentityError);
    await assert.rejects(issueServiceCertificate(pki.ca, { commonName: 'a/b' }), IdentityError);
    await assert.rejects(issueServerCertificate(pki.ca, { names: ['x'], validityDays: 900 }), IdentityError);
  });
});
