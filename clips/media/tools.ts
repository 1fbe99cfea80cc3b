/**
 * Running ffmpeg and ffprobe: where they are (DEVICEHUB_FFMPEG / DEVICEHUB_FFPROBE, else PATH),
 * and one spawn helper that ends the child on abort or timeout and keeps the tail of its stderr
 * for the error message.
 */
import { spawn } from 'node:child_process';
import { MediaError } from './errors.ts';

/** Most of a child's stderr kept (its tail), and of its stdout. */
const STDERR_KEEP = 16 * 1024;
const STDOUT_MAX = 4 * 1024 * 1024;

export type MediaTool = 'ffmpeg' | 'ffprobe';

/** The binary for `tool`: `DEVICEHUB_FFMPEG` / `DEVICEHUB_FFPROBE` when set, else its name on PATH. */
export function toolPath(tool: MediaTool, env: NodeJS.ProcessEnv = process.env): string {
  const set = tool === 'ffmpeg' ? env.DEVICEHUB_FFMPEG : env.DEVICEHUB_FFPROBE;
  return set !== undefined && set !== '' ? set : tool;
}

export interface RunToolOptions {
  signal?: AbortSignal;
  /** Ends the child and throws TIMEOUT after this long (ms). */
  timeoutMs: number;
  cwd?: string;
}

export interface ToolOutput {
  /** The exit status (0 unless `allowFailure`). */
  code: number;
  stdout: string;
  /** The tail of stderr (at most 16 KiB). */
  stderr: string;
}

/**
 * Runs `tool` with `args` (no shell). Resolves with its output when it exits 0; rejects with
 * TOOL_MISSING when it is not there, TIMEOUT past `timeoutMs`, `signal.reason` on abort (the child
 * killed at once), TOOL_FAILED with its stderr's tail otherwise — unless `allowFailure`, which
 * resolves with any exit status so the caller can classify it.
 */
export function runTool(
  tool: MediaTool,
  args: readonly string[],
  options: RunToolOptions & { allowFailure?: boolean },
): Promise<ToolOutput> {
  const { signal, timeoutMs, cwd, allowFailure = false } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return Promise.reject(new RangeError(`Cannot run ${tool}: timeoutMs must be > 0, got ${timeoutMs}`));
  }
  const bin = toolPath(tool);
  return new Promise<ToolOutput>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (err: unknown, out?: ToolOutput): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (out) resolve(out);
      else reject(err);
    };
    const onAbort = (): void => finish(signal?.reason);
    const timer = setTimeout(
      () => finish(new MediaError('TIMEOUT', `${tool} ran past ${timeoutMs} ms: ${bin} ${args.join(' ')}`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < STDOUT_MAX) stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEEP);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const env = tool === 'ffmpeg' ? 'DEVICEHUB_FFMPEG' : 'DEVICEHUB_FFPROBE';
        finish(
          new MediaError(
            'TOOL_MISSING',
            `${tool} not found (${bin}): install Debian's ffmpeg or set ${env}`,
            {
              cause: err,
            },
          ),
        );
      } else finish(err);
    });
    child.on('close', (code, killedBy) => {
      const status = code ?? -1;
      if (status === 0 || allowFailure) {
        finish(undefined, { code: status, stdout, stderr });
        return;
      }
      const how = code === null ? `was killed by ${killedBy}` : `exited ${code}`;
      finish(new MediaError('TOOL_FAILED', `${tool} ${how}: ${lastLines(stderr)}`));
    });
  });
}

/** The last few lines of a tool's stderr, for an error message. */
export function lastLines(text: string, lines = 3): string {
  const kept = text.trim().split('\n').slice(-lines).join(' | ');
  return kept === '' ? '(no message)' : kept;
}
