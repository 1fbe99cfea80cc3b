/**
 * Debian's OpenSSL CLI (infra/provision.sh installs it), for tests that check what the fleet CA
 * issues with a verifier that is not ours: `code` is its exit status, `out` stdout and stderr.
 */
import { execFile } from 'node:child_process';

export type OpensslRun = { code: number; stdout: string; stderr: string; out: string };

export function openssl(args: string[], cwd?: string): Promise<OpensslRun> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: error ? Number(error.code) : 0, stdout, stderr, out: stdout + stderr });
    });
  });
}
