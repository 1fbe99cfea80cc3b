/**
 * The one place that loads `@peculiar/x509`. Its dependency injection (tsyringe) needs a Reflect
 * metadata polyfill loaded first, so the polyfill is imported here, before the library; every
 * other file of this folder imports the library through this module. Signing and verifying use
 * Node's WebCrypto.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
