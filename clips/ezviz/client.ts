/**
 * `openEzvizClient`: the clip workers' client of the Ezviz Open Platform's cloud recording
 * (docs/ezviz-open-api.md), keeping Ezviz's rules for the whole cluster through Redis:
 * - one access token (token-cache.ts), refreshed before it expires and at once on 10002;
 * - every call, the token's included, first takes from the cluster's budget (bus
 *   `takeEzvizBudget`), waiting while it is spent or while a cooldown holds;
 * - a 10007/10029 answer starts the shared cooldown (growing on repeats) and is thrown as a
 *   retryable 'rate' EzvizError: nobody hammers;
 * - saving a fileId that exists finds the task that saved it (never a second clip).
 * `stats` counts calls by endpoint, errors by code, budget waits, cooldowns and tokens fetched.
 */
import type { Logger } from '../../actors/mod.ts';
import { type EzvizBudget, type Keyspace, openBus, type Redis } from '../../bus/mod.ts';
import { DUPLICATE_FILE, EzvizError, TOKEN_EXPIRED } from './errors.ts';
import { type TaskView, taskFilesView, taskStatusView } from './task-view.ts';
import { createTokenCache } from './token-cache.ts';
import { createEzvizStats, createTransport, type EzvizRequest, type EzvizStats } from './transport.ts';
import {
  EZVIZ_PATHS,
  EZVIZ_TZ_OFFSET_MINUTES,
  type EzvizEndpoint,
  formatEzvizTime,
  readDownload,
  readTaskFiles,
  readTaskId,
  readTaskStatus,
  readToken,
} from './wire.ts';

export interface EzvizClientOptions {
  /** e.g. `https://open.ys7.com`, or the stand-in's url. */
  readonly baseUrl: string;
  readonly appKey: string;
  readonly appSecret: string;
  /** The bus connection (connectRedis): the token, budget and cooldown live there. */
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly budget: EzvizBudget;
  readonly logger: Logger;
  readonly fetch?: typeof fetch;
  /** The cloud-recording project the clips are saved in. Default `devicehub`. */
  readonly projectId?: string;
  /** Cooldown after a 10029 answer: first and longest, ms. Default 2 s … 60 s. */
  readonly frequencyCooldown?: { baseMs: number; maxMs: number };
  /** Cooldown after a 10007 answer (the account's call count): default 60 s … 1 h. */
  readonly countCooldown?: { baseMs: number; maxMs: number };
  /** Lifetime asked for download URLs, s (Ezviz: 60..604800). Default 3600. */
  readonly urlExpireSeconds?: number;
  /** Refresh the token this long before it expires, ms. Default one day. */
  readonly refreshTokenBeforeMs?: number;
  /** Zone of Ezviz's `yyyyMMddHHmmss` times, minutes east of UTC. Default 480 (Beijing). */
  readonly tzOffsetMinutes?: number;
  /** Per-request timeout, ms. Default 15000. */
  readonly timeoutMs?: number;
}

export interface SaveRecording {
  readonly fileId: string;
  readonly deviceSerial: string;
  readonly channelNo: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly signal?: AbortSignal;
}

export interface EzvizClient {
  /** Saves the camera's cloud recording of [startMs, endMs] as `fileId`; the task's id (the existing one for a known fileId). */
  saveRecording(input: SaveRecording): Promise<{ taskId: string; existing: boolean }>;
  /** The task's state and, once done, its files. */
  task(taskId: string, options?: { signal?: AbortSignal }): Promise<TaskView>;
  /** A fresh download URL for the task's file and when it expires (ms). */
  downloadUrl(input: {
    taskId: string;
    fileId: string;
    signal?: AbortSignal;
  }): Promise<{ url: string; expiresAt: number }>;
  readonly stats: EzvizStats;
}

