/**
 * The Ezviz Open Platform on the wire, as docs/ezviz-open-api.md records it: the endpoints the
 * clip pipeline uses, the two answer envelopes (`{code, msg, data}` of the `lapp` APIs, `{meta:
 * {code, message}, data}` of the cloud-recording APIs), Ezviz's `yyyyMMddHHmmss` times (Beijing
 * time by default) and readers that turn each answer's `data` into a typed value or a MALFORMED
 * EzvizError. The stand-in (infra/ezviz) speaks the same paths and shapes.
 */
import { type EzvizError, ezvizError } from './errors.ts';

export const EZVIZ_PATHS = {
  /** POST form appKey, appSecret → {code, msg, data: {accessToken, expireTime}}. */
  token: '/api/lapp/token/get',
  /** POST form accessToken, deviceSerial, channelNo, projectId, fileId, startTime, endTime, recType. */
  save: '/api/open/cloud/v1/video/save',
  /** GET query accessToken, projectId, fileId → {meta, data: {fileId, taskId, status, …}}. */
  fileInfo: '/api/open/cloud/v1/file',
  /** GET `<task>/<taskId>` query accessToken → {meta, data: {taskStatus, errorCode, errorMsg, …}}. */
  task: '/api/v3/open/cloud/task',
  /** GET query accessToken, taskId, pageNumber, pageSize, hasUrl → {meta, data: [file…]}. */
  taskFiles: '/api/v3/open/cloud/task/files',
  /** GET header accessToken, query fileId, projectId, contentType, expireSeconds → {meta, data: {expire, urls}}. */
  download: '/api/service/cloudrecord/file/official/download',
} as const;

export type EzvizEndpoint = keyof typeof EZVIZ_PATHS;

/** Beijing time, the zone Ezviz's `yyyyMMddHHmmss` parameters are read in (ASSUMED, see the doc). */
export const EZVIZ_TZ_OFFSET_MINUTES = 480;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ms since the epoch → `yyyyMMddHHmmss` in the zone `offsetMinutes` east of UTC. */
export function formatEzvizTime(ms: number, offsetMinutes = EZVIZ_TZ_OFFSET_MINUTES): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** `yyyyMMddHHmmss` in the zone `offsetMinutes` east of UTC → ms since the epoch; undefined when not one. */
export function parseEzvizTime(text: string, offsetMinutes = EZVIZ_TZ_OFFSET_MINUTES): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - offsetMinutes * 60_000;
  return formatEzvizTime(ms, offsetMinutes) === text ? ms : undefined;
}

/** An answer's code, message and data, whichever envelope it came in. */
export interface Envelope {
  readonly code: string;
  readonly message: string;
  readonly data: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function malformed(endpoint: string, what: string, cause?: unknown): EzvizError {
  return ezvizError(endpoint, 'MALFORMED', `malformed answer: ${what}`, cause);
}

/** Reads an answer body into its envelope; MALFORMED when it is neither envelope. */
export function readEnvelope(endpoint: string, status: number, body: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    if (status !== 200) throw ezvizError(endpoint, `HTTP_${status}`, `HTTP ${status} ${body.slice(0, 80)}`);
    throw malformed(endpoint, `not JSON: ${JSON.stringify(body.slice(0, 80))}`, cause);
  }
  if (isRecord(parsed) && isRecord(parsed.meta)) {
    const { code, message } = parsed.meta;
    if (typeof code === 'number' || typeof code === 'string') {
      return { code: String(code), message: typeof message === 'string' ? message : '', data: parsed.data };
    }
  } else if (isRecord(parsed) && (typeof parsed.code === 'string' || typeof parsed.code === 'number')) {
    const msg = parsed.msg;
    return { code: String(parsed.code), message: typeof msg === 'string' ? msg : '', data: parsed.data };
  }
  if (status !== 200) throw ezvizError(endpoint, `HTTP_${status}`, `HTTP ${status} ${body.slice(0, 80)}`);
  throw malformed(endpoint, `no code in ${JSON.stringify(body.slice(0, 80))}`);
}

function field<T>(endpoint: string, data: unknown, name: string, check: (v: unknown) => v is T): T {
  if (!isRecord(data)) throw malformed(endpoint, `data is not an object`);
  const value = data[name];
  if (!check(value)) throw malformed(endpoint, `data.${name} is ${JSON.stringify(value)}`);
  return value;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInteger = (v: unknown): v is number => Number.isInteger(v);

export function readToken(data: unknown): { token: string; expireTime: number } {
  const token = field('token', data, 'accessToken', isText);
  const expireTime = field('token', data, 'expireTime', isNumber);
  return { token, expireTime };
}

export function readTaskId(endpoint: string, data: unknown): string {
  return field(endpoint, data, 'taskId', isText);
}

/** taskStatus: 0 done, 1 waiting, 2 processing, 3 ended, 4 ended abnormally (5 paused, seen in code). */
export function readTaskStatus(data: unknown): { taskStatus: number; error?: string } {
  const taskStatus = field('task', data, 'taskStatus', isInteger);
  const record = data as Record<string, unknown>;
  const parts = [record.errorCode, record.errorMsg].filter(
    (v) => (typeof v === 'string' || typeof v === 'number') && String(v) !== '0' && v !== '',
  );
  return parts.length > 0 ? { taskStatus, error: parts.join(' ') } : { taskStatus };
}

export interface TaskFile {
  readonly fileId: string;
  /** 0 normal, 1 uploading, 2 upload failed, 3 expired, 4 deleted. */
  readonly status: number;
  readonly size?: number;
  readonly url?: string;
  readonly errorCode?: string;
}

export function readTaskFiles(data: unknown): TaskFile[] {
  if (!Array.isArray(data)) throw malformed('taskFiles', 'data is not a list');
  return data.map((item) => {
    const fileId = field('taskFiles', item, 'fileId', isText);
    const status = field('taskFiles', item, 'status', isInteger);
    const record = item as Record<string, unknown>;
    const urls = record.downloadUrls;
    const url = Array.isArray(urls) && typeof urls[0] === 'string' ? urls[0] : undefined;
    const size = isNumber(record.fileSize) ? record.fileSize : undefined;
    const errorCode = typeof record.errorCode === 'string' ? record.errorCode : undefined;
    return {
      fileId,
      status,
      ...(size === undefined ? {} : { size }),
      ...(url ? { url } : {}),
      ...(errorCode ? { errorCode } : {}),
    };
  });
}

export function readDownload(data: unknown): { url: string; expiresAt: number } {
  const expire = field('download', data, 'expire', isNumber);
  const urls = field('download', data, 'urls', Array.isArray);
  const url = urls[0];
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw malformed('download', `data.urls[0] is ${JSON.stringify(url)}`);
  }
  return { url, expiresAt: expire };
}
