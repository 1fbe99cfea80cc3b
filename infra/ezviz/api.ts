/**
 * The stand-in's API answers, endpoint by endpoint, in Ezviz's two envelopes: `{code, msg, data}`
 * for the token (`lapp`), `{meta: {code, message, moreInfo}, data}` for cloud recording. Every
 * call first meets the faults that apply to all (malformed, rate limits), then the token check.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EZVIZ_PATHS, parseEzvizTime } from '../../clips/ezviz/mod.ts';
import type { FaultState } from './faults.ts';
import type { FileStore, StoredFile } from './files.ts';

export interface Answer {
  readonly status?: number;
  readonly body: string;
}

export interface EzvizTask {
  readonly taskId: string;
  readonly projectId: string;
  readonly fileId: string;
  readonly deviceSerial: string;
  readonly channelNo: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly createdAt: number;
  /** When the task is done (taskStatus 0). */
  readonly doneAt: number;
  /** When its file is uploaded (file status 0), if rendered by then. */
  readonly filesAt: number;
  readonly file: StoredFile;
}

interface ApiOptions {
  readonly appKey: string;
  readonly appSecret: string;
  readonly faults: FaultState;
  readonly files: FileStore;
  readonly stats: {
    tasks: number;
    tasksByFileId: Map<string, number>;
    duplicateSaves: number;
    tokensIssued: number;
  };
  readonly taskMs: number;
  readonly tokenTtlMs: number;
  readonly tzOffsetMinutes: number;
}

const lapp = (code: string, msg: string, data?: unknown): Answer => ({
  body: JSON.stringify({ code, msg, ...(data === undefined ? {} : { data }) }),
});
const meta = (code: number, message: string, data: unknown = null): Answer => ({
  body: JSON.stringify({ meta: { code, message, moreInfo: null }, data }),
});
const MESSAGES: Record<number, string> = {
  400: '请求参数错误',
  404: '资源不存在',
  409: '文件ID已存在',
  10002: 'accessToken异常或过期',
  10007: '调用次数达到上限',
  10029: '调用频率超过限制',
  20002: '设备不存在',
  20007: '设备不在线',
};
const fail = (code: number): Answer => meta(code, MESSAGES[code] ?? '操作失败');
const SERIAL = /^[A-Z0-9]{9}$/;
const iso = (ms: number, offsetMinutes: number) =>
  new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);

