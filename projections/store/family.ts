import type { ClassicLevel } from "classic-level";
import { concat, prefixEnd } from "./keys.js";

type Bytes = Uint8Array;
export type Level = ClassicLevel<Bytes, Bytes>;

export interface FamilyRange {
  gt?: Bytes;
  gte?: Bytes;
  lt?: Bytes;
  lte?: Bytes;
  reverse?: boolean;
  limit?: number;
}

/**
 * A "column family": the keys of one LevelDB database that start with one
 * prefix byte. Keys given to and returned by a Family are relative (without the
 * prefix). This replaces abstract-level sublevels, whose per-operation JS layer
 * (encodings, validation, prefixing) cost ~6 µs per put here — more than
 * LevelDB itself — on the rebuild path.
 */
export class Family {
  readonly name: string;
  readonly prefix: Buffer;
  readonly #db: Level;

  constructor(db: Level, name: string, prefix: number) {
    this.#db = db;
    this.name = name;
    this.prefix = Buffer.from([prefix]);
  }

  /** The absolute key of a relative one. */
  full(key: Bytes): Buffer {
    return concat(this.prefix, key) as Buffer;
  }

  getSync(key: Bytes): Bytes | undefined {
    return this.#db.getSync(this.full(key));
  }

  async put(key: Bytes, value: Bytes): Promise<void> {
    await this.#db.put(this.full(key), value);
  }

  iterator(range: FamilyRange = {}): AsyncIterableIterator<[Bytes, Bytes]> & { nextv(n: number): Promise<[Bytes, Bytes][]>; close(): Promise<void> } {
    const it = this.#db.iterator(this.#absolute(range));
    const strip = ([k, v]: [Bytes, Bytes]): [Bytes, Bytes] => [k.subarray(1), v];
    return {
      async next() {
        const e = await it.next();
        return e === undefined ? { done: true, value: undefined } : { done: false, value: strip(e) };
      },
      async nextv(n: number) {
        return (await it.nextv(n)).map(strip);
      },
      close: () => it.close(),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<[Bytes, Bytes]> & { nextv(n: number): Promise<[Bytes, Bytes][]>; close(): Promise<void> };
  }

  keys(range: FamilyRange = {}): AsyncIterableIterator<Bytes> & { nextv(n: number): Promise<Bytes[]>; close(): Promise<void> } {
    const it = this.#db.keys(this.#absolute(range));
    return {
      async next() {
        const k = await it.next();
        return k === undefined ? { done: true, value: undefined } : { done: false, value: k.subarray(1) };
      },
      async nextv(n: number) {
        return (await it.nextv(n)).map((k) => k.subarray(1));
      },
      close: () => it.close(),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<Bytes> & { nextv(n: number): Promise<Bytes[]>; close(): Promise<void> };
  }

  values(range: FamilyRange = {}): AsyncIterableIterator<Bytes> & { nextv(n: number): Promise<Bytes[]>; close(): Promise<void> } {
    return this.#db.values(this.#absolute(range)) as unknown as AsyncIterableIterator<Bytes> & { nextv(n: number): Promise<Bytes[]>; close(): Promise<void> };
  }

  /** Deletes every key of the family, or those below `lt` (relative). */
  async clear(range: { lt?: Bytes } = {}): Promise<void> {
    await this.#db.clear({ gte: this.prefix, lt: range.lt === undefined ? prefixEnd(this.prefix) : this.full(range.lt) });
  }

  #absolute(range: FamilyRange): FamilyRange {
    const out: FamilyRange = { reverse: range.reverse ?? false };
    if (range.limit !== undefined) out.limit = range.limit;
    if (range.gt !== undefined) out.gt = this.full(range.gt);
    else if (range.gte !== undefined) out.gte = this.full(range.gte);
    else out.gte = this.prefix;
    if (range.lt !== undefined) out.lt = this.full(range.lt);
    else if (range.lte !== undefined) out.lte = this.full(range.lte);
    else out.lt = prefixEnd(this.prefix);
    return out;
  }
}
