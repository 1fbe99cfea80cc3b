/**
 * What the agent-process update tests share: a real mosquitto, a real artifact origin, the test as
 * the hub (an MQTT client as the link user that sends `update` commands on the edge's downlink and
 * decodes the edge's compact uplink), and `devicehub agent --config` processes with their own data
 * and slot directories — started as systemd would (the boot script first), killed with SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import {
  freePort,
  type MosquittoServer,
  startMosquitto,
  TS_NODE_ARGS,
  waitFor,
} from '../../../../infra/mod.ts';
import { LINK_USER } from '../../../broker/mod.ts';
import {
  decodeCompact,
  downlinkTopic,
  type UpdateStatePayload,
  type UpdateTarget,
} from '../../../protocol/mod.ts';
import { type ArtifactServer, startArtifactServer } from './artifact-server.ts';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BOOT_SCRIPT = join(ROOT, 'deploy/agent/devicehub-agent-boot.sh');
const EDGE = 'E-7';
const users = { [LINK_USER]: 'hub-secret', [EDGE]: 'e7-secret' };

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly localUrl: string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string | null>;
  /** elenet hands the agent its vision state on the local input. */
  feedElenet(): Promise<void>;
  current(): string;
  kill9(): Promise<void>;
}

/** How the rig starts an agent: its data directory, a command prefix, the entry point. */
export interface AgentStart {
  dataDir?: string;
  wrap?: (argv: string[], dataDir: string) => string[];
  entry?: string[];
}

export interface UpdateRig {
  broker: MosquittoServer;
  origin: ArtifactServer;
  /** Update states and command results the edge sent, in order. */
  states: UpdateStatePayload[];
  results: { id: string; ok: boolean; result?: unknown; error?: string }[];
  /** Starts the agent on `dataDir` (a new one unless given); `wrap` prefixes the command (unshare …). */
  agent(o?: AgentStart): Promise<AgentProcess>;
  update(rollout: string, targets: UpdateTarget[], o?: { healthDeadlineMs?: number }): void;
  /** Waits for `rollout`'s state of `name` to be `state`. */
  until(rollout: string, name: string, state: UpdateStatePayload['state']): Promise<UpdateStatePayload>;
}

export function useUpdateRig(): UpdateRig {
  const rig = { states: [], results: [] } as unknown as UpdateRig;
  let hub: mqtt.MqttClient;
  const agents: AgentProcess[] = [];
  let commands = 0;
  before(async () => {
    [rig.broker, rig.origin] = await Promise.all([startMosquitto({ users }), startArtifactServer()]);
    hub = await mqtt.connectAsync(rig.broker.url, { username: LINK_USER, password: users[LINK_USER] });
    await hub.subscribeAsync(`dh/v1/${EDGE}/up/#`, { qos: 1 });
    hub.on('message', (topic, payload) => {
      if (topic.endsWith('/update') || topic.endsWith('/result'))
        for (const m of decodeCompact(payload)) {
          if (m.method === 'updateState') rig.states.push(m.payload);
          if (m.method === 'commandResult') rig.results.push(m.payload);
        }
    });
  });
  after(async () => {
    for (const a of agents) await a.kill9();
    await hub?.endAsync();
    await Promise.all([rig.broker?.stop(), rig.origin?.close()]);
  });
  rig.agent = async (o = {}) => {
    const agent = await startAgent(rig, o);
    agents.push(agent);
    return agent;
  };
  rig.update = (rollout, targets, o = {}) => {
    const command = {
      id: `${rollout}.update.${++commands}`,
      type: 'update',
      args: { rollout, targets, spreadMs: 0, healthDeadlineMs: o.healthDeadlineMs ?? 20_000 },
      deadline: Date.now() + 60_000,
      epoch: 1,
    };
    hub.publish(downlinkTopic(EDGE), JSON.stringify(command), { qos: 1 });
  };
  rig.until = async (rollout, name, state) => {
    const find = () => rig.states.find((s) => s.rollout === rollout && s.name === name && s.state === state);
    await waitFor(() => find() !== undefined, {
      message: `${rollout}: ${name} ${state}`,
      timeoutMs: 30_000,
    }).catch((error: unknown) => {
      const seen = rig.states.filter((s) => s.rollout === rollout).map((s) => `${s.state} ${s.reason ?? ''}`);
      throw new Error(`${String(error)}; seen: ${seen.join(', ')}; results: ${JSON.stringify(rig.results)}`);
    });
    return find()!;
  };
  return rig;
}

/** A `devicehub agent` process for the rig's edge on the rig's broker and origin, once it is ready. */
async function startAgent(rig: Pick<UpdateRig, 'broker' | 'origin'>, o: AgentStart): Promise<AgentProcess> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'agent-install-'));
  const port = await freePort();
  const config = join(dataDir, '..', `${dataDir.split('/').at(-1)}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      edgeId: EDGE,
      password: users[EDGE],
      birth: { model: 'RV1126', firmware: '1', registrationCode: 'R', buildingId: 'B', elevatorNo: 'A' },
      dataDir,
      brokerUrl: rig.broker.url,
      localPort: port,
      updates: { mirrors: [rig.origin.url] },
    }),
  );
  await new Promise<void>((resolve) => {
    const boot = spawn('sh', [BOOT_SCRIPT, join(dataDir, 'slots')], { stdio: 'ignore' });
    boot.on('close', () => resolve());
  });
  const entry = o.entry ?? [process.execPath, ...TS_NODE_ARGS, join(ROOT, 'cli/devicehub.ts')];
  const argv = [...entry, 'agent', '--config', config];
  const [cmd, ...args] = o.wrap ? o.wrap(argv, dataDir) : argv;
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(cmd!, args, {
    cwd: ROOT,
    env: { ...env, DH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  await Promise.race([
    new Promise<void>((resolve) => child.on('message', () => resolve())),
    exited.then((code) => {
      throw new Error(`the agent exited with ${code} before it was ready`);
    }),
  ]);
  const localUrl = `http://127.0.0.1:${port}`;
  return {
    child,
    dataDir,
    localUrl,
    exited,
    async feedElenet() {
      const body = JSON.stringify({ ebike: false, doorBlocked: false });
      await fetch(`${localUrl}/v1/vision`, { method: 'POST', body });
    },
    current: () => readlinkSync(join(dataDir, 'slots', 'current')),
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
