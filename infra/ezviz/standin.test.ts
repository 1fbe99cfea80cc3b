/**
 * The Ezviz stand-in spoken to as Ezviz is, without our client: form-encoded POSTs, the token in
 * the body, the query or a header, both answer envelopes, the codes of docs/ezviz-open-api.md —
 * and the file it serves is a real MP4 (Debian's ffprobe reads it) covering the asked window, or
 * not a video when told so.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { formatEzvizTime } from '../../clips/ezviz/mod.ts';
import { waitFor } from '../wait-for.ts';
import { type EzvizStandIn, startEzvizStandIn } from './standin.ts';

const run = promisify(execFile);
const open: EzvizStandIn[] = [];
after(async () => {
  for (const s of open) await s.close();
});

const post = async (s: EzvizStandIn, path: string, form: Record<string, string>) =>
  (await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  }).then((r) => r.json())) as Record<string, unknown>;
const get = async (s: EzvizStandIn, path: string, query: Record<string, string>, headers = {}) =>
  (await fetch(`${s.url}${path}?${new URLSearchParams(query)}`, { headers }).then((r) => r.json())) as Record<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in the test
    any
  >;

async function token(s: EzvizStandIn): Promise<string> {
  const answer = await post(s, '/api/lapp/token/get', { appKey: s.appKey, appSecret: s.appSecret });
  assert.equal(answer.code, '200');
  const data = answer.data as { accessToken: string; expireTime: number };
  assert.ok(data.expireTime > Date.now() + 6 * 86_400_000, '7 days');
  return data.accessToken;
}

async function probe(path: string): Promise<{ durationS: number; codec: string }> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    path,
  ]);
  const info = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string }[] };
  return { durationS: Number(info.format.duration), codec: info.streams[0]!.codec_name };
}

describe('Ezviz stand-in', () => {
  it('saves a window as a task whose file is a real MP4 covering it, in Ezviz shapes', async () => {
    const s = await startEzvizStandIn();
    open.push(s);
    const bad = await post(s, '/api/lapp/token/get', { appKey: s.appKey, appSecret: 'nope' });
    assert.equal(bad.code, '10030');
    const at = await token(s);
    const endMs = Math.floor(Date.now() / 1000) * 1000 - 120_000;
    const startMs = endMs - 4_000;
    const save = {
      accessToken: at,
      deviceSerial: 'D12345678',
      channelNo: '1',
      projectId: 'devicehub',
      fileId: 'c0123456789abcdef0123456789abcde',
      startTime: formatEzvizTime(startMs),
      endTime: formatEzvizTime(endMs),
      recType: 'cloud',
    };
    const saved = await post(s, '/api/open/cloud/v1/video/save', save);
    assert.deepEqual(saved.meta, { code: 200, message: '操作成功', moreInfo: null });
    const taskId = (saved.data as { taskId: string }).taskId;
    assert.deepEqual((await post(s, '/api/open/cloud/v1/video/save', save)).meta, {
      code: 409,
      message: '文件ID已存在',
      moreInfo: null,
    });
    assert.equal(
      (
        (await post(s, '/api/open/cloud/v1/video/save', { ...save, accessToken: 'at.x' })).meta as {
          code: number;
        }
      ).code,
      10002,
    );
    const task = await get(s, `/api/v3/open/cloud/task/${taskId}`, { accessToken: at });
    assert.equal(task.data.taskStatus, 0);
    const files = await waitFor(async () => {
      const answer = await get(s, '/api/v3/open/cloud/task/files', {
        accessToken: at,
        taskId,
        hasUrl: 'true',
      });
      return answer.data[0]?.status === 0 && answer.data;
    });
    assert.equal(files[0].fileId, save.fileId);
    const download = await get(
      s,
      '/api/service/cloudrecord/file/official/download',
      { fileId: save.fileId, projectId: 'devicehub', contentType: 'video/mp4', expireSeconds: '600' },
      { accessToken: at },
    );
    assert.equal(download.meta.code, 200);
    assert.ok(download.data.expire > Date.now() + 590_000);
    const response = await fetch(download.data.urls[0]);
    assert.equal(response.headers.get('content-type'), 'video/mp4');
    const path = join(tmpdir(), `ezviz-standin-${process.pid}.mp4`);
    await writeFile(path, Buffer.from(await response.arrayBuffer()));
    const info = await probe(path);
    assert.equal(info.codec, 'h264');
    assert.ok(info.durationS >= 3.8, `duration ${info.durationS} s covers the 4 s window`);
    const ranged = await fetch(download.data.urls[0], { headers: { range: 'bytes=0-99' } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);
    assert.equal(s.stats.tasksByFileId.get(save.fileId), 1);
    assert.equal(s.stats.duplicateSaves, 1);
    assert.ok(s.stats.maxCallsPerSecond >= 1);
  });

  it('answers offline, unknown and rate-limited calls with their codes, and serves not-a-video files when told', async () => {
    const s = await startEzvizStandIn({
      host: '0.0.0.0',
      appKey: 'compose-key',
      appSecret: 'compose-secret',
      faults: { notVideo: true, offline: ['E12345678'] },
    });
    open.push(s);
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.appKey, 'compose-key');
    const at = await token(s);
    const base = { accessToken: at, channelNo: '1', projectId: 'p', recType: 'cloud' };
    const when = {
      startTime: formatEzvizTime(Date.now() - 70_000),
      endTime: formatEzvizTime(Date.now() - 60_000),
    };
    const code = async (form: Record<string, string>) =>
      (await post(s, '/api/open/cloud/v1/video/save', { ...base, ...when, ...form })).meta as {
        code: number;
      };
    assert.equal((await code({ deviceSerial: 'E12345678', fileId: 'a1' })).code, 20007);
    assert.equal((await code({ deviceSerial: 'not-a-serial', fileId: 'a2' })).code, 20002);
    assert.equal((await code({ deviceSerial: 'F12345678', fileId: 'a3', startTime: 'yesterday' })).code, 400);
    s.faults.rateLimitNext(1, '10007');
    assert.equal((await code({ deviceSerial: 'F12345678', fileId: 'a4' })).code, 10007);
    s.faults.rateLimitNext(1);
    assert.equal(
      (await post(s, '/api/lapp/token/get', { appKey: s.appKey, appSecret: s.appSecret })).code,
      '10029',
    );
    const saved = await post(s, '/api/open/cloud/v1/video/save', {
      ...base,
      ...when,
      deviceSerial: 'F12345678',
      fileId: 'a5',
    });
    const taskId = (saved.data as { taskId: string }).taskId;
    const url = await waitFor(async () => {
      const answer = await get(s, '/api/v3/open/cloud/task/files', {
        accessToken: at,
        taskId,
        hasUrl: 'true',
      });
      return answer.data[0]?.downloadUrls?.[0] as string | undefined;
    });
    assert.ok(url.startsWith(`${s.url}/files/`), `the URL names the stand-in as dialed: ${url}`);
    const path = join(tmpdir(), `ezviz-standin-nv-${process.pid}.mp4`);
    await writeFile(path, Buffer.from(await (await fetch(url)).arrayBuffer()));
    await assert.rejects(probe(path));
  });
});
