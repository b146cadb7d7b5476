/**
 * Value conversions shared by the column builders: JSON values to the bytes
 * DuckDB keeps in its vectors.
 */

const TWO_32 = 4294967296;

/** An integer (|v| < 2^63) as little-endian int64. */
export function setInt64(view: DataView, o: number, v: number): void {
  if (Number.isSafeInteger(v)) {
    let lo = v % TWO_32;
    if (lo < 0) lo += TWO_32;
    view.setUint32(o, lo, true);
    view.setInt32(o + 4, (v - lo) / TWO_32, true);
  } else {
    view.setBigInt64(o, BigInt(v), true);
  }
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/**
 * A canonical (lowercase, hyphenated) UUID as DuckDB's UUID: a hugeint whose
 * upper half is the first 8 bytes big-endian with the sign bit flipped (so
 * signed order is byte order), stored little-endian lower half first. Other
 * spellings return false: they would not read back as the same text.
 */
export function setUuid(out: Uint8Array, o: number, s: string): boolean {
  if (s.length !== 36) return false;
  let j = 0;
  let hi = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = c < 128 ? HEX[c]! : -1;
    if (v < 0) return false;
    if ((j & 1) === 0) hi = v << 4;
    else out[o + 15 - (j >> 1)] = (j >> 1 === 0 ? 0x80 : 0) ^ (hi | v); // byte b of the big-endian UUID goes to o + 15 − b
    j++;
  }
  return true;
}

/** Where each byte's two hex digits start in a hyphenated UUID. */
const UUID_PAIRS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** setUuid from the 36 ASCII bytes at `at` (a stored record's id), without making a string: a digit pair per byte, the hyphens checked once. */
export function setUuidBytes(out: Uint8Array, o: number, src: Uint8Array, at: number): boolean {
  if (src[at + 8] !== 45 || src[at + 13] !== 45 || src[at + 18] !== 45 || src[at + 23] !== 45) return false;
  for (let j = 0; j < 16; j++) {
    const p = at + UUID_PAIRS[j]!;
    const c1 = src[p]!;
    const c2 = src[p + 1]!;
    const hi = c1 < 128 ? HEX[c1]! : -1;
    const lo = c2 < 128 ? HEX[c2]! : -1;
    if ((hi | lo) < 0) return false;
    out[o + 15 - j] = (j === 0 ? 0x80 : 0) ^ ((hi << 4) | lo); // byte j of the big-endian UUID goes to o + 15 − j
  }
  return true;
}

/** A parsed timestamp: µs since the epoch, and seconds and fraction apart (exact past 2255, where µs exceed 2^53). */
export interface TimestampParts {
  micros: number;
  seconds: number;
  fraction: number;
  /** False when the text holds more than microsecond precision, or a leap second. */
  exact: boolean;
}

/**
 * An RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) as µs since
 * the epoch, seconds and fraction also kept apart so dates past 2255 stay
 * exact. `exact` is false when the text holds more than microsecond precision,
 * or a leap second. Parsed by hand: it runs once per timestamp value of a full
 * export, where a regex and Date objects cost more than the rest of the row.
 */
export function parseTimestamp(s: string): TimestampParts | null {
  const b = asciiBytes(s);
  const out: TimestampParts = { micros: 0, seconds: 0, fraction: 0, exact: true };
  return b !== null && parseTimestampBytes(b, 0, b.length, out) ? out : null;
}

/**
 * parseTimestamp over the bytes b[at, at + len) (a stored record's string,
 * without making a JavaScript string of it), into `out` (reused: no
 * allocation per value); false when they are not a timestamp. Every accepted
 * byte is ASCII, so bytes and their latin1 or UTF-16 reading parse alike.
 */
export function parseTimestampBytes(b: Uint8Array, at: number, len: number, out: TimestampParts): boolean {
  if (len < 20) return false;
  const y = digits(b, at, 4);
  const mo = digits(b, at + 5, 2);
  const d = digits(b, at + 8, 2);
  const h = digits(b, at + 11, 2);
  const mi = digits(b, at + 14, 2);
  const sec = digits(b, at + 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return false;
  if (b[at + 4] !== 45 || b[at + 7] !== 45 || b[at + 13] !== 58 || b[at + 16] !== 58) return false;
  const t = b[at + 10];
  if (t !== 84 && t !== 116 && t !== 32) return false; // T, t, space
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 60) return false;
  let i = 19;
  let fraction = 0;
  let scale = 100_000;
  let exact = sec < 60;
  if (b[at + i] === 46) {
    i++;
    const from = i;
    for (; i < len; i++) {
      const c = b[at + i]! - 48;
      if (c < 0 || c > 9) break;
      if (scale >= 1) fraction += c * scale;
      else if (c !== 0) exact = false;
      scale /= 10;
    }
    if (i === from) return false;
    fraction = Math.round(fraction);
  }
  let offsetMin: number;
  const z = i < len ? b[at + i]! : -1;
  if ((z === 90 || z === 122) && i + 1 === len) offsetMin = 0; // Z, z
  else if ((z === 43 || z === 45) && i + 6 === len && b[at + i + 3] === 58) {
    const oh = digits(b, at + i + 1, 2);
    const om = digits(b, at + i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return false;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return false;
  const seconds = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offsetMin * 60;
  out.micros = seconds * 1_000_000 + fraction;
  out.seconds = seconds;
  out.fraction = fraction;
  out.exact = exact;
  return true;
}

/** An ISO date (YYYY-MM-DD) as days since the epoch. */
export function parseDate(s: string): number | null {
  const b = asciiBytes(s);
  return b === null ? null : parseDateBytes(b, 0, b.length);
}

/** parseDate over the bytes b[at, at + len); null when they are not a date. */
export function parseDateBytes(b: Uint8Array, at: number, len: number): number | null {
  if (len !== 10 || b[at + 4] !== 45 || b[at + 7] !== 45) return null;
  const y = digits(b, at, 4);
  const mo = digits(b, at + 5, 2);
  const d = digits(b, at + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return null;
  return daysFromCivil(y, mo, d);
}

/** The text as bytes when it is ASCII; null otherwise (no timestamp or date has another character). */
function asciiBytes(s: string): Uint8Array | null {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return null;
    b[i] = c;
  }
  return b;
}

/** The decimal number in b[at, at + n), or -1 when those are not all digits. */
function digits(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let k = at; k < at + n; k++) {
    const c = b[k]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(y: number, m: number): number {
  if (m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0)) return 29;
  return MONTH_DAYS[m - 1]!;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
