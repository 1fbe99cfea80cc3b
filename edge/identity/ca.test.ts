import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createCrl,
  type FleetCa,
  generateFleetCa,
  IdentityError,
  issueEdgeCertificate,
  loadFleetCa,
} from './mod.ts';
import { type OpensslRun, openssl } from './testdata/openssl.ts';

// Every certificate, CSR and CRL is checked by Debian's OpenSSL CLI.
function refusedWith(code: IdentityError['code']) {
  return (error: unknown) => {
    assert.ok(error instanceof IdentityError, `expected an IdentityError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

let work: string;
let ca: FleetCa;
let n = 0;
/** Writes `content` to a fresh file in the work folder; returns its name. */
async function put(name: string, content: string): Promise<string> {
  const file = `${n++}-${name}`;
  await writeFile(join(work, file), content);
  return file;
}
async function verify(certPem: string, extra: string[] = []): Promise<OpensslRun> {
  return openssl(['verify', '-CAfile', 'ca.crt', ...extra, await put('edge.crt', certPem)], work);
}
async function opensslCsr(cn: string): Promise<string> {
  const key = `${n++}-edge.key`;
  const run = await openssl(
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-subj',
      `/CN=${cn}`,
    ],
    work,
  );
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'devicehub-identity-'));
  ca = await loadFleetCa({ dir: join(work, 'ca'), create: true });
  await writeFile(join(work, 'ca.crt'), ca.certificatePem);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('loadFleetCa', () => {
  it('generates the CA once, key file 0600, and loads the same CA the second time', async () => {
    const dir = join(work, 'fleet');
    const first = await loadFleetCa({ dir, create: true });
    assert.equal(first.created, true);
    assert.equal((await stat(join(dir, 'ca.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const second = await loadFleetCa({ dir, create: true });
    assert.equal(second.created, false);
    assert.equal(second.certificatePem, first.certificatePem);
    // The loaded key signs certificates the written ca.crt verifies.
    const issued = await issueEdgeCertificate(second, { edgeId: 'edge-loaded' });
    const crt = await put('edge.crt', issued.certificatePem);
    const run = await openssl(['verify', '-CAfile', join('fleet', 'ca.crt'), crt], work);
    assert.equal(run.code, 0, run.stderr);
    const text = await openssl(['x509', '-in', join('fleet', 'ca.crt'), '-noout', '-text'], work);
    assert.match(text.stdout, /CA:TRUE/);
    assert.match(text.stdout, /Certificate Sign, CRL Sign/);
    assert.match(text.stdout, /ASN1 OID: prime256v1/);
  });

  it('refuses a missing CA without create, a lone file, and a key of another CA', async () => {
    const dir = join(work, 'other');
    await assert.rejects(loadFleetCa({ dir }), refusedWith('CA_MISSING'));
    await loadFleetCa({ dir, create: true });
    const foreign = await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout'], work);
    await writeFile(join(dir, 'ca.key'), foreign.stdout, { mode: 0o600 });
    await assert.rejects(loadFleetCa({ dir }), refusedWith('CA_KEY_MISMATCH'));
    await unlink(join(dir, 'ca.crt'));
    await assert.rejects(loadFleetCa({ dir, create: true }), refusedWith('CA_INCOMPLETE'));
    assert.equal(
      await readFile(join(dir, 'ca.key'), 'utf8'),
      foreign.stdout,
      'a lone key is never overwritten',
    );
  });
});

describe('issueEdgeCertificate', () => {
  it('generates a key pair and a client certificate for the edge that openssl verifies', async () => {
    const issued = await issueEdgeCertificate(ca, { edgeId: 'edge-0001', now: new Date() });
    const run = await verify(issued.certificatePem, ['-purpose', 'sslclient']);
    assert.equal(run.code, 0, run.stderr);
    const crt = await put('edge.crt', issued.certificatePem);
    const text = await openssl(
      ['x509', '-in', crt, '-noout', '-text', '-subject', '-serial', '-nameopt', 'RFC2253'],
      work,
    );
    assert.match(text.stdout, /^subject=CN=edge-0001$/m);
    assert.match(text.stdout, new RegExp(`^serial=${issued.serial}$`, 'im'));
    assert.match(text.stdout, /TLS Web Client Authentication/);
    assert.match(text.stdout, /URI:urn:devicehub:edge:edge-0001/);
    assert.match(text.stdout, /CA:FALSE/);
    assert.equal(issued.notAfter.getTime() - issued.notBefore.getTime(), 90 * 86_400_000 + 5 * 60_000);
    // The returned private key is the certified key's.
    assert.ok(issued.privateKeyPem);
    const keyFile = await put('edge.key', issued.privateKeyPem);
    const fromKey = await openssl(['pkey', '-in', keyFile, '-pubout'], work);
    const fromCert = await openssl(['x509', '-in', crt, '-noout', '-pubkey'], work);
    assert.equal(fromCert.stdout, fromKey.stdout);
    const other = await issueEdgeCertificate(ca, { edgeId: 'edge-0001' });
    assert.notEqual(other.serial, issued.serial);
  });

  it('signs a CSR made by openssl req for the right edge, keeping the edge its key', async () => {
    const csr = await opensslCsr('edge-7');
    const issued = await issueEdgeCertificate(ca, { edgeId: 'edge-7', csr, validityDays: 30 });
    assert.equal(issued.privateKeyPem, undefined);
    const run = await verify(issued.certificatePem);
    assert.equal(run.code, 0, run.stderr);
    const fromCsr = await openssl(['req', '-in', await put('edge.csr', csr), '-noout', '-pubkey'], work);
    const fromCert = await openssl(
      ['x509', '-in', await put('edge.crt', issued.certificatePem), '-noout', '-pubkey'],
      work,
    );
    assert.equal(fromCert.stdout, fromCsr.stdout);
  });

  it('refuses a CSR naming another edge, and a tampered one', async () => {
    const csr = await opensslCsr('edge-7');
    await assert.rejects(
      issueEdgeCertificate(ca, { edgeId: 'edge-8', csr }),
      refusedWith('CSR_SUBJECT_MISMATCH'),
    );
    // The same request with its CN changed to edge-8: the subject now matches, the signature not.
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const at = der.indexOf('edge-7');
    assert.ok(at > 0);
    der.write('edge-8', at);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(
      issueEdgeCertificate(ca, { edgeId: 'edge-8', csr: tampered }),
      refusedWith('CSR_SIGNATURE'),
    );
  });

  it('refuses garbage with a typed error, never a crash', async () => {
    const csr = await opensslCsr('edge-9');
    const body = csr.replace(/-----[^-]+-----|\s/g, '');
    const garbage = [
      'hello',
      '-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n',
      `-----BEGIN CERTIFICATE REQUEST-----\n${body.slice(0, 80)}\n-----END CERTIFICATE REQUEST-----\n`,
      ca.certificatePem,
    ];
    for (const pem of garbage) {
      await assert.rejects(
        issueEdgeCertificate(ca, { edgeId: 'edge-9', csr: pem }),
        refusedWith('CSR_MALFORMED'),
      );
    }
    await assert.rejects(
      issueEdgeCertificate(ca, { edgeId: 'edge-9', publicKey: 'nope' }),
      refusedWith('KEY_MALFORMED'),
    );
    await assert.rejects(issueEdgeCertificate(ca, { edgeId: 'edge/9' }), refusedWith('INVALID_EDGE_ID'));
    await assert.rejects(
      issueEdgeCertificate(ca, { edgeId: 'edge-9', validityDays: 0 }),
      refusedWith('INVALID_OPTION'),
    );
    const weak = await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], work);
    const weakPublic = await openssl(['pkey', '-in', await put('weak.key', weak.stdout), '-pubout'], work);
    await assert.rejects(
      issueEdgeCertificate(ca, { edgeId: 'edge-9', publicKey: weakPublic.stdout }),
      refusedWith('KEY_UNSUPPORTED'),
    );
  });

  it('issues to a given public key, and an expired certificate fails openssl verify', async () => {
    const key = await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], work);
    const publicKey = (await openssl(['pkey', '-in', await put('edge.key', key.stdout), '-pubout'], work))
      .stdout;
    const current = await issueEdgeCertificate(ca, { edgeId: 'edge-10', publicKey });
    assert.equal((await verify(current.certificatePem)).code, 0);
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    const expired = await issueEdgeCertificate(ca, {
      edgeId: 'edge-10',
      publicKey,
      now: tenDaysAgo,
      validityDays: 1,
    });
    const run = await verify(expired.certificatePem);
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /certificate has expired/);
  });
});

describe('createCrl', () => {
  it('signs a CRL with which openssl refuses the revoked certificate and accepts the others', async () => {
    const revoked = await issueEdgeCertificate(ca, { edgeId: 'edge-gone' });
    const kept = await issueEdgeCertificate(ca, { edgeId: 'edge-kept' });
    const crlPem = await createCrl(ca, {
      revoked: [{ serial: revoked.serial, revokedAt: new Date() }],
      nextUpdateHours: 1,
    });
    const crl = await put('fleet.crl', crlPem);
    const refused = await verify(revoked.certificatePem, ['-crl_check', '-CRLfile', crl]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /certificate revoked/);
    const accepted = await verify(kept.certificatePem, ['-crl_check', '-CRLfile', crl]);
    assert.equal(accepted.code, 0, accepted.stderr);
    const text = await openssl(['crl', '-in', crl, '-noout', '-text'], work);
    assert.match(text.stdout, new RegExp(revoked.serial, 'i'));
    assert.match(text.stdout, /Cessation Of Operation/);
    // Without the revocation the same certificate passes the CRL check.
    const empty = await put('empty.crl', await createCrl(ca, { revoked: [], nextUpdateHours: 1 }));
    assert.equal((await verify(revoked.certificatePem, ['-crl_check', '-CRLfile', empty])).code, 0);
  });

  it('refuses a malformed serial and a CRL validity out of range', async () => {
    const other = (await generateFleetCa({})).ca;
    const bad = createCrl(other, { revoked: [{ serial: 'zz', revokedAt: new Date() }], nextUpdateHours: 1 });
    await assert.rejects(bad, refusedWith('SERIAL_MALFORMED'));
    await assert.rejects(
      createCrl(other, { revoked: [], nextUpdateHours: 0 }),
      refusedWith('INVALID_OPTION'),
    );
  });
});
