import { describe, expect, it } from 'vitest';
import { exifOrientation, readImageHeader, sniffFormat, SNIFF_BYTES } from './imageFormat';

// ---- Byte builders (big- and little-endian), so each fixture reads like its spec ----
const be16 = (v: number) => [(v >> 8) & 255, v & 255];
const be32 = (v: number) => [(v >>> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255];
const le16 = (v: number) => [v & 255, (v >> 8) & 255];
const le24 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255];
const le32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
const text = (s: string) => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** A PNG up to its first IDAT chunk header, with ancillary chunks (length-prefixed, CRC left 0) before or after IDAT. */
function png(width: number, height: number, chunks: { before?: number[][]; after?: number[][] } = {}): Uint8Array {
  const chunk = (type: string, data: number[]) => [...be32(data.length), ...text(type), ...data, ...be32(0)];
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    chunk('IHDR', [...be32(width), ...be32(height), 8, 6, 0, 0, 0]),
    ...(chunks.before ?? []).map((data) => chunk(data === TEXT_CHUNK ? 'tEXt' : 'eXIf', data)),
    chunk('IDAT', [0x78, 0x9c]),
    ...(chunks.after ?? []).map((data) => chunk('eXIf', data)),
  );
}

/** A TIFF block whose IFD0 holds one entry, Orientation (0x0112) = `orientation`, in either byte order. */
function tiff(orientation: number, order: 'II' | 'MM' = 'II'): number[] {
  const u16 = order === 'II' ? le16 : be16;
  const u32 = order === 'II' ? le32 : be32;
  return [...text(order), ...u16(42), ...u32(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0, ...u32(0)];
}
const TEXT_CHUNK = text('Comment\0made by a test');

/** A JPEG up to and including its SOF0 segment, optionally after an EXIF APP1 with an orientation. */
function jpeg(width: number, height: number, orientation?: number): Uint8Array {
  const app0 = [0xff, 0xe0, ...be16(16), ...text('JFIF\0'), 1, 1, 0, ...be16(1), ...be16(1), 0, 0];
  let app1: number[] = [];
  if (orientation !== undefined) {
    // "Exif\0\0", TIFF header (little-endian), IFD0 at offset 8 with one entry: 0x0112 SHORT 1 = orientation.
    const tiff = [
      ...text('II'),
      ...le16(42),
      ...le32(8),
      ...le16(1),
      ...le16(0x0112),
      ...le16(3),
      ...le32(1),
      ...le16(orientation),
      0,
      0,
      ...le32(0),
    ];
    const payload = [...text('Exif\0\0'), ...tiff];
    app1 = [0xff, 0xe1, ...be16(payload.length + 2), ...payload];
  }
  const sof = [0xff, 0xc0, ...be16(17), 8, ...be16(height), ...be16(width), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return bytes([0xff, 0xd8], app0, app1, sof, [0xff, 0xda]);
}

function gif(width: number, height: number): Uint8Array {
  return bytes(text('GIF89a'), le16(width), le16(height), [0xf7, 0, 0]);
}

function webp(chunk: 'VP8 ' | 'VP8L' | 'VP8X', width: number, height: number): Uint8Array {
  let payload: number[];
  // VP8: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
  if (chunk === 'VP8 ') payload = [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...le16(width), ...le16(height)];
  else if (chunk === 'VP8L') {
    // One 32-bit little-endian word after the 0x2F signature: width − 1 (14 bits), height − 1 (14 bits), alpha, version.
    const word = ((width - 1) | ((height - 1) << 14)) >>> 0;
    payload = [0x2f, ...le32(word)];
  } else payload = [0x10, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)];
  while (payload.length < 10) payload.push(0);
  return bytes(text('RIFF'), le32(4 + 8 + payload.length), text('WEBP'), text(chunk), le32(payload.length), payload);
}

function bmp(width: number, height: number, dib = 40): Uint8Array {
  const header =
    dib === 12
      ? [...le32(12), ...le16(width), ...le16(height), ...le16(1), ...le16(24)]
      : [...le32(dib), ...le32(width), ...le32(height >>> 0), ...le16(1), ...le16(24)];
  return bytes(text('BM'), le32(0), le32(0), le32(14 + dib), header, new Array(Math.max(0, dib - header.length)).fill(0));
}

// ISO-BMFF boxes for AVIF.
const box = (type: string, ...payload: number[][]) => [...be32(8 + payload.flat().length), ...text(type), ...payload.flat()];
const fullBox = (type: string, version: number, ...payload: number[][]) => box(type, [version, 0, 0, 0], ...payload);
const ispe = (w: number, h: number) => fullBox('ispe', 0, be32(w), be32(h));

/**
 * An AVIF whose primary item 1 has properties [1] (ispe) and [3] (irot when
 * given), and a second item 2 (e.g. a larger auxiliary image) has [2].
 */
function avif(primary: [number, number], other: [number, number], irot?: number): Uint8Array {
  const props = [ispe(...primary), ispe(...other), box('irot', [irot ?? 0])];
  const ipma = fullBox('ipma', 0, be32(2), be16(1), [2, 0x81, 0x83], be16(2), [1, 0x02]);
  const meta = fullBox(
    'meta',
    0,
    fullBox('hdlr', 0, be32(0), text('pict'), be32(0), be32(0), be32(0), [0]),
    fullBox('pitm', 0, be16(1)),
    box('iprp', box('ipco', ...props), ipma),
  );
  return bytes(box('ftyp', text('avif'), be32(0), text('mif1'), text('avif')), meta, box('mdat', [1, 2, 3]));
}

/** The classic 2 × 2 AVIF feature-detection image (libavif), as browsers' capability checks embed it. */
const TINY_AVIF = Uint8Array.from(
  atob(
    'AAAAIGZ0eXBhdmlmAAAAAGF2aWZtaWYxbWlhZk1BMUIAAADybWV0YQAAAAAAAAAoaGRscgAAAAAAAAAAcGljdAAAAAAAAAAAAAAAAGxpYmF2aWYAAAAADnBpdG0AAAAAAAEAAAAeaWxvYwAAAABEAAABAAEAAAABAAABGgAAAB0AAAAoaWluZgAAAAAAAQAAABppbmZlAgAAAAABAABhdjAxQ29sb3IAAAAAamlwcnAAAABLaXBjbwAAABRpc3BlAAAAAAAAAAIAAAACAAAAEHBpeGkAAAAAAwgICAAAAAxhdjFDgQ0MAAAAABNjb2xybmNseAACAAIAAYAAAAAXaXBtYQAAAAAAAAABAAEEAQKDBAAAACVtZGF0EgAKCBgANogQEAwgMg8f8D///8WfhwB8+ErK42A=',
  ),
  (c) => c.charCodeAt(0),
);

const size = (b: Uint8Array, complete = true) => readImageHeader(b, complete);

describe('sniffFormat', () => {
  it('names each raster format by its magic bytes', () => {
    expect(sniffFormat(png(1, 1))).toBe('png');
    expect(sniffFormat(jpeg(1, 1))).toBe('jpeg');
    expect(sniffFormat(gif(1, 1))).toBe('gif');
    expect(sniffFormat(webp('VP8 ', 1, 1))).toBe('webp');
    expect(sniffFormat(bmp(1, 1))).toBe('bmp');
    expect(sniffFormat(avif([1, 1], [1, 1]))).toBe('avif');
    expect(sniffFormat(TINY_AVIF)).toBe('avif');
  });

  it('refuses SVG, HTML, text, ICO, TIFF, HEIC and empty files, whatever they are called', () => {
    const refused = [
      text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      text('<?xml version="1.0"?><svg/>'),
      text('<!DOCTYPE html><html><script>alert(1)</script>'),
      text('hello, I am a text file named photo.png'),
      [0, 0, 1, 0, 1, 0, 16, 16], // ICO
      [0x49, 0x49, 42, 0], // TIFF
      box('ftyp', text('heic'), be32(0), text('mif1'), text('heic')), // HEIC: not decodable by Chromium
      [],
    ];
    for (const b of refused) expect(sniffFormat(Uint8Array.from(b))).toBeNull();
  });

  it('SNIFF_BYTES covers a long ftyp brand list', () => {
    const brands = Array.from({ length: 20 }, () => text('mif1')).flat();
    const file = bytes(box('ftyp', text('mif1'), be32(0), brands, text('avif')));
    expect(file.length).toBeLessThanOrEqual(SNIFF_BYTES);
    expect(sniffFormat(file)).toBe('avif');
  });
});

describe('readImageHeader', () => {
  it('reads width and height from PNG IHDR, GIF, WebP (VP8, VP8L, VP8X) and BMP', () => {
    expect(size(png(6000, 4000))).toEqual({ kind: 'ok', format: 'png', width: 6000, height: 4000 });
    expect(size(gif(320, 200))).toEqual({ kind: 'ok', format: 'gif', width: 320, height: 200 });
    expect(size(webp('VP8 ', 1023, 767))).toEqual({ kind: 'ok', format: 'webp', width: 1023, height: 767 });
    expect(size(webp('VP8L', 400, 300))).toEqual({ kind: 'ok', format: 'webp', width: 400, height: 300 });
    expect(size(webp('VP8L', 16384, 1))).toEqual({ kind: 'ok', format: 'webp', width: 16384, height: 1 });
    expect(size(webp('VP8X', 5000, 70000))).toEqual({ kind: 'ok', format: 'webp', width: 5000, height: 70000 });
    expect(size(bmp(640, 480))).toEqual({ kind: 'ok', format: 'bmp', width: 640, height: 480 });
    expect(size(bmp(640, -480))).toEqual({ kind: 'ok', format: 'bmp', width: 640, height: 480 }); // top-down rows
    expect(size(bmp(64, 32, 12))).toEqual({ kind: 'ok', format: 'bmp', width: 64, height: 32 });
    expect(size(bmp(64, 32, 124))).toEqual({ kind: 'ok', format: 'bmp', width: 64, height: 32 });
  });

  it('reads a PNG eXIf orientation before IDAT, as Chromium does, and ignores one after it', () => {
    expect(size(png(640, 480, { before: [tiff(6)] }))).toEqual({ kind: 'ok', format: 'png', width: 480, height: 640 });
    expect(size(png(640, 480, { before: [TEXT_CHUNK, tiff(8, 'MM')] }))).toEqual({ kind: 'ok', format: 'png', width: 480, height: 640 });
    expect(size(png(640, 480, { before: [tiff(3)] }))).toEqual({ kind: 'ok', format: 'png', width: 640, height: 480 });
    expect(size(png(640, 480, { after: [tiff(6)] }))).toEqual({ kind: 'ok', format: 'png', width: 640, height: 480 });
    expect(size(png(640, 480, { before: [[1, 2, 3]] }))).toEqual({ kind: 'ok', format: 'png', width: 640, height: 480 }); // malformed: as stored
  });

  it('reads a JPEG SOF after other segments, and swaps width and height for EXIF orientations 5–8', () => {
    expect(size(jpeg(6000, 4000))).toEqual({ kind: 'ok', format: 'jpeg', width: 6000, height: 4000 });
    expect(size(jpeg(6000, 4000, 1))).toEqual({ kind: 'ok', format: 'jpeg', width: 6000, height: 4000 });
    expect(size(jpeg(6000, 4000, 3))).toEqual({ kind: 'ok', format: 'jpeg', width: 6000, height: 4000 });
    for (const o of [5, 6, 7, 8]) expect(size(jpeg(6000, 4000, o))).toEqual({ kind: 'ok', format: 'jpeg', width: 4000, height: 6000 });
  });

  it('skips JPEG fill bytes and stand-alone markers', () => {
    const plain = jpeg(10, 20);
    const padded = bytes([0xff, 0xd8, 0xff, 0xff], Array.from(plain.subarray(2)));
    expect(size(padded)).toEqual({ kind: 'ok', format: 'jpeg', width: 10, height: 20 });
  });

  it('reads AVIF ispe of the primary item (by ipma), not a larger auxiliary image, and applies irot', () => {
    expect(size(avif([640, 480], [1000, 1000]))).toEqual({ kind: 'ok', format: 'avif', width: 640, height: 480 });
    expect(size(avif([640, 480], [1000, 1000], 1))).toEqual({ kind: 'ok', format: 'avif', width: 480, height: 640 });
    expect(size(avif([640, 480], [1000, 1000], 2))).toEqual({ kind: 'ok', format: 'avif', width: 640, height: 480 });
    expect(size(TINY_AVIF)).toEqual({ kind: 'ok', format: 'avif', width: 2, height: 2 });
  });

  it('asks for more bytes when the header continues, and calls a cut-off whole file invalid', () => {
    const cases: Uint8Array[] = [
      png(100, 100, { before: [TEXT_CHUNK, tiff(6)] }),
      jpeg(100, 100, 6),
      gif(100, 100),
      webp('VP8X', 100, 100),
      bmp(100, 100),
      avif([100, 100], [5, 5]),
    ];
    for (const whole of cases) {
      const full = size(whole).kind;
      expect(full).toBe('ok');
      // Every prefix short of the header: need-more while more may come, invalid when it is the whole file.
      const sofAt = whole.findIndex((b, i) => b === 0xff && whole[i + 1] === 0xc0);
      // PNG: through the eXIf data, which here ends 18 bytes before the file (its CRC, then the 14-byte IDAT chunk).
      const headerEnd = [whole.length - 18, sofAt + 9, 10, 30, 26, whole.length - 11][cases.indexOf(whole)] as number;
      for (let cut = 1; cut < headerEnd; cut++) {
        const prefix = whole.subarray(0, cut);
        const partial = size(prefix, false);
        if (sniffFormat(prefix) === null) continue; // too short to even sniff
        expect(partial.kind, `${sniffFormat(prefix)} cut at ${cut}`).toBe('need-more');
        if (partial.kind === 'need-more') expect(partial.bytes).toBeGreaterThan(cut);
        expect(size(prefix, true).kind, `${sniffFormat(prefix)} cut at ${cut}, complete`).toBe('invalid');
      }
    }
  });

  it('asks for the bytes a long EXIF segment needs before the JPEG frame header', () => {
    const big = jpeg(30, 40, 6);
    const first = size(big.subarray(0, 30), false);
    expect(first).toEqual({ kind: 'need-more', bytes: expect.any(Number) });
  });

  it('refuses corrupt headers and zero sizes with a reason', () => {
    const badPng = png(10, 10);
    badPng.set(text('IDAT'), 12);
    const zeroGif = gif(0, 10);
    const badJpeg = bytes([0xff, 0xd8, 0xff, 0xda, 0, 4, 0, 0]); // scan before any frame header
    const noMarker = bytes([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12, 0x34]);
    const badDib = bmp(10, 10);
    badDib.set(le32(77), 14);
    const badVp8 = webp('VP8 ', 10, 10);
    badVp8[23] = 0;
    for (const [i, b] of [badPng, zeroGif, badJpeg, noMarker, badDib, badVp8, png(0, 5)].entries()) {
      const result = size(b);
      expect(result.kind, `case ${i}`).toBe('invalid');
      if (result.kind === 'invalid') expect(result.reason.length).toBeGreaterThan(5);
    }
    expect(size(Uint8Array.from(text('<svg onload="alert(1)"/>')))).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('not a JPEG'),
    });
  });
});

describe('exifOrientation', () => {
  it('is null without EXIF or with a malformed IFD', () => {
    expect(exifOrientation(Uint8Array.from(text('XMP\0\0\0 something')))).toBeNull();
    expect(exifOrientation(Uint8Array.from([...text('Exif\0\0'), ...text('II'), ...le16(42), ...le32(9999)]))).toBeNull();
  });
});
