/**
 * `devicehub ezviz-standin`: the Ezviz Open Platform stand-in (infra/ezviz) as a process of its
 * own, for `npm run cluster`, the compose file's demo-like setup and the tests — never for
 * production, where the clip workers talk to https://open.ys7.com. It serves the endpoints the
 * clip workers call, with real MP4s rendered by ffmpeg for the asked window, prints where it
 * listens and the app key pair it accepts (one JSON line on stdout; a parent process over IPC
 * hears the same), and runs until SIGTERM or Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startEzvizStandIn } from '../infra/mod.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

export const ezvizStandinHelp = `devicehub ezviz-standin [options]   a stand-in for the Ezviz cloud — for tests and the demo only

  Answers the Ezviz Open Platform calls the clip workers make (token, save a cloud recording, the
  task and its files, download URLs) and serves real MP4s (Debian's ffmpeg) whose burned-in clock
  covers the asked window. NOT the real cloud: production points DH_EZVIZ_URL at https://open.ys7.com.

  --port N            port to listen on (default 8090; 0: a free one)
  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --latency-ms N      delay before each API answer, ms (default 0; a real cloud: ~200)
  --task-ms N         how long a save task runs before it is done, ms (default 0)
  --late-files-ms N   a done task's files appear this much later, ms (default 0; Ezviz: a minute or more)
  --dir DIR           where rendered MP4s are cached (default a new temporary folder)
The app key pair it accepts: DH_EZVIZ_APP_KEY and DH_EZVIZ_APP_SECRET, as the clip workers read them
(default: a random pair). Prints {"url","appKey","appSecret"} on stdout: give the workers those.`;

export async function ezvizStandinCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '0' },
      'task-ms': { type: 'string', default: '0' },
      'late-files-ms': { type: 'string', default: '0' },
      dir: { type: 'string' },
    },
  });
  const log = processLogger('ezviz-standin');
  // The same variables the clip workers read (cli/clips-settings.ts), so one .env serves both.
  const { DH_EZVIZ_APP_KEY: appKey, DH_EZVIZ_APP_SECRET: appSecret } = process.env;
  const standIn = await startEzvizStandIn({
    port: int(values.port, 'port', 65_535),
    host: values.host,
    ...(appKey ? { appKey } : {}),
    ...(appSecret ? { appSecret } : {}),
    latencyMs: int(values['latency-ms'], 'latency-ms', 60_000),
    taskMs: int(values['task-ms'], 'task-ms', 3_600_000),
    faults: { lateFilesMs: int(values['late-files-ms'], 'late-files-ms', 3_600_000) },
    ...(values.dir === undefined ? {} : { dir: values.dir }),
  });
  const where = { url: standIn.url, appKey: standIn.appKey, appSecret: standIn.appSecret };
  log.info({ url: standIn.url }, 'Ezviz stand-in listening (for tests and the demo only)');
  process.stdout.write(`${JSON.stringify(where)}\n`);
  process.send?.({ ready: true, ...where });
  stopOnSignals({
    log,
    timeoutMs: 5000,
    steps: [{ name: 'closing the stand-in', run: () => standIn.close() }],
  });
}

function int(raw: string, flag: string, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max)
    throw new RangeError(`Invalid --${flag}: expected an integer 0..${max}, got "${raw}"`);
  return value;
}
