// Real PNGs made here (no fixture files): an RGB gradient of the given size, one of an exact byte
// size, a large one that compresses well (40 megapixels in ~130 KB), and the encoder they share.
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** An 8-bit RGB PNG of these rows (each row starts with its filter byte), deflated at `level`. */
export function encodePng(width, height, raw, level) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level })), chunk("IEND", Buffer.alloc(0))]);
}

export function png(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = 160;
    }
  }
  return encodePng(width, height, raw, undefined);
}

/**
 * A large PNG that compresses well (e.g. 8000 x 5000, 40 megapixels, ~130 KB): eight bands of
 * colour, each row but a band's first "up"-filtered, so that the deflated rows are nearly all zeros.
 */
export function bandsPng(width, height) {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  const band = Math.max(1, Math.floor(height / 8));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    if (y % band === 0) {
      const k = y / band;
      for (let x = 0; x < width; x++) {
        raw[row + 1 + x * 3] = (x * 255) / width;
        raw[row + 2 + x * 3] = 40 + k * 25;
        raw[row + 3 + x * 3] = 200 - k * 20;
      }
    } else {
      raw[row] = 2; // "up": the same as the row above
    }
  }
  return { width, height, bytes: encodePng(width, height, raw, 9) };
}

/** A real PNG of exactly `bytes` bytes: a small gradient padded with a text chunk. */
export function pngOfSize(bytes) {
  const base = png(16, 12);
  const iend = base.subarray(base.length - 12);
  const pad = bytes - base.length - 12; // the padding chunk's data (12: its length, type and CRC)
  if (pad < 0) throw new Error(`a PNG takes at least ${base.length + 12} bytes`);
  // A private ancillary chunk: decoders skip it, and it is not metadata, so the service keeps it
  // (a text chunk would be removed with the photo's metadata, and the bytes would change).
  const padding = chunk("prVt", Buffer.alloc(pad, 0x61));
  return Buffer.concat([base.subarray(0, base.length - 12), padding, iend]);
}
