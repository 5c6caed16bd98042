/**
 * Which raster format a file is, and how large it is, from its first bytes
 * alone: no decoder runs. Pure, so it is unit-tested in Node and shared by the
 * page (thumbnails only for real rasters) and the worker (decode planning).
 *
 * Only the formats listed in RASTER_FORMATS are ever handed to a decoder.
 * Everything else (SVG, HTML, text, PDF, ICO, TIFF, HEIC…) is refused here,
 * whatever its name or MIME type says, so a file can never run code.
 */

export const RASTER_FORMATS = ['jpeg', 'png', 'gif', 'webp', 'bmp', 'avif'] as const;
export type RasterFormat = (typeof RASTER_FORMATS)[number];

/** Bytes that always suffice for `sniffFormat` (an AVIF `ftyp` box lists its brands within this). */
export const SNIFF_BYTES = 256;

export type HeaderResult =
  /** Width and height as the browser displays the image (JPEG and PNG EXIF / AVIF `irot` rotation applied). Units: pixels. */
  | { kind: 'ok'; format: RasterFormat; width: number; height: number }
  /** The header continues past the bytes given: call again with at least `bytes` bytes. */
  | { kind: 'need-more'; bytes: number }
  | { kind: 'invalid'; reason: string };

const ascii = (b: Uint8Array, at: number, length: number) => String.fromCharCode(...b.subarray(at, at + length));
const u16be = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
const u16le = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] as number) << 16);
const u32be = (b: Uint8Array, at: number) => (u16be(b, at) * 0x10000 + u16be(b, at + 2)) >>> 0;
const i32le = (b: Uint8Array, at: number) => u16le(b, at) | (u16le(b, at + 2) << 16);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The raster format by magic bytes, or null for anything we will not decode. */
export function sniffFormat(b: Uint8Array): RasterFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  if (isAvif(b)) return 'avif';
  return null;
}

/** An ISO-BMFF file whose `ftyp` names AVIF (still `avif` or sequence `avis`) as major or compatible brand. */
function isAvif(b: Uint8Array): boolean {
  if (b.length < 16 || ascii(b, 4, 4) !== 'ftyp') return false;
  const size = Math.min(u32be(b, 0), b.length);
  if (size < 16) return false;
  const brands = [ascii(b, 8, 4)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(b, at, 4));
  return brands.includes('avif') || brands.includes('avis');
}

/**
 * Reads the displayed width and height from the header. `complete` says the
 * bytes are the whole file: then a header that runs past them is `invalid`
 * (truncated) instead of `need-more`.
 */
export function readImageHeader(b: Uint8Array, complete: boolean): HeaderResult {
  const format = sniffFormat(b);
  if (format === null) {
    if (b.length < SNIFF_BYTES && !complete) return { kind: 'need-more', bytes: SNIFF_BYTES };
    return { kind: 'invalid', reason: 'not a JPEG, PNG, GIF, WebP, BMP or AVIF file' };
  }
  const result = PARSERS[format](b);
  if (result.kind === 'need-more' && complete) return { kind: 'invalid', reason: `the ${format.toUpperCase()} header is cut off` };
  if (result.kind === 'ok' && !(result.width >= 1 && result.height >= 1)) {
    return { kind: 'invalid', reason: `the ${format.toUpperCase()} header gives a size of ${result.width}×${result.height}` };
  }
  return result;
}

const ok = (format: RasterFormat, width: number, height: number): HeaderResult => ({ kind: 'ok', format, width, height });
const more = (_format: RasterFormat, bytes: number): HeaderResult => ({ kind: 'need-more', bytes });
const invalid = (format: RasterFormat, why: string): HeaderResult => ({ kind: 'invalid', reason: `${format.toUpperCase()}: ${why}` });

