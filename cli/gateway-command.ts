/**
 * `devicehub gateway`: the HTTP API (stateless: run as many as you like behind a balancer);
 * `devicehub gateway create-key --name N --scope admin`: an API key, printed once (the first
 * admin key comes from here; later ones from `POST /v1/api-keys`).
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectRedis } from '../bus/mod.ts';
import {
  API_SCOPES,
  type ApiScope,
  createApiKey,
  createGateway,
  openDatabase,
  serveGateway,
} from '../gateway/mod.ts';
import { clusterConfig, clusterFlags, intFlag } from './config.ts';

export const gatewayHelp = `devicehub gateway [options]              the HTTP API (/v1/docs lists it)
devicehub gateway create-key --name N --scope service|operator|admin

  --redis URL          Redis URL (env REDIS_URL; required)      --prefix P (env DH_PREFIX; default dh)
  --port N             (env PORT; default 8080)   --host H (env HOST; default 127.0.0.1)
  --database-url URL   PostgreSQL (env DATABASE_URL); without it, embedded PGlite in --data-dir
  --data-dir DIR       (env DH_DATA_DIR; default ./.devicehub/pglite)`;

export async function gatewayCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterFlags,
      port: { type: 'string' },
      host: { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      scope: { type: 'string' },
    },
  });
  const database = await openDatabase({
    url: values['database-url'] ?? process.env.DATABASE_URL,
    dataDir: values['data-dir'] ?? process.env.DH_DATA_DIR ?? './.devicehub/pglite',
  });
  if (positionals[0] === 'create-key') {
    const scope = values.scope as ApiScope;
    if (!values.name || !API_SCOPES.includes(scope))
      throw new RangeError(`create-key needs --name and --scope ${API_SCOPES.join('|')}\n\n${gatewayHelp}`);
    const { id, key } = await createApiKey(database.db, { name: values.name, scope });
    process.stdout.write(`${JSON.stringify({ id, scope, key })}\n`);
    await database.close();
    return;
  }
  const config = clusterConfig(values);
  if (!config.redisUrl) throw new RangeError('Missing --redis / REDIS_URL');
  const log = pino({ level: process.env.DH_LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  const redis = connectRedis(config.redisUrl, { name: 'gateway' });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const gateway = await createGateway({ database, redis, keyspace: config.keyspace, logger: log });
  const served = await serveGateway(gateway, {
    port: intFlag(values, 'port', 'PORT', 8080, 0, 65535),
    hostname: values.host ?? process.env.HOST ?? '127.0.0.1',
  });
  log.info({ url: served.url, database: database.driver }, 'gateway listening');
  process.send?.({ ready: true, url: served.url });
  const shutdown = async () => {
    await served.close();
    await gateway.stop();
    await database.close();
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
