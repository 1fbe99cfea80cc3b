/**
 * docker-compose.yml checked without a Docker engine: parsed, interpolated with
 * deploy/example.env as compose would, and every DeviceHub service's command and environment
 * held against the project's own settings schema (cli/settings.ts); images, ports, mounts,
 * dependencies and the files beside it (HAProxy, Prometheus) checked for agreement.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type CommandName, ConfigError, checkEnvironment } from '../cli/settings.ts';
import { STREAM_NODE_MAX_BYTES, spawnDevicehub, v8FlagsOf } from '../infra/mod.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  profiles?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, { required?: boolean }>;
  network_mode?: string;
  pid?: string;
  extra_hosts?: string[];
}

/** KEY=VALUE lines of an env file (comments and blanks skipped). */
function envFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

/** Compose's variable interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$. */
function interpolate(value: string, env: Record<string, string>, where: string): string {
  return value.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name, op, arg) => {
    if (whole === '$$') return '$';
    const set = env[name as string];
    if (op === ':-') return set === undefined || set === '' ? (arg as string) : set;
    if (op === '-') return set ?? (arg as string);
    if (op === ':?' || op === '?') {
      if (set === undefined || (op === ':?' && set === '')) {
        throw new Error(`${where}: \${${name}} is required (${arg}) and deploy/example.env does not set it`);
      }
      return set;
    }
    return set ?? '';
  });
}

function load(env: Record<string, string>) {
  const doc = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  for (const [name, service] of Object.entries(doc.services)) {
    if (service.environment) {
      service.environment = Object.fromEntries(
        Object.entries(service.environment).map(([k, v]) => [k, interpolate(String(v), env, `${name}.${k}`)]),
      );
    }
  }
  return doc.services;
}

const example = envFile(read('deploy/example.env'));
const services = load(example);
const isDevicehub = (s: Service) => s.image === 'devicehub:latest';
const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command : String(s.command ?? '').split(' '));
const dependencies = (s: Service) =>
  Array.isArray(s.depends_on)
    ? s.depends_on.map((name) => ({ name, required: true }))
    : Object.entries(s.depends_on ?? {}).map(([name, o]) => ({ name, required: o.required !== false }));