const PARSERS: Record<RasterFormat, (b: Uint8Array) => HeaderResult> = {
  png: parsePng,
  // "GIF89a", then the logical screen width and height (2 bytes each, LE): the size browsers show.
  gif: (b) => (b.length < 10 ? more('gif', 10) : ok('gif', u16le(b, 6), u16le(b, 8))),
  webp: parseWebp,
  bmp: parseBmp,
  jpeg: parseJpeg,
  avif: parseAvif,
};

/**
 * Signature, then the IHDR chunk: length (4), "IHDR", width (4, BE), height
 * (4, BE). An eXIf chunk (a bare TIFF block) before the first IDAT may rotate
 * the picture by 90°: Chromium applies that orientation, and ignores an eXIf
 * after IDAT (both checked in Chromium), so only the chunks up to IDAT count.
 * WebP's EXIF chunk is not applied by Chromium, so WebP sizes stay as stored.
 */
function parsePng(b: Uint8Array): HeaderResult {
  if (b.length < 24) return more('png', 24);
  if (ascii(b, 12, 4) !== 'IHDR') return invalid('png', 'the first chunk is not IHDR');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  // Each chunk: length (4, BE), type (4), data, CRC (4).
  for (let at = 8; ;) {
    if (at + 8 > b.length) return more('png', at + 8);
    const length = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    if (type === 'IDAT' || type === 'IEND') return ok('png', width, height);
    if (type === 'eXIf') {
      if (at + 8 + length > b.length) return more('png', at + 8 + length);
      const orientation = tiffOrientation(b.subarray(at + 8, at + 8 + length)) ?? 1;
      return orientation >= 5 ? ok('png', height, width) : ok('png', width, height);
    }
    at += 12 + length;
  }
}

