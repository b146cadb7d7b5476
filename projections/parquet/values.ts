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

/** setUuid from the 36 ASCII bytes at `at` (a stored record's id), without making a string. */
export function setUuidBytes(out: Uint8Array, o: number, src: Uint8Array, at: number): boolean {
  let j = 0;
  let hi = 0;
  for (let i = 0; i < 36; i++) {
    const c = src[at + i]!;
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = c < 128 ? HEX[c]! : -1;
    if (v < 0) return false;
    if ((j & 1) === 0) hi = v << 4;
    else out[o + 15 - (j >> 1)] = (j >> 1 === 0 ? 0x80 : 0) ^ (hi | v);
    j++;
  }
  return true;
}

/**
 * An RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`) as µs since
 * the epoch, seconds and fraction also kept apart so dates past 2255 stay
 * exact. `exact` is false when the text holds more than microsecond precision,
 * or a leap second. Parsed by hand: it runs once per timestamp value of a full
 * export, where a regex and Date objects cost more than the rest of the row.
 */
export function parseTimestamp(s: string): { micros: number; seconds: number; fraction: number; exact: boolean } | null {
  const len = s.length;
  if (len < 20) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return null;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116 && t !== 32) return null; // T, t, space
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 60) return null;
  let i = 19;
  let fraction = 0;
  let scale = 100_000;
  let exact = sec < 60;
  if (s.charCodeAt(i) === 46) {
    i++;
    const from = i;
    for (; i < len; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (scale >= 1) fraction += c * scale;
      else if (c !== 0) exact = false;
      scale /= 10;
    }
    if (i === from) return null;
    fraction = Math.round(fraction);
  }
  let offsetMin: number;
  const z = s.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === len) offsetMin = 0; // Z, z
  else if ((z === 43 || z === 45) && i + 6 === len && s.charCodeAt(i + 3) === 58) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return null;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return null;
  const seconds = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offsetMin * 60;
  return { micros: seconds * 1_000_000 + fraction, seconds, fraction, exact };
}

/** An ISO date (YYYY-MM-DD) as days since the epoch. */
export function parseDate(s: string): number | null {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return null;
  return daysFromCivil(y, mo, d);
}

/** The decimal number in s[at, at + n), or -1 when those are not all digits. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let k = at; k < at + n; k++) {
    const c = s.charCodeAt(k) - 48;
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
