import { ClassicLevel } from "classic-level";

/** Open options a variant may change (leveldb-limits.ts); the default is the store's own. */
export type LevelOptions = Pick<NonNullable<ConstructorParameters<typeof ClassicLevel<Uint8Array, Uint8Array>>[1]>, "blockSize" | "compression" | "writeBufferSize" | "maxFileSize">;

type Hooked = ReturnType<ClassicLevel<Uint8Array, Uint8Array>["batch"]> & {
  _put(k: Uint8Array, v: Uint8Array, o: object): void;
  _write(o: object): Promise<void>;
};

/**
 * Rows (key, value) exactly as a projection store holds them, collected from
 * one: the baseline writes the same bytes, so it measures the storage engine
 * and nothing else.
 */
export async function collectRows(db: ClassicLevel<Uint8Array, Uint8Array>): Promise<[Uint8Array, Uint8Array][]> {
  const rows: [Uint8Array, Uint8Array][] = [];
  const it = db.iterator();
  try {
    for (;;) {
      const batch = await it.nextv(10_000);
      if (batch.length === 0) break;
      for (const [k, v] of batch) rows.push([k, v]);
    }
  } finally {
    await it.close();
  }
  // A store is written entity by entity, which scatters keys; writing its dump in key order would flatter LevelDB.
  let x = 0x9e3779b9;
  for (let i = rows.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

/**
 * Seconds for raw LevelDB (classic-level, the binding's put hook as the
 * projection runner uses it, the store's own open options) to take `rows` in
 * batches of `opsPerBatch`, one batch written while the next is built.
 */
export async function rawPutSeconds(dir: string, rows: readonly [Uint8Array, Uint8Array][], opsPerBatch = 50_000, options: LevelOptions = {}): Promise<number> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "buffer", valueEncoding: "buffer", writeBufferSize: 16 * 1024 * 1024, ...options });
  await db.open();
  try {
    const t0 = performance.now();
    let inflight: Promise<void> | null = null;
    for (let s = 0; s < rows.length; s += opsPerBatch) {
      const b = db.batch() as Hooked;
      const end = Math.min(rows.length, s + opsPerBatch);
      for (let i = s; i < end; i++) b._put(rows[i]![0], rows[i]![1], {});
      if (inflight !== null) await inflight;
      inflight = b._write({}).then(() => b.close());
    }
    if (inflight !== null) await inflight;
    return (performance.now() - t0) / 1000;
  } finally {
    await db.close();
  }
}