/** RIFF header (12 bytes), then the first chunk: `VP8 ` (lossy), `VP8L` (lossless) or `VP8X` (extended). */
function parseWebp(b: Uint8Array): HeaderResult {
  if (b.length < 30) return more('webp', 30);
  const chunk = ascii(b, 12, 4);
  switch (chunk) {
    case 'VP8 ':
      // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height (2 high bits: scaling).
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return invalid('webp', 'bad VP8 start code');
      return ok('webp', u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
    case 'VP8L': {
      // Signature 0x2F, then width − 1 and height − 1 as two 14-bit fields, LSB first.
      if (b[20] !== 0x2f) return invalid('webp', 'bad VP8L signature');
      const [b1, b2, b3, b4] = [b[21] as number, b[22] as number, b[23] as number, b[24] as number];
      return ok('webp', 1 + (((b2 & 0x3f) << 8) | b1), 1 + (((b4 & 0x0f) << 10) | (b3 << 2) | ((b2 & 0xc0) >> 6)));
    }
    case 'VP8X':
      // Flags (1), reserved (3), canvas width − 1 and height − 1 (3 bytes each, LE).
      return ok('webp', 1 + u24le(b, 24), 1 + u24le(b, 27));
    default:
      return invalid('webp', `unknown first chunk "${chunk}"`);
  }
}

/** DIB header sizes with 32-bit width and height: BITMAPINFOHEADER (40), its V2/V3 extensions (52, 56), OS/2 2.x (64), V4 (108), V5 (124). */
const DIB_SIZES = new Set([40, 52, 56, 64, 108, 124]);

/** File header (14 bytes), then the DIB header: its size says which layout. Negative height = top-down rows. */
function parseBmp(b: Uint8Array): HeaderResult {
  if (b.length < 26) return more('bmp', 26);
  const dibSize = u16le(b, 14) + u16le(b, 16) * 0x10000;
  if (dibSize === 12) return ok('bmp', u16le(b, 18), u16le(b, 20)); // BITMAPCOREHEADER (OS/2 1.x)
  if (!DIB_SIZES.has(dibSize)) return invalid('bmp', `unknown DIB header size ${dibSize}`);
  return ok('bmp', Math.abs(i32le(b, 18)), Math.abs(i32le(b, 22)));
}

/** JPEG start-of-frame markers: baseline, extended, progressive, lossless, in Huffman and arithmetic flavours. */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Walks the marker segments after SOI up to the first SOF, whose payload is
 * precision (1), height (2, BE), width (2, BE). An EXIF APP1 segment before it
 * may say the picture is shown rotated by 90° (orientations 5–8): browsers
 * apply that, so width and height swap.
 */
function parseJpeg(b: Uint8Array): HeaderResult {
  let at = 2;
  let orientation = 1;
  for (;;) {
    if (at + 2 > b.length) return more('jpeg', at + 4);
    if (b[at] !== 0xff) return invalid('jpeg', `no marker at byte ${at}`);
    const marker = b[at + 1] as number;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // stand-alone markers carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return invalid('jpeg', 'image data starts before any frame header');
    if (at + 4 > b.length) return more('jpeg', at + 4);
    const length = u16be(b, at + 2);
    if (length < 2) return invalid('jpeg', `segment length ${length} at byte ${at}`);
    if (SOF_MARKERS.has(marker)) {
      if (at + 9 > b.length) return more('jpeg', at + 9);
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      return orientation >= 5 ? ok('jpeg', height, width) : ok('jpeg', width, height);
    }
    if (marker === 0xe1) {
      if (at + 2 + length > b.length) return more('jpeg', at + 2 + length);
      orientation = exifOrientation(b.subarray(at + 4, at + 2 + length)) ?? orientation;
    }
    at += 2 + length;
  }
}

/** The Orientation tag (0x0112) of IFD0 in a JPEG APP1 payload starting "Exif\0\0"; null when absent or malformed. */
export function exifOrientation(app1: Uint8Array): number | null {
  if (app1.length < 14 || ascii(app1, 0, 6) !== 'Exif\0\0') return null;
  return tiffOrientation(app1.subarray(6));
}

/** The Orientation tag (0x0112) of IFD0 in a TIFF block (byte order, 42, IFD offset…); null when absent or malformed. */
export function tiffOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const order = ascii(tiff, 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const le = order === 'II';
  const u16 = (at: number) => (le ? u16le(tiff, at) : u16be(tiff, at));
  const u32 = (at: number) => (le ? u16le(tiff, at) + u16le(tiff, at + 2) * 0x10000 : u32be(tiff, at));
  if (u16(2) !== 42) return null;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return null;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8); // type SHORT: the value sits in the first two bytes of the value field
      return value >= 1 && value <= 8 ? value : null;
    }
  }
  return null;
}

interface Box {
  type: string;
  /** Offsets of the payload (after the header) and of the end of the box, in the buffer. */
  start: number;
  end: number;
}

/** The child boxes filling [from, to), which must lie within `b`. Size 1 = a 64-bit size follows; 0 = to the end. */
function boxes(b: Uint8Array, from: number, to: number): Box[] | { bad: string } {
  const list: Box[] = [];
  let at = from;
  while (at < to) {
    if (at + 8 > to) return { bad: `truncated box header at byte ${at}` };
    let size = u32be(b, at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return { bad: `truncated box header at byte ${at}` };
      size = u32be(b, at + 8) * 2 ** 32 + u32be(b, at + 12);
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header || at + size > to) return { bad: `box size ${size} at byte ${at}` };
    list.push({ type: ascii(b, at + 4, 4), start: at + header, end: at + size });
    at += size;
  }
  return list;
}

/**
 * AVIF (ISO-BMFF / HEIF): the top-level `meta` box → `iprp` → `ipco` holds
 * the item properties; `ispe` gives an item's width and height (4 + 4 bytes
 * BE after the FullBox header). The primary item (`pitm`) is mapped to its
 * properties by `ipma`; alpha planes and grid tiles have their own `ispe`.
 * `irot` with an odd angle (× 90°) swaps the displayed width and height.
 */
