/**
 * For the browser tests (the dashboard's pages, the wall screen): Debian's Chromium launched
 * headless with the options the tunnel terminal test uses, and the folder their screenshots go to
 * (`DH_TEST_ARTIFACTS`, default `.devicehub/test-artifacts`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const chromiumArgs =
  '--no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync'.split(
    ' ',
  );

/** Chromium from /usr/bin/chromium with `chromiumArgs`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
}

/** The folder for the browser tests' screenshots, created when missing. */
export function testArtifacts(): string {
  const dir = process.env.DH_TEST_ARTIFACTS ?? join(process.cwd(), '.devicehub', 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}