describe('docker-compose.yml', () => {
  it('has the production topology, in both Redis profiles', () => {
    const names = Object.keys(services);
    for (const required of [
      'redis',
      'postgres',
      'postgres-replica',
      'pgbouncer',
      'mosquitto',
      'frps',
      'lb',
      'prometheus',
      'grafana',
      'redis-cluster-init',
      ...['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6'],
      ...['kafka-1', 'kafka-2', 'kafka-3', 'node-1', 'node-2', 'node-3', 'gateway-1', 'gateway-2'],
      ...['link-mqtt', 'link-kafka', 'clips-1', 'clips-2', 'ezviz-standin', 'recognize-1', 'recognize-2'],
    ]) {
      assert.ok(names.includes(required), `service ${required}`);
    }
    assert.deepEqual(services.redis!.profiles, ['single']);
    for (let i = 1; i <= 6; i++) {
      const node = services[`redis-${i}`]!;
      assert.deepEqual(node.profiles, ['cluster']);
      const command = commandOf(node).join(' ');
      assert.match(command, /--cluster-enabled yes/);
      assert.match(command, /--appendfsync always/);
    }
    assert.match(commandOf(services.redis!).join(' '), /--appendonly yes --appendfsync always/);
    // The stream nodes the suite's Redis runs with: a trim frees what it cuts (decision 059).
    for (const name of ['redis', 'redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6'])
      assert.match(
        commandOf(services[name]!).join(' '),
        new RegExp(`--stream-node-max-bytes ${STREAM_NODE_MAX_BYTES}\\b`),
        `${name} runs with ${STREAM_NODE_MAX_BYTES}-byte stream nodes`,
      );
    assert.match(commandOf(services['redis-cluster-init']!).join(' '), /--cluster-replicas 1/);
  });

  it('runs every DeviceHub service with a known command and an environment the settings schema accepts', () => {
    const nodeIds = new Set<string>();
    const databases = new Set<string>();
    const clipWorkers = new Set<string>();
    const recognizers = new Set<string>();
    for (const [name, service] of Object.entries(services)) {
      if (!isDevicehub(service)) continue;
      const [command, ...rest] = commandOf(service);
      const env = (service.environment ?? {}) as Record<string, string>;
      if (command === 'ezviz-standin') {
        // The stand-in (tests and demos only) reads the workers' key pair, nothing else.
        assert.deepEqual(service.profiles, ['ezviz-standin'], `${name}: only when asked for`);
        assert.deepEqual(Object.keys(env).sort(), [
          'DH_EZVIZ_APP_KEY',
          'DH_EZVIZ_APP_SECRET',
          'DH_LOG_LEVEL',
        ]);
        assert.doesNotThrow(() => checkEnvironment('clips', env), `${name}'s environment`);
        assert.match(rest.join(' '), /--host 0\.0\.0\.0 --port 8090/);
        continue;
      }
      assert.ok(
        ['node', 'link', 'gateway', 'clips', 'recognize'].includes(command!),
        `${name}: command ${command}`,
      );
      assert.doesNotThrow(() => checkEnvironment(command as CommandName, env), `${name}'s environment`);
      assert.match(env.REDIS_URL ?? '', /^redis:\/\/redis:6379$/, `${name} talks to Redis`);
      if (command === 'node') {
        assert.ok(env.DH_NODE_ID && !nodeIds.has(env.DH_NODE_ID), `${name}: a node id of its own`);
        nodeIds.add(env.DH_NODE_ID);
        assert.equal(env.DH_METRICS_HOST, '0.0.0.0', `${name}: metrics reachable by Prometheus`);
      }
      if (command === 'gateway') {
        assert.ok(env.DATABASE_URL, `${name}: PostgreSQL, not the embedded PGlite`);
        databases.add(env.DATABASE_URL);
        // Through PgBouncer; heavy reads on the streaming replica (docs/decisions/044).
        assert.equal(new URL(env.DATABASE_URL).hostname, 'pgbouncer');
        assert.equal(new URL(env.DATABASE_REPLICA_URL ?? 'postgres://none').hostname, 'postgres-replica');
      }
      if (command === 'clips') {
        assert.ok(env.DH_CLIPS_ID && !clipWorkers.has(env.DH_CLIPS_ID), `${name}: a worker id of its own`);
        clipWorkers.add(env.DH_CLIPS_ID);
        assert.equal(env.DATABASE_URL, databases.values().next().value, `${name}: the gateways' database`);
        assert.equal(
          env.DH_OBJECT_STORE,
          services['gateway-1']!.environment!.DH_OBJECT_STORE,
          `${name}: their store`,
        );
        assert.equal(env.DH_METRICS_HOST, '0.0.0.0', `${name}: metrics reachable by Prometheus`);
        assert.equal(env.DH_EZVIZ_URL, 'https://open.ys7.com', `${name}: the real Ezviz by default`);
      }
      if (command === 'recognize') {
        assert.ok(env.DH_RECOGNIZE_ID && !recognizers.has(env.DH_RECOGNIZE_ID), `${name}: an id of its own`);
        recognizers.add(env.DH_RECOGNIZE_ID);
        assert.equal(
          env.DH_OBJECT_STORE,
          services['gateway-1']!.environment!.DH_OBJECT_STORE,
          `${name}: the frames are in the gateways' store`,
        );
        assert.equal(env.DH_METRICS_HOST, '0.0.0.0', `${name}: metrics reachable by Prometheus`);
        // The model is not in the image: a file mounted read-only from deploy/models.
        const model = env.DH_RECOGNIZE_MODEL_FILE ?? '';
        const mount = (service.volumes ?? [])
          .map((v) => v.split(':'))
          .find(([, at]) => model.startsWith(`${at}/`));
        assert.ok(mount, `${name}: DH_RECOGNIZE_MODEL_FILE ${model} is in a mounted folder`);
        assert.deepEqual(
          [mount[0], mount[2]],
          ['./deploy/models', 'ro'],
          `${name}: deploy/models, read-only`,
        );
        assert.match(env.DH_RECOGNIZE_PROVIDERS ?? '', /^cuda,cpu$/, `${name}: CUDA where there is a GPU`);
      }
      if (command === 'link') {
        const host = rest[0] === 'mqtt' ? new URL(env.MQTT_URL!).hostname : env.KAFKA_BROKERS!.split(':')[0]!;
        assert.ok(services[host], `${name} reaches ${host}, a service of this file`);
      }
      for (const { name: dep } of dependencies(service))
        assert.ok(services[dep], `${name} depends on ${dep}`);
    }
    assert.equal(nodeIds.size, 3);
    assert.equal(databases.size, 1, 'the gateways share one database');
    assert.equal(clipWorkers.size, 2);
    assert.equal(recognizers.size, 2);
    // With the stand-in instead of an Ezviz account, the workers reach it as a service of this file.
    const standIn = load({ ...example, DH_EZVIZ_URL: 'http://ezviz-standin:8090' });
    const ezviz = new URL((standIn['clips-1']!.environment as Record<string, string>).DH_EZVIZ_URL!);
    assert.ok(standIn[ezviz.hostname], `${ezviz.hostname} is a service`);
    assert.equal(ezviz.port, '8090');
    // The cluster profile's settings (commented in example.env) pass too.
    const onCluster = load({
      ...example,
      REDIS_URL: 'redis+cluster://redis-1:6379,redis-2:6379,redis-3:6379',
      DH_TAG_GROUPS: '16',
    });
    assert.doesNotThrow(() =>
      checkEnvironment('node', onCluster['node-1']!.environment as Record<string, string>),
    );
  });

  it('starts each DeviceHub service with its command’s V8 flags (infra/v8-flags.ts)', () => {
    const image = /^ENTRYPOINT \[(.*)\]$/m
      .exec(read('Dockerfile'))![1]!
      .split(', ')
      .map((a) => JSON.parse(a) as string);
    const [node, ...script] = image;
    const withFlags: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (!isDevicehub(service)) continue;
      const flags = v8FlagsOf(commandOf(service)[0]);
      const expected = flags.length === 0 ? undefined : [node, ...flags, ...script];
      assert.deepEqual(service.entrypoint, expected, `${name}: its entry point`);
      if (flags.length > 0) withFlags.push(name);
    }
    assert.deepEqual(withFlags, ['node-1', 'node-2', 'node-3']);
  });

  it('names images with tags, free host ports, existing mounts and dependencies', () => {
    const hostPorts = new Map<string, string>();
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.image || service.build, `${name}: image or build`);
      if (service.image && !isDevicehub(service) && !service.build) {
        assert.match(service.image, /:v?[0-9][\w.-]*$/, `${name}: a pinned image version`);
      }
      for (const mapping of service.ports ?? []) {
        // A host port, optionally on the host's loopback only (`127.0.0.1:9090:9090`).
        const match = /^(?:127\.0\.0\.1:)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?$/.exec(mapping);
        assert.ok(match, `${name}: port mapping ${mapping}`);
        assert.ok(
          !hostPorts.has(match[1]!),
          `${name}: host port ${match[1]} also used by ${hostPorts.get(match[1]!)}`,
        );
        hostPorts.set(match[1]!, name);
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./'))
          assert.ok(existsSync(`${root}${source.slice(2)}`), `${name}: ${source} exists`);
      }
      for (const { name: dep } of dependencies(service))
        assert.ok(services[dep], `${name}: depends on ${dep}`);
    }
  });

  it('runs a 3-broker KRaft Kafka that keeps acknowledged messages through one broker’s death', () => {
    const brokers = ['kafka-1', 'kafka-2', 'kafka-3'].map(
      (n) => services[n]!.environment as Record<string, string>,
    );
    assert.deepEqual(
      brokers.map((b) => b.KAFKA_NODE_ID),
      ['1', '2', '3'],
    );
    for (const b of brokers) {
      assert.equal(b.KAFKA_CONTROLLER_QUORUM_VOTERS, '1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
      assert.equal(b.KAFKA_DEFAULT_REPLICATION_FACTOR, '3');
      assert.equal(b.KAFKA_MIN_INSYNC_REPLICAS, '2');
      assert.equal(b.KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE, 'false');
    }
    const link = services['link-kafka']!.environment as Record<string, string>;
    assert.equal(link.KAFKA_BROKERS, 'kafka-1:9092,kafka-2:9092,kafka-3:9092');
  });

  it('agrees with the balancer and Prometheus about the gateways and nodes', () => {
    const gateways = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'gateway' && isDevicehub(services[n]!),
    );
    const servers = [...read('deploy/haproxy/haproxy.cfg').matchAll(/^\s*server (\S+) (\S+):(\d+)/gm)];
    assert.deepEqual(
      servers.map((m) => `${m[2]}:${m[3]}`),
      gateways.map((g) => `${g}:${(services[g]!.environment as Record<string, string>).PORT}`),
    );
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = (job: string) =>
      prometheus.scrape_configs.find((c) => c.job_name === job)!.static_configs.flatMap((c) => c.targets);
    const nodes = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'node' && isDevicehub(services[n]!),
    );
    assert.deepEqual(
      targets('devicehub-nodes'),
      nodes.map((n) => `${n}:${(services[n]!.environment as Record<string, string>).DH_METRICS_PORT}`),
    );
    assert.deepEqual(
      targets('devicehub-gateways'),
      gateways.map((g) => `${g}:8080`),
    );
    const clipWorkers = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'clips' && isDevicehub(services[n]!),
    );
    assert.deepEqual(
      targets('devicehub-clips'),
      clipWorkers.map((n) => `${n}:${(services[n]!.environment as Record<string, string>).DH_METRICS_PORT}`),
    );
    const recognizers = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'recognize' && isDevicehub(services[n]!),
    );
    assert.deepEqual(
      targets('devicehub-recognize'),
      recognizers.map((n) => `${n}:${(services[n]!.environment as Record<string, string>).DH_METRICS_PORT}`),
    );
    const links = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'link' && isDevicehub(services[n]!),
    );
    assert.equal(links.length, 2, 'the MQTT and the Kafka link');
    assert.deepEqual(
      targets('devicehub-links'),
      links.map((n) => `${n}:${(services[n]!.environment as Record<string, string>).DH_METRICS_PORT}`),
    );
    for (const n of links)
      assert.equal(
        (services[n]!.environment as Record<string, string>).DH_METRICS_HOST,
        '0.0.0.0',
        `${n}: metrics reachable by Prometheus`,
      );
    assert.ok(services['redis-exporter'], 'Redis memory is scraped');
  });

  it('monitors every host and server, alerting through Alertmanager to the gateways', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = (job: string) =>
      prometheus.scrape_configs.find((c) => c.job_name === job)?.static_configs.flatMap((c) => c.targets) ??
      [];
    // Each exporter's target is its service, on the port its command listens on.
    for (const [job, service] of [
      ['redis', 'redis-exporter'],
      ['postgres', 'postgres-exporter'],
      ['alertmanager', 'alertmanager'],
    ] as const) {
      const [target] = targets(job);
      assert.ok(target, `Prometheus scrapes ${job}`);
      const [host, port] = target.split(':');
      assert.equal(host, service);
      assert.match(
        commandOf(services[service]!).join(' '),
        new RegExp(`listen-address=:${port}\\b`),
        `${service} on ${port}`,
      );
    }
    assert.deepEqual(targets('victorialogs'), ['victorialogs:9428']);
    // node_exporter sees the machine (its network and processes), and Prometheus reaches it there.
    const nodeExporter = services['node-exporter']!;
    assert.equal(nodeExporter.network_mode, 'host');
    assert.equal(nodeExporter.pid, 'host');
    assert.match(commandOf(nodeExporter).join(' '), /--path\.rootfs=\/host --web\.listen-address=:9100/);
    assert.deepEqual(targets('node'), ['host.docker.internal:9100']);
    const server = services.prometheus!;
    assert.deepEqual(server.extra_hosts, ['host.docker.internal:host-gateway']);
    // Reloadable, so only on the host's loopback; the operator's rules from the volume the gateways write.
    assert.ok(commandOf(server).includes('--web.enable-lifecycle'));
    assert.deepEqual(server.ports, ['127.0.0.1:9090:9090']);
    assert.ok(prometheus.rule_files.includes('/etc/prometheus/rules/*.yml'));
    assert.ok(server.volumes?.includes('prometheus-rules:/etc/prometheus/rules:ro'));
    assert.deepEqual(prometheus.alerting.alertmanagers[0]!.static_configs[0]!.targets, ['alertmanager:9093']);
    const gateways = Object.keys(services).filter(
      (n) => commandOf(services[n]!)[0] === 'gateway' && isDevicehub(services[n]!),
    );
    // Not an empty list: the checks below would all pass on one.
    assert.equal(gateways.length, 2, 'the two gateways');
    const token = (services.alertmanager!.environment as Record<string, string>).ALERT_WEBHOOK_TOKEN;
    assert.ok(token, 'Alertmanager has the webhook token');
    for (const name of gateways) {
      const env = services[name]!.environment as Record<string, string>;
      assert.ok(
        services[name]!.volumes?.includes(`prometheus-rules:${env.DEVICEHUB_PROMETHEUS_RULES_DIR}`),
        `${name} writes the rules Prometheus loads`,
      );
      assert.equal(new URL(env.DEVICEHUB_PROMETHEUS_URL!).host, 'prometheus:9090');
      assert.equal(new URL(env.DEVICEHUB_ALERTMANAGER_URL!).host, 'alertmanager:9093');
      assert.equal(env.DEVICEHUB_ALERT_WEBHOOK_TOKEN, token, `${name} checks the token Alertmanager sends`);
    }
    // Alertmanager calls each gateway's webhook.
    const alertmanager = parse(read('deploy/prometheus/alertmanager.yml')) as {
      receivers: { webhook_configs: { url: string }[] }[];
    };
    assert.deepEqual(
      alertmanager.receivers.flatMap((r) => r.webhook_configs.map((w) => w.url)),
      gateways.map((g) => `http://${g}:8080/v1/monitoring/alertmanager`),
    );
  });
});

describe('settings at start-up', () => {
  it('refuses a bad value or an unknown DH_ variable, naming it', () => {
    assert.throws(
      () => checkEnvironment('node', { DH_LEASE_MS: 'soon' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'DH_LEASE_MS',
    );
    assert.throws(
      () => checkEnvironment('gateway', { REDIS_URL: 'redis+cluster://a:1,b' }),
      /Invalid REDIS_URL.*redis\+cluster:\/\/host:port/,
    );
    assert.throws(
      () => checkEnvironment('link', { DH_WAIT_REPLICA: '1' }),
      /Unknown setting DH_WAIT_REPLICA/,
    );
    assert.doesNotThrow(() =>
      checkEnvironment('node', { DH_LEASE_MS: '1500', MQTT_URL: 'not read by node' }),
    );
  });

  it('stops a process whose environment is wrong before it connects anywhere', async () => {
    const proc = spawnDevicehub(['node'], { env: { DH_TICK_MS: '5 ms' } });
    assert.equal(await proc.exited, 1);
    await assert.rejects(proc.ready, /Invalid DH_TICK_MS="5 ms": expected an integer/);
  });
});