function parseAvif(b: Uint8Array): HeaderResult {
  // Top level: skip boxes (ftyp, maybe mdat) until meta, asking for more bytes as needed.
  let meta: Box | undefined;
  for (let at = 0; !meta;) {
    if (at + 16 > b.length) return more('avif', at + 16);
    let size = u32be(b, at);
    let header = 8;
    if (size === 1) {
      size = u32be(b, at + 8) * 2 ** 32 + u32be(b, at + 12);
      header = 16;
    } else if (size === 0) {
      return invalid('avif', 'no meta box');
    }
    if (size < header) return invalid('avif', `box size ${size} at byte ${at}`);
    if (ascii(b, at + 4, 4) === 'meta') meta = { type: 'meta', start: at + header, end: at + size };
    at += size;
  }
  if (meta.end > b.length) return more('avif', meta.end);
  const inner = boxes(b, meta.start + 4, meta.end); // meta is a FullBox: skip version + flags
  if (!Array.isArray(inner)) return invalid('avif', inner.bad);

  const pitm = inner.find((x) => x.type === 'pitm' && x.end - x.start >= 6);
  const primary = pitm
    ? b[pitm.start] === 0
      ? u16be(b, pitm.start + 4)
      : pitm.end - pitm.start >= 8
        ? u32be(b, pitm.start + 4)
        : null
    : null;
  const iprp = inner.find((x) => x.type === 'iprp');
  if (!iprp) return invalid('avif', 'no item properties (iprp)');
  const props = boxes(b, iprp.start, iprp.end);
  if (!Array.isArray(props)) return invalid('avif', props.bad);
  const ipco = props.find((x) => x.type === 'ipco');
  if (!ipco) return invalid('avif', 'no property container (ipco)');
  const properties = boxes(b, ipco.start, ipco.end);
  if (!Array.isArray(properties)) return invalid('avif', properties.bad);

  // Property indices (1-based, in ipco order) associated with the primary item, from every ipma box.
  const primaryProps = new Set<number>();
  if (primary !== null) {
    for (const ipma of props.filter((x) => x.type === 'ipma')) {
      const version = b[ipma.start] as number;
      const wide = ((b[ipma.start + 3] as number) & 1) === 1;
      const idBytes = version < 1 ? 2 : 4;
      let at = ipma.start + 8;
      if (at > ipma.end) continue;
      const entries = u32be(b, ipma.start + 4);
      for (let e = 0; e < entries && at + idBytes + 1 <= ipma.end; e++) {
        const item = idBytes === 2 ? u16be(b, at) : u32be(b, at);
        const count = b[at + idBytes] as number;
        at += idBytes + 1;
        for (let k = 0; k < count && at + (wide ? 2 : 1) <= ipma.end; k++) {
          const index = wide ? u16be(b, at) & 0x7fff : (b[at] as number) & 0x7f;
          at += wide ? 2 : 1;
          if (item === primary) primaryProps.add(index);
        }
      }
    }
  }
  const ofPrimary = (i: number) => primaryProps.size === 0 || primaryProps.has(i + 1);

  const sizes = properties
    .filter((box, i) => box.type === 'ispe' && box.end - box.start >= 12 && ofPrimary(i))
    .map((box) => ({ width: u32be(b, box.start + 4), height: u32be(b, box.start + 8) }));
  if (sizes.length === 0) return invalid('avif', 'no image size (ispe)');
  // Without a usable ipma mapping, the largest size is the picture (tiles and thumbnails are smaller).
  const size = sizes.reduce((best, c) => (c.width * c.height > best.width * best.height ? c : best));
  const irot = properties.find((box, i) => box.type === 'irot' && box.end > box.start && ofPrimary(i));
  const quarterTurns = irot ? (b[irot.start] as number) & 3 : 0;
  return quarterTurns % 2 === 1 ? ok('avif', size.height, size.width) : ok('avif', size.width, size.height);
}
