/**
 * A user's file → the 32 × 32 × 3 HWC bytes the model sees, in the worker.
 *
 * 1. Sniff the magic bytes and read the size from the header (imageFormat.ts):
 *    anything that is not one of the six raster formats is refused before a
 *    decoder sees it, so SVG/HTML never render and never run scripts.
 * 2. `createImageBitmap` with the centred square crop and a resize to at most
 *    DECODE_SIDE², so a 6000 × 4000 photo is never held as a full-size RGBA
 *    buffer by us (the browser decodes straight to the small size).
 * 3. Our exact area average to 32 × 32, compositing transparency on white.
 *
 * Browser only (createImageBitmap, OffscreenCanvas); tested end to end.
 * The pure steps 1 and 3 are unit-tested on their own.
 */
import { ImageError } from '../errors';
import { readImageHeader, type RasterFormat } from './imageFormat';
import { areaAverageRgb, planDecode } from './resample';

/** Bytes read first to find the header; the JPEG/AVIF walkers ask for more when metadata comes first. */
const FIRST_READ = 64 * 1024;
/** Largest file we read at all. Unit: bytes (200 MB; a 100-megapixel JPEG is ~40 MB). */
export const MAX_FILE_BYTES = 200 * 1024 * 1024;
/**
 * Largest picture we hand to a decoder. Unit: pixels (150 megapixels: a
 * phone's 108 MP camera fits; a 30000 × 30000 "decompression bomb" does not).
 * Browsers may still decode at full size before resizing; this bounds it.
 */
export const MAX_PIXELS = 150_000_000;

export interface DecodedImage {
  format: RasterFormat;
  /** Displayed size of the original. Units: pixels. */
  width: number;
  height: number;
  /** 32 × 32 × 3 bytes, HWC, RGB, 0–255. */
  pixels: Uint8Array;
}

const undecodable = (name: string, why: string) =>
  new ImageError('image-undecodable', `"${name}" is not an image the browser can decode (${why}).`, name);

export async function decodeToModelPixels(file: Blob, name: string): Promise<DecodedImage> {
  if (file.size === 0) throw undecodable(name, 'the file is empty');
  if (file.size > MAX_FILE_BYTES) {
    throw new ImageError(
      'image-too-large',
      `"${name}" is ${(file.size / 1024 / 1024).toFixed(0)} MB; the limit is ${MAX_FILE_BYTES / 1024 / 1024} MB.`,
      name,
    );
  }

  // Read the header, asking for more bytes while metadata (EXIF, XMP, ICC) comes first.
  let length = Math.min(file.size, FIRST_READ);
  let header = readImageHeader(new Uint8Array(await file.slice(0, length).arrayBuffer()), length === file.size);
  while (header.kind === 'need-more' && length < file.size) {
    length = Math.min(file.size, Math.max(header.bytes, 2 * length));
    header = readImageHeader(new Uint8Array(await file.slice(0, length).arrayBuffer()), length === file.size);
  }
  if (header.kind !== 'ok') throw undecodable(name, header.kind === 'invalid' ? header.reason : 'the header is cut off');
  const { format, width, height } = header;
  if (width * height > MAX_PIXELS) {
    throw new ImageError('image-too-large', `"${name}" is ${width}×${height} pixels; the limit is ${MAX_PIXELS / 1e6} megapixels.`, name);
  }

  const plan = planDecode(width, height);
  let bitmap: ImageBitmap;
  try {
    // The blob goes to the decoder as typed by its magic bytes, never by its name or MIME type.
    const typed = new Blob([file], { type: `image/${format}` });
    bitmap = await createImageBitmap(typed, plan.sx, plan.sy, plan.side, plan.side, {
      resizeWidth: plan.decodeSide,
      resizeHeight: plan.decodeSide,
      resizeQuality: 'high',
      // EXIF / irot rotation is applied, as in an <img>; the header parser swapped width and height to match.
      imageOrientation: 'from-image',
      colorSpaceConversion: 'default',
    });
  } catch (error) {
    // Corrupt or truncated data: Chromium rejects with "The source image could not be decoded."
    throw undecodable(name, error instanceof Error ? error.message.replace(/\.$/, '') : 'decoding failed');
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw undecodable(name, 'no 2D canvas is available in this browser');
    // A transparent canvas: alpha is composited on white in areaAverageRgb, exactly.
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { format, width, height, pixels: areaAverageRgb(data, bitmap.width, bitmap.height) };
  } finally {
    bitmap.close();
  }
}
