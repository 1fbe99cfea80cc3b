/**
 * The media checks against Debian's real ffmpeg and ffprobe: a rendered test clip probes to its
 * window and decodes, its poster is a JPEG, and each kind of bad file fails with its code.
 * Without ffmpeg the file skips on a workstation and fails loudly in CI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../infra/mod.ts';
import {
  checkClip,
  extractPoster,
  MediaError,
  type MediaErrorCode,
  probeVideo,
  renderTestClip,
  TEST_CLIP_FONT,
  TEST_CLIP_HEIGHT,
  TEST_CLIP_WIDTH,
} from './mod.ts';
import { runTool, toolPath } from './tools.ts';

const missing = (['ffmpeg', 'ffprobe'] as const).find(
  (tool) => spawnSync(toolPath(tool), ['-version'], { stdio: 'ignore' }).status !== 0,
);
const why = missing && `${missing} is not installed: run sh infra/provision.sh (Debian's ffmpeg)`;
if (why && process.env.CI === 'true') throw new Error(why);

/** 2026-11-30T08:00:00.250Z: a window that does not start on a whole second. */
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0, 250);

function rejectsWith(code: MediaErrorCode): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof MediaError, `expected a MediaError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('clips/media with ffmpeg', { skip: why }, () => {
  let dir = '';
  let clip10 = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dh-media-'));
    clip10 = await renderTestClip({ startMs: T0, endMs: T0 + 10_000, label: 'edge-7 trapped', dest: dir });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a rendered clip probes to its window, decodes, and is an H.264 MP4 a browser can stream', async () => {
    const probe = await checkClip(clip10, { windowMs: 10_000, toleranceMs: 0 });
    assert.deepEqual(probe, {
      durationMs: 10_000,
      width: TEST_CLIP_WIDTH,
      height: TEST_CLIP_HEIGHT,
      codec: 'h264',
    });
    const out = await runTool(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=pix_fmt,nb_frames',
        '-of',
        'json',
        clip10,
      ],
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(JSON.parse(out.stdout).streams, [{ pix_fmt: 'yuv420p', nb_frames: '50' }]);
    // faststart: the index (moov) comes before the frames (mdat).
    const bytes = await readFile(clip10);
    const moov = bytes.indexOf('moov');
    assert.ok(moov > 0 && moov < bytes.indexOf('mdat'), 'moov before mdat');
  });

  test('every frame’s burned-in clock shows its wall-clock second of the window, UTC', async () => {
    // The clock's strip of every frame (one ffmpeg run), against the strip of each expected text
    // drawn alone the same way (font, size, place as test-clip.ts), both cut to black and white:
    // each frame must look most like the second it falls in. T0 is 08:00:00.250, so the 50 frames
    // (every 200 ms) show 08:00:00 … 08:00:10.
    const strip = ['-vf', 'crop=320:30:0:60,format=gray', '-f', 'rawvideo', '-'];
    const frames = spawnSync(toolPath('ffmpeg'), ['-v', 'error', '-i', clip10, ...strip], {
      maxBuffer: 1 << 24,
    }).stdout;
    const size = 320 * 30;
    assert.equal(frames.length, 50 * size);
    const refs: Buffer[] = [];
    for (let second = 0; second <= 10; second++) {
      const text = join(dir, `ref-${second}.txt`);
      await writeFile(text, `2026-11-30 08:00:${String(second).padStart(2, '0')} UTC`);
      const draw = `drawtext=fontfile=${TEST_CLIP_FONT}:textfile=${text}:expansion=none:fontsize=18:fontcolor=white:x=(w-tw)/2:y=h/2-th-6`;
      const color = ['-f', 'lavfi', '-i', 'color=c=0x1e2a38:s=320x180:r=1:d=1', '-frames:v', '1'];
      const args = ['-v', 'error', ...color, '-vf', `${draw},${strip[1]}`, ...strip.slice(2)];
      const ref = spawnSync(toolPath('ffmpeg'), args, { maxBuffer: 1 << 24 }).stdout;
      assert.equal(ref.length, size, `reference ${second}`);
      refs.push(ref);
    }
    const differing = (a: Buffer, b: Buffer): number => {
      let n = 0;
      for (let i = 0; i < a.length; i++) if (a[i]! > 128 !== b[i]! > 128) n++;
      return n;
    };
    const shown = [];
    for (let i = 0; i < 50; i++) {
      const frame = frames.subarray(i * size, (i + 1) * size);
      const scores = refs.map((ref) => differing(frame, ref));
      shown.push(scores.indexOf(Math.min(...scores)));
    }
    const expected = Array.from({ length: 50 }, (_, i) => Math.floor((250 + i * 200) / 1000));
    assert.deepEqual(shown, expected);
  });

  test('test clips are cached by window and label', async () => {
    const [a, b] = await Promise.all([
      renderTestClip({ startMs: T0, endMs: T0 + 10_000, label: 'edge-7 trapped', dest: dir }),
      renderTestClip({ startMs: T0, endMs: T0 + 10_000, label: 'edge-7 trapped', dest: dir }),
    ]);
    assert.equal(a, clip10);
    assert.equal(b, clip10);
    const other = await renderTestClip({
      startMs: T0,
      endMs: T0 + 10_000,
      label: "edge-8: 'odd' [label], 50%",
      dest: dir,
    });
    assert.notEqual(other, clip10);
    assert.equal((await probeVideo(other)).durationMs, 10_000);
    await assert.rejects(renderTestClip({ startMs: T0, endMs: T0, label: 'x', dest: dir }), RangeError);
    // A render aborted while ffmpeg runs (a 2 h window: seconds of work) rejects with the reason,
    // ends ffmpeg and leaves nothing behind.
    const aborted = join(dir, 'aborted');
    const controller = new AbortController();
    const reason = new Error('stand-in closing');
    const long = {
      startMs: T0,
      endMs: T0 + 7_200_000,
      label: 'long',
      dest: aborted,
      signal: controller.signal,
    };
    const rendering = renderTestClip(long);
    await waitFor(async () => (await readdir(aborted).catch(() => [])).some((f) => f.endsWith('.part')), {
      message: 'ffmpeg to start writing',
    });
    controller.abort(reason);
    await assert.rejects(rendering, (err) => err === reason);
    assert.deepEqual(await readdir(aborted), []);
  });

  test('the poster is a JPEG of the clip’s size', async () => {
    const poster = join(dir, 'poster.jpg');
    const made = await extractPoster(clip10, poster, { atMs: 3_000 });
    const jpeg = await readFile(poster);
    assert.equal(made.bytes, jpeg.length);
    assert.equal(made.atMs, 3_000);
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9]);
    const out = await runTool(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', poster],
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(JSON.parse(out.stdout).streams, [
      { codec_name: 'mjpeg', width: TEST_CLIP_WIDTH, height: TEST_CLIP_HEIGHT },
    ]);
    // Past the end: clamped into the clip, still a frame.
    const late = await extractPoster(clip10, join(dir, 'late.jpg'), { atMs: 60_000 });
    assert.ok(late.bytes > 0 && late.atMs < 10_000);
    // A still image is not a clip.
    await assert.rejects(probeVideo(poster), rejectsWith('NOT_VIDEO'));
  });

  test('random bytes, an HTML page, an empty file and text are NOT_VIDEO', async () => {
    // Deterministic "random" bytes (xorshift32), whose first bytes are no container's magic.
    const noise = Buffer.alloc(64 * 1024);
    let x = 0x2545f491;
    for (let i = 0; i < noise.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      noise[i] = x & 0xff;
    }
    const cases: [string, Buffer | string][] = [
      ['noise.mp4', noise],
      ['error-page.mp4', '<html><body>403 Forbidden</body></html>\n'],
      ['empty.mp4', ''],
      // ffprobe reads a .txt file as ANSI art (the tty demuxer, a "video" stream).
      ['error-page.txt', 'Service unavailable, try again later. '.repeat(40)],
    ];
    for (const [name, content] of cases) {
      const file = join(dir, name);
      await writeFile(file, content);
      await assert.rejects(checkClip(file, { windowMs: 10_000 }), rejectsWith('NOT_VIDEO'), name);
    }
  });

  test('a clip cut in half is UNDECODABLE', async () => {
    // With faststart the index at the front survives the cut and still claims 10 s, so the
    // duration check passes and the full decode finds the frames missing: UNDECODABLE, not TOO_SHORT.
    const cut = join(dir, 'cut.mp4');
    await writeFile(cut, await readFile(clip10));
    await truncate(cut, Math.floor((await stat(cut)).size / 2));
    assert.equal((await probeVideo(cut)).durationMs, 10_000);
    await assert.rejects(checkClip(cut, { windowMs: 10_000 }), rejectsWith('UNDECODABLE'));
    // Without faststart the index is at the end and lost with it: a broken MP4 (its ftyp box
    // says so), not "not a video".
    const plain = join(dir, 'plain.mp4');
    await runTool('ffmpeg', ['-v', 'error', '-y', '-i', clip10, '-c', 'copy', plain], { timeoutMs: 30_000 });
    await truncate(plain, Math.floor((await stat(plain)).size / 2));
    await assert.rejects(checkClip(plain, { windowMs: 10_000 }), rejectsWith('UNDECODABLE'));
  });

  test('a 5 s clip for a 10 s window is TOO_SHORT; within the tolerance it passes', async () => {
    const clip5 = await renderTestClip({ startMs: T0, endMs: T0 + 5_000, label: 'short', dest: dir });
    await assert.rejects(checkClip(clip5, { windowMs: 10_000 }), (err: unknown) => {
      rejectsWith('TOO_SHORT')(err);
      assert.match((err as Error).message, /lasts 5\.0 s, shorter than its 10\.0 s window/);
      return true;
    });
    assert.equal((await checkClip(clip5, { windowMs: 5_800 })).durationMs, 5_000);
  });

  describe('the tools', () => {
    let saved: string | undefined;
    before(() => {
      saved = process.env.DEVICEHUB_FFPROBE;
    });
    after(() => {
      if (saved === undefined) delete process.env.DEVICEHUB_FFPROBE;
      else process.env.DEVICEHUB_FFPROBE = saved;
    });

    /** An ffprobe that writes its pid to `pidFile` and hangs. */
    async function hangingProbe(name: string): Promise<string> {
      const script = join(dir, `${name}.sh`);
      await writeFile(script, `#!/bin/sh\necho $$ > ${join(dir, `${name}.pid`)}\nexec sleep 60\n`);
      await chmod(script, 0o755);
      return script;
    }

    test('an aborted probe rejects with the abort reason and the child is gone', {
      timeout: 15_000,
    }, async () => {
      process.env.DEVICEHUB_FFPROBE = await hangingProbe('hang');
      const controller = new AbortController();
      const probing = probeVideo(clip10, { signal: controller.signal, timeoutMs: 120_000 });
      const pid = Number(
        await waitFor(
          async () => (await readFile(join(dir, 'hang.pid'), 'utf8').catch(() => '')).trim() || undefined,
          {
            message: 'the stand-in ffprobe to start',
          },
        ),
      );
      const reason = new Error('shutting down');
      controller.abort(reason);
      await assert.rejects(probing, (err) => err === reason);
      await waitFor(
        () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        { message: `ffprobe ${pid} to end` },
      );
    });

    test('a hanging probe times out; a missing binary is TOOL_MISSING', { timeout: 15_000 }, async () => {
      process.env.DEVICEHUB_FFPROBE = await hangingProbe('slow');
      await assert.rejects(probeVideo(clip10, { timeoutMs: 300 }), (err: unknown) => {
        rejectsWith('TIMEOUT')(err);
        assert.equal((err as MediaError).retryable, true);
        return true;
      });
      process.env.DEVICEHUB_FFPROBE = join(dir, 'no-such-ffprobe');
      await assert.rejects(probeVideo(clip10), (err: unknown) => {
        rejectsWith('TOOL_MISSING')(err);
        assert.match((err as Error).message, /DEVICEHUB_FFPROBE/);
        return true;
      });
    });
  });
});
