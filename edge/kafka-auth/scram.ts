/**
 * SCRAM-SHA-512 (RFC 5802 / RFC 7677 with SHA-512), both halves the credential admin needs: the
 * salted password a new credential is stored as (the broker gets salt, iterations and
 * `Hi(password)`, never the password), and the client side of a login.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { KafkaAuthError } from './errors.ts';

/** Kafka's ScramMechanism type of SCRAM-SHA-512. */
export const SCRAM_SHA_512 = 2;
/** Kafka accepts 4096..16384 iterations for SCRAM-SHA-512. */
export const SCRAM_ITERATIONS = 8192;

const pbkdf2Async = promisify(pbkdf2);
const hmac = (key: Buffer, text: string | Buffer) => createHmac('sha512', key).update(text).digest();

/** `Hi(password, salt, i)`: what the broker stores with the salt and iteration count. */
export function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 64, 'sha512');
}

/**
 * A new credential's upsertion fields: a fresh salt, and the salted password (computed on libuv's
 * thread pool: ~4 ms of CPU an edge, which would otherwise stall the gateway's event loop).
 */
export async function scramCredential(password: string, iterations = SCRAM_ITERATIONS) {
  const salt = randomBytes(32);
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 64, 'sha512');
  return { salt, iterations, saltedPassword: salted };
}

/** `saslname` of RFC 5802: `=` and `,` escaped. */
const saslName = (user: string) => user.replaceAll('=', '=3D').replaceAll(',', '=2C');

/** The client side of one SCRAM-SHA-512 login: `first()`, then `final(serverFirst)`, then `verify(serverFinal)`. */
export class ScramClient {
  readonly #user: string;
  readonly #password: string;
  readonly #nonce = randomBytes(24).toString('base64url');
  #authMessage = '';
  #saltedPassword: Buffer | undefined;

  constructor(user: string, password: string) {
    this.#user = user;
    this.#password = password;
  }

  #bare(): string {
    return `n=${saslName(this.#user)},r=${this.#nonce}`;
  }

  first(): Buffer {
    return Buffer.from(`n,,${this.#bare()}`, 'utf8');
  }

  final(serverFirst: Buffer): Buffer {
    const text = serverFirst.toString('utf8');
    const fields = new Map(text.split(',').map((f) => [f.slice(0, 1), f.slice(2)] as const));
    const nonce = fields.get('r');
    const salt = fields.get('s');
    const iterations = Number(fields.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.#nonce) || salt === undefined || !(iterations > 0)) {
      throw new KafkaAuthError('PROTOCOL', 'SCRAM: the server’s first message is malformed');
    }
    this.#saltedPassword = saltedPassword(this.#password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    this.#authMessage = `${this.#bare()},${text},${withoutProof}`;
    const clientKey = hmac(this.#saltedPassword, 'Client Key');
    const storedKey = createHash('sha512').update(clientKey).digest();
    const signature = hmac(storedKey, this.#authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server's signature: the broker proves it knows the credential too. */
  verify(serverFinal: Buffer): void {
    const text = serverFinal.toString('utf8');
    if (text.startsWith('e=')) {
      throw new KafkaAuthError(
        'AUTHENTICATION_FAILED',
        `SCRAM: the broker refused the login (${text.slice(2)})`,
      );
    }
    const v = text.startsWith('v=') ? Buffer.from(text.slice(2).split(',')[0]!, 'base64') : undefined;
    const expected = hmac(hmac(this.#saltedPassword ?? Buffer.alloc(0), 'Server Key'), this.#authMessage);
    if (v === undefined || v.length !== expected.length || !timingSafeEqual(v, expected)) {
      throw new KafkaAuthError('AUTHENTICATION_FAILED', 'SCRAM: the broker’s signature does not match');
    }
  }
}