export function openEzvizClient(options: EzvizClientOptions): EzvizClient {
  const {
    baseUrl,
    appKey,
    appSecret,
    redis,
    keyspace,
    budget,
    logger: parentLogger,
    fetch: doFetch = fetch,
    projectId = 'devicehub',
    frequencyCooldown = { baseMs: 2_000, maxMs: 60_000 },
    countCooldown = { baseMs: 60_000, maxMs: 3_600_000 },
    urlExpireSeconds = 3600,
    refreshTokenBeforeMs,
    tzOffsetMinutes = EZVIZ_TZ_OFFSET_MINUTES,
    timeoutMs = 15_000,
  } = options;
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
    throw new RangeError(`Cannot open Ezviz client: baseUrl must be an http(s) URL, got "${baseUrl}"`);
  }
  if (!appKey || !appSecret)
    throw new RangeError('Cannot open Ezviz client: appKey and appSecret are required');
  if (!(Number.isInteger(urlExpireSeconds) && urlExpireSeconds >= 60 && urlExpireSeconds <= 604_800)) {
    throw new RangeError(
      `Cannot open Ezviz client: urlExpireSeconds must be 60..604800, got ${urlExpireSeconds}`,
    );
  }
  const root = baseUrl.replace(/\/+$/, '');
  const logger = parentLogger.child({ component: 'ezviz' });
  const bus = openBus({ redis, keyspace });
  const stats = createEzvizStats();
  const send = createTransport({
    root,
    bus,
    budget,
    stats,
    logger,
    fetch: doFetch,
    timeoutMs,
    frequencyCooldown,
    countCooldown,
  });

  const tokens = createTokenCache({
    bus,
    logger,
    ...(refreshTokenBeforeMs === undefined ? {} : { refreshBeforeMs: refreshTokenBeforeMs }),
    onFetched: () => {
      stats.tokensFetched++;
    },
    fetchToken: async (signal) =>
      readToken(
        await send(
          'token',
          { method: 'POST', path: EZVIZ_PATHS.token, params: { appKey, appSecret }, tokenIn: 'none' },
          '',
          signal,
        ),
      ),
  });

  /** A call with the cluster's token; on 10002 the token is refreshed once and the call sent again. */
  async function call(
    endpoint: EzvizEndpoint,
    request: EzvizRequest,
    signal?: AbortSignal,
  ): Promise<unknown> {
    let token = await tokens.get(signal);
    try {
      return await send(endpoint, request, token, signal);
    } catch (error) {
      if (!(error instanceof EzvizError && error.code === TOKEN_EXPIRED)) throw error;
      stats.tokenRejections++;
      token = await tokens.refresh(token, signal);
      return send(endpoint, request, token, signal);
    }
  }

  async function existingTask(fileId: string, signal?: AbortSignal): Promise<string> {
    const data = await call(
      'fileInfo',
      { method: 'GET', path: EZVIZ_PATHS.fileInfo, params: { projectId, fileId }, tokenIn: 'params' },
      signal,
    );
    return readTaskId('fileInfo', data);
  }

  return {
    stats,
    async saveRecording(input) {
      const { fileId, deviceSerial, channelNo, startMs, endMs, signal } = input;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(fileId)) {
        throw new RangeError(`Cannot save recording: fileId must be 1..64 of [A-Za-z0-9_-], got "${fileId}"`);
      }
      if (!(Number.isSafeInteger(startMs) && Number.isSafeInteger(endMs) && endMs > startMs)) {
        throw new RangeError(`Cannot save recording: need integer startMs < endMs, got ${startMs}, ${endMs}`);
      }
      // Whole seconds that cover the window: the start rounded down, the end up.
      const startTime = formatEzvizTime(Math.floor(startMs / 1000) * 1000, tzOffsetMinutes);
      const endTime = formatEzvizTime(Math.ceil(endMs / 1000) * 1000, tzOffsetMinutes);
      const params = {
        deviceSerial,
        channelNo: String(channelNo),
        projectId,
        fileId,
        startTime,
        endTime,
        recType: 'cloud',
      };
      try {
        const data = await call(
          'save',
          { method: 'POST', path: EZVIZ_PATHS.save, params, tokenIn: 'params' },
          signal,
        );
        return { taskId: readTaskId('save', data), existing: false };
      } catch (error) {
        if (!(error instanceof EzvizError && error.code === DUPLICATE_FILE)) throw error;
        logger.info({ fileId }, 'ezviz fileId exists: taking its task');
        return { taskId: await existingTask(fileId, signal), existing: true };
      }
    },
    async task(taskId, { signal } = {}) {
      const status = readTaskStatus(
        await call(
          'task',
          {
            method: 'GET',
            path: `${EZVIZ_PATHS.task}/${encodeURIComponent(taskId)}`,
            params: {},
            tokenIn: 'params',
          },
          signal,
        ),
      );
      const early = taskStatusView(status);
      if (early !== undefined) return early;
      const params = { taskId, pageNumber: '0', pageSize: '50', hasUrl: 'true' };
      return taskFilesView(
        readTaskFiles(
          await call(
            'taskFiles',
            { method: 'GET', path: EZVIZ_PATHS.taskFiles, params, tokenIn: 'params' },
            signal,
          ),
        ),
      );
    },
    async downloadUrl({ fileId, signal }) {
      const params = { fileId, projectId, contentType: 'video/mp4', expireSeconds: String(urlExpireSeconds) };
      const data = await call(
        'download',
        { method: 'GET', path: EZVIZ_PATHS.download, params, tokenIn: 'header' },
        signal,
      );
      return readDownload(data);
    },
  };
}
