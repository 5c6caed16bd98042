/**
 * Test pictures written byte by byte in Node (PNG, BMP, GIF), so the end-to-end
 * tests need no image tools and every pixel is known. JPEG and WebP, which
 * need a real encoder, are made in the browser with OffscreenCanvas.
 */
import { deflateSync } from 'node:zlib';

export type Rgba = [number, number, number, number];
export type Pixel = (x: number, y: number) => Rgba;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * An 8-bit RGBA PNG. `orientation` (EXIF 1–8) adds an eXIf chunk before the
 * image data, which Chromium applies when it shows or decodes the picture.
 */
export function png(width: number, height: number, pixel: Pixel, orientation?: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, no interlace
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 4)] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (1 + width * 4) + 1 + x * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    ...(orientation === undefined ? [] : [chunk('eXIf', exifOrientationBlock(orientation))]),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A little-endian TIFF block whose IFD0 holds one entry: Orientation (0x0112), type SHORT, count 1. */
function exifOrientationBlock(orientation: number): Buffer {
  const b = Buffer.alloc(26);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4); // IFD0 offset
  b.writeUInt16LE(1, 8); // one entry
  b.writeUInt16LE(0x0112, 10);
  b.writeUInt16LE(3, 12);
  b.writeUInt32LE(1, 14);
  b.writeUInt16LE(orientation, 18);
  return b; // next-IFD offset 0 at byte 22
}

/** A 24-bit bottom-up BMP (BITMAPINFOHEADER); alpha is ignored. */
export function bmp(width: number, height: number, pixel: Pixel): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + rowBytes * height;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const [r, g, b2] = pixel(x, y);
      b.set([b2, g, r], row + x * 3); // BGR
    }
  }
  return b;
}

/**
 * A GIF with one frame per `frames` entry, each drawn from a 256-colour
 * palette. LZW "uncompressed": every pixel is a literal 9-bit code, with a
 * clear code often enough that the code width never grows.
 */
export function gif(
  width: number,
  height: number,
  palette: [number, number, number][],
  frames: ((x: number, y: number) => number)[],
): Buffer {
  const parts: number[] = [...Buffer.from('GIF89a', 'latin1')];
  const le16 = (v: number) => [v & 255, (v >> 8) & 255];
  parts.push(...le16(width), ...le16(height), 0xf7, 0, 0); // global colour table of 256 entries
  for (let i = 0; i < 256; i++) parts.push(...(palette[i] ?? [0, 0, 0]));
  parts.push(0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, 0, 0, 0); // loop forever
  for (const frame of frames) {
    parts.push(0x21, 0xf9, 4, 0, ...le16(50), 0, 0); // graphic control: 0.5 s per frame
    parts.push(0x2c, ...le16(0), ...le16(0), ...le16(width), ...le16(height), 0);
    parts.push(8); // LZW minimum code size: 8 bits, so codes start 9 bits wide
    const codes: number[] = [];
    let sinceClear = 0;
    codes.push(256);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        // 254 literals after a clear would make the decoder widen its codes to 10 bits; clear before.
        if (sinceClear === 250) {
          codes.push(256);
          sinceClear = 0;
        }
        codes.push(frame(x, y));
        sinceClear++;
      }
    }
    codes.push(257); // end of information
    const data: number[] = [];
    let bits = 0;
    let nbits = 0;
    for (const code of codes) {
      bits |= code << nbits;
      nbits += 9;
      while (nbits >= 8) {
        data.push(bits & 255);
        bits >>= 8;
        nbits -= 8;
      }
    }
    if (nbits > 0) data.push(bits & 255);
    for (let i = 0; i < data.length; i += 255) {
      const block = data.slice(i, i + 255);
      parts.push(block.length, ...block);
    }
    parts.push(0);
  }
  parts.push(0x3b);
  return Buffer.from(parts);
}