export function createApi(o: ApiOptions) {
  const tokens = new Map<string, { issuedAt: number; expireTime: number }>();
  const tasks = new Map<string, EzvizTask>();
  const byFileId = new Map<string, EzvizTask>();
  const taskPrefix = `${EZVIZ_PATHS.task}/`;

  function pathKey(path: string): string {
    if (path.startsWith(taskPrefix) && path !== EZVIZ_PATHS.taskFiles) return `${EZVIZ_PATHS.task}/{taskId}`;
    return path;
  }
  const known = new Set<string>([...Object.values(EZVIZ_PATHS), `${EZVIZ_PATHS.task}/{taskId}`]);

  function tokenOk(token: string | undefined, now: number): boolean {
    const t = token === undefined ? undefined : tokens.get(token);
    return t !== undefined && t.expireTime > now && t.issuedAt >= o.faults.tokensValidFrom;
  }

  function fileStatus(task: EzvizTask, now: number): number {
    const settled = task.file.settled;
    if (settled && 'error' in settled) return 2;
    return settled && now >= task.filesAt ? 0 : 1;
  }

  /** The stand-in's address as this caller dialed it (download URLs carry it). */
  let base = '';

  function fileView(task: EzvizTask, now: number, withUrl: boolean) {
    const status = fileStatus(task, now);
    const settled = task.file.settled;
    const size = settled && 'size' in settled ? settled.size : 0;
    return {
      projectId: task.projectId,
      fileId: task.fileId,
      fileType: 1,
      status,
      fileCount: 1,
      fileSize: size,
      duration: Math.round((task.endMs - task.startMs) / 1000),
      errorCode: status === 2 ? '500' : '0',
      createTime: iso(task.createdAt, o.tzOffsetMinutes),
      taskId: task.taskId,
      downloadUrls:
        withUrl && status === 0
          ? [o.files.signedUrl(base, task.fileId, now + (o.faults.urlTtlMs ?? 7_200_000))]
          : null,
      replayRecord: false,
    };
  }

  function save(p: URLSearchParams, now: number): Answer {
    const deviceSerial = p.get('deviceSerial') ?? '';
    const projectId = p.get('projectId') ?? '';
    const fileId = p.get('fileId') ?? '';
    const channelNo = Number(p.get('channelNo') ?? '1');
    const startMs = parseEzvizTime(p.get('startTime') ?? '', o.tzOffsetMinutes);
    const endMs = parseEzvizTime(p.get('endTime') ?? '', o.tzOffsetMinutes);
    if (!projectId || !/^[A-Za-z0-9_-]{1,64}$/.test(fileId) || !Number.isInteger(channelNo) || channelNo < 1)
      return fail(400);
    if (startMs === undefined || endMs === undefined || endMs <= startMs || endMs - startMs > 4 * 3600_000)
      return fail(400);
    if (!SERIAL.test(deviceSerial) || o.faults.unknownSerials.has(deviceSerial)) return fail(20002);
    if (o.faults.isOffline(deviceSerial, now)) return fail(20007);
    if (byFileId.has(`${projectId}/${fileId}`)) {
      o.stats.duplicateSaves++;
      return fail(409);
    }
    // A window that has not ended yet is still being recorded: the task runs until it has.
    const doneAt = Math.max(now, endMs) + o.taskMs;
    const task: EzvizTask = {
      taskId: randomBytes(16).toString('hex'),
      projectId,
      fileId,
      deviceSerial,
      channelNo,
      startMs,
      endMs,
      createdAt: now,
      doneAt,
      filesAt: doneAt + o.faults.lateFilesMs,
      file: o.files.add({
        fileId,
        startMs,
        endMs,
        label: `${deviceSerial}/${channelNo} ${fileId.slice(0, 12)}`,
        notVideo: o.faults.notVideo,
      }),
    };
    tasks.set(task.taskId, task);
    byFileId.set(`${projectId}/${fileId}`, task);
    o.stats.tasks++;
    o.stats.tasksByFileId.set(fileId, (o.stats.tasksByFileId.get(fileId) ?? 0) + 1);
    return meta(200, '操作成功', { taskId: task.taskId });
  }

  function taskAnswer(taskId: string, now: number): Answer {
    const task = tasks.get(taskId);
    if (!task) return fail(404);
    const failed = task.file.settled && 'error' in task.file.settled;
    const taskStatus = failed ? 4 : now >= task.doneAt ? 0 : 2;
    return meta(200, '操作成功', {
      taskId,
      projectId: task.projectId,
      deviceSerial: task.deviceSerial,
      channelNo: task.channelNo,
      taskType: 3,
      taskStatus,
      fileNum: 1,
      startTime: iso(task.startMs, o.tzOffsetMinutes),
      endTime: iso(task.endMs, o.tzOffsetMinutes),
      errorCode: failed ? '500' : '0',
      errorMsg: failed ? 'render failed' : null,
      createTime: iso(task.createdAt, o.tzOffsetMinutes),
    });
  }

  function download(p: URLSearchParams, now: number): Answer {
    const task = byFileId.get(`${p.get('projectId') ?? ''}/${p.get('fileId') ?? ''}`);
    if (!task || fileStatus(task, now) !== 0) return fail(404);
    const asked = Number(p.get('expireSeconds') ?? '7200');
    if (!(Number.isInteger(asked) && asked >= 60 && asked <= 604_800)) return fail(400);
    const expire = now + (o.faults.urlTtlMs ?? asked * 1000);
    return meta(200, '操作成功', { expire, urls: [o.files.signedUrl(base, task.fileId, expire)] });
  }

  function answer(req: IncomingMessage, url: URL, body: string, dialed: string): Answer {
    const now = Date.now();
    base = dialed;
    const path = pathKey(url.pathname);
    const isToken = path === EZVIZ_PATHS.token;
    if (o.faults.takeMalformed())
      return { body: isToken ? '{"code":"200","data":{"accessTo' : '{"meta":{"code":200,"mess' };
    const limited = o.faults.takeRateLimit(now);
    if (limited) return isToken ? lapp(limited, MESSAGES[Number(limited)]!) : fail(Number(limited));
    const form = new URLSearchParams(body);
    if (isToken) {
      if (req.method !== 'POST') return lapp('10001', '参数错误');
      if (form.get('appKey') !== o.appKey) return lapp('10017', 'appKey不存在');
      if (form.get('appSecret') !== o.appSecret) return lapp('10030', 'appKey和appSecret不匹配');
      const accessToken = `at.${randomBytes(16).toString('hex')}`;
      const expireTime = now + o.tokenTtlMs;
      tokens.set(accessToken, { issuedAt: now, expireTime });
      o.stats.tokensIssued++;
      return lapp('200', '操作成功!', { accessToken, expireTime });
    }
    const params = req.method === 'POST' ? form : url.searchParams;
    const header = req.headers.accesstoken;
    const token = (typeof header === 'string' ? header : undefined) ?? params.get('accessToken') ?? undefined;
    if (!tokenOk(token, now)) return fail(10002);
    if (path === EZVIZ_PATHS.save) return req.method === 'POST' ? save(params, now) : fail(400);
    if (path === EZVIZ_PATHS.taskFiles) {
      const task = tasks.get(params.get('taskId') ?? '');
      if (!task) return fail(404);
      const withUrl = params.get('hasUrl') === 'true';
      return meta(200, '操作成功', now >= task.doneAt ? [fileView(task, now, withUrl)] : []);
    }
    if (path === `${EZVIZ_PATHS.task}/{taskId}`) {
      return taskAnswer(decodeURIComponent(url.pathname.slice(taskPrefix.length)), now);
    }
    if (path === EZVIZ_PATHS.fileInfo) {
      const task = byFileId.get(`${params.get('projectId') ?? ''}/${params.get('fileId') ?? ''}`);
      return task ? meta(200, '操作成功', fileView(task, now, false)) : fail(404);
    }
    if (path === EZVIZ_PATHS.download) return download(params, now);
    return fail(404);
  }

  return {
    tasks,
    knows: (path: string) => known.has(pathKey(path)),
    pathKey,
    answer,
  };
}
