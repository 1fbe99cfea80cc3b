/**
 * Preprocessing for YOLOv8 with sharp (libvips): check the bytes are a JPEG or PNG of a sane size,
 * decode (failing on decoder errors, not only warnings), apply the EXIF orientation, resize to fit
 * 640×640 keeping the aspect ratio, and write it letterboxed (padding gray 114, centred) into a
 * float32 CHW tensor slot with values 0..1. A bad image is an ImageProblem, never a throw.
 */
import sharp from 'sharp';
import type { ImageProblem } from './detection.ts';

/** The model's square input side. */
export const INPUT_SIZE = 640;
/** Floats in one image's slot of the input tensor (3 × 640 × 640). */
export const SLOT = 3 * INPUT_SIZE * INPUT_SIZE;
const PAD = 114 / 255;

export interface ImageLimits {
  /** The shortest side an image may have (default 32). */
  readonly minSide: number;
  /** The most pixels (width × height) an image may have (default 40,000,000: 8K is 33 M). */
  readonly maxPixels: number;
}

/** Where the image went in the 640×640 input: to map boxes back to the frame. */
export interface Letterbox {
  /** The frame's size after EXIF orientation. */
  readonly width: number;
  readonly height: number;
  /** The resized image's size inside the 640×640 input, and its top left corner there. */
  readonly innerWidth: number;
  readonly innerHeight: number;
  readonly padX: number;
  readonly padY: number;
}

const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 8)).toString('hex');
}

/**
 * Decodes `bytes` into `out` at `offset` (SLOT floats), or says why it cannot.
 */
export async function letterbox(
  bytes: Uint8Array,
  out: Float32Array,
  offset: number,
  limits: ImageLimits,
): Promise<Letterbox | ImageProblem> {
  const format = startsWith(bytes, JPEG_MAGIC) ? 'JPEG' : startsWith(bytes, PNG_MAGIC) ? 'PNG' : undefined;
  if (format === undefined)
    return {
      problem: 'not_an_image',
      reason:
        bytes.length === 0
          ? 'empty (0 bytes)'
          : `not a JPEG or PNG (${bytes.length} bytes starting ${hex(bytes)})`,
    };
  let width: number;
  let height: number;
  try {
    // Header only: limitInputPixels false so that a huge size is read and named, not refused unnamed.
    const meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
    width = meta.autoOrient?.width ?? meta.width ?? 0;
    height = meta.autoOrient?.height ?? meta.height ?? 0;
  } catch (err) {
    return {
      problem: 'truncated',
      reason: `${format} header cannot be read (${bytes.length} bytes): ${firstLine(err)}`,
    };
  }
  if (!(width > 0 && height > 0))
    return { problem: 'truncated', reason: `${format} header names no size (${width}×${height})` };
  if (width * height > limits.maxPixels)
    return {
      problem: 'too_large',
      reason: `${width}×${height} pixels is over the limit of ${limits.maxPixels} pixels`,
    };
  if (width < limits.minSide || height < limits.minSide)
    return {
      problem: 'too_small',
      reason: `${width}×${height} pixels is under ${limits.minSide}×${limits.minSide}`,
    };
  let data: Buffer;
  let innerWidth: number;
  let innerHeight: number;
  try {
    const decoded = await sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .resize(INPUT_SIZE, INPUT_SIZE, { fit: 'inside', kernel: 'linear' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    data = decoded.data;
    innerWidth = decoded.info.width;
    innerHeight = decoded.info.height;
    if (decoded.info.channels !== 3 || data.length !== innerWidth * innerHeight * 3)
      return {
        problem: 'not_an_image',
        reason: `${format} decodes to ${decoded.info.channels} channels, not RGB`,
      };
  } catch (err) {
    return {
      problem: 'truncated',
      reason: `${format} ${width}×${height} cannot be decoded: ${firstLine(err)}`,
    };
  }
  const padX = Math.floor((INPUT_SIZE - innerWidth) / 2);
  const padY = Math.floor((INPUT_SIZE - innerHeight) / 2);
  const area = INPUT_SIZE * INPUT_SIZE;
  out.fill(PAD, offset, offset + SLOT);
  for (let y = 0; y < innerHeight; y++) {
    let p = y * innerWidth * 3;
    let i = offset + (padY + y) * INPUT_SIZE + padX;
    for (let x = 0; x < innerWidth; x++, p += 3, i++) {
      out[i] = (data[p] as number) / 255;
      out[i + area] = (data[p + 1] as number) / 255;
      out[i + 2 * area] = (data[p + 2] as number) / 255;
    }
  }
  return { width, height, innerWidth, innerHeight, padX, padY };
}
