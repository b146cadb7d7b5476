import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { primaryNode, replicaNode } from "../../test/replica/replica-fixture.js";
import { startNatsServer } from "../../test/support/nats-server.js";
import { tempDir } from "../../test/support/tmp.js";
import { collectRows, rawPutSeconds, type LevelOptions } from "../lib/raw-leveldb.js";
import { median } from "../lib/stats.js";
import { inFlight } from "../lib/window.js";
import { noteEvent } from "./workload.js";

/**
 * How fast LevelDB alone takes a caught-up replica's rows, and what would move
 * that: the row shapes a projection could choose and the options classic-level
 * exposes. A replica catches up `events` notes (as the suite's catch-up does),
 * its store's rows are collected, and each variant writes them into a fresh
 * LevelDB (batches of 50,000, one written while the next is built; rows in a
 * fixed shuffled order; the binding's put hook, as the suite's baseline in
 * raw-leveldb.ts; each database removed and the disk synced before the next),
 * variants interleaved round by round, each round starting at another one. Prints
 * events/s and CPU µs per event (every thread) per variant, medians, and a
 * JSON object last.
 *
 *   node dist/bench/replication/leveldb-limits.js [events=500000] [rounds=3]
 *
 * Row-shape variants are upper bounds: they cut bytes or rows without the code
 * that would make a store work that way (the "hashed keys" variant, for one,
 * ignores the hashing's own CPU: ~1.1 µs per key with node:crypto here).
 */

type Row = [Uint8Array, Uint8Array];

const events = Number(process.argv[2] ?? 500_000);
const rounds = Number(process.argv[3] ?? 3);

/** The replica's rows, and the prefix bytes of the two families the row-shape variants change. */
async function replicaRows(): Promise<{ rows: Row[]; entities: number; keys: number }> {
  const server = await startNatsServer();
  try {
    const primary = await primaryNode(server.url, "limits");
    try {
      await inFlight(Math.ceil(events / 100), 16, async (c) => {
        const batch = [];
        for (let k = 0; k < 100; k++) batch.push(noteEvent(c * 100 + k));
        await primary.tenant.log.append(batch);
      });
      const head = (await primary.tenant.log.head()).seq;
      const replica = await replicaNode(server.url, primary.publicKey, "limits");
      try {
        const r = await replica.open();
        await r.sync(head);
        return { rows: await collectRows(r.store.db), entities: r.store.entities.prefix[0]!, keys: r.store.keys.prefix[0]! };
      } finally {
        await replica.close();
      }
    } finally {
      await primary.close();
    }
  } finally {
    await server.cleanup();
  }
}

async function putAll(dir: string, rows: readonly Row[], options: LevelOptions): Promise<{ eventsPerS: number; cpuUsPerEvent: number }> {
  const cpu0 = process.cpuUsage();
  const s = await rawPutSeconds(dir, rows, 50_000, options);
  // Opening and closing the database fall inside the CPU figure but not the time: both are small next to a run.
  const cpu = process.cpuUsage(cpu0);
  // The next variant starts on a quiet disk: the last one's files gone and its dirty pages written back.
  await rm(dir, { recursive: true, force: true });
  execFileSync("sync");
  return { eventsPerS: events / s, cpuUsPerEvent: (cpu.user + cpu.system) / events };
}

const { rows, entities: ENTITIES, keys: KEYS } = await replicaRows();
const bytes = (rs: readonly Row[]): number => rs.reduce((n, [k, v]) => n + k.length + v.length, 0);
// Upper bounds for row shapes (see above): what the bytes alone would buy.
const withoutKeyIndex = rows.filter(([k]) => k[0] !== KEYS);
const digest = (key: Uint8Array): Uint8Array => createHash("sha256").update(key).digest().subarray(0, 16);
const hashedKeys = rows.map(([k, v]): Row => (k[0] === KEYS ? [Uint8Array.of(KEYS, ...digest(k.subarray(1))), v.subarray(0, 23)] : [k, v]));
const slimRecords = rows.map(([k, v]): Row => (k[0] === ENTITIES ? [k, v.subarray(0, Math.max(1, v.length - 85))] : [k, v]));

const variants: Record<string, { rows: readonly Row[]; options: LevelOptions }> = {
  "as stored": { rows, options: {} },
  "block size 16 KiB": { rows, options: { blockSize: 16 * 1024 } },
  "block size 64 KiB": { rows, options: { blockSize: 64 * 1024 } },
  "no compression": { rows, options: { compression: false } },
  "write buffer 64 MiB": { rows, options: { writeBufferSize: 64 * 1024 * 1024 } },
  "table files 32 MiB": { rows, options: { maxFileSize: 32 * 1024 * 1024 } },
  "key index rows 17 B + 23 B (hashed keys, binary ids)": { rows: hashedKeys, options: {} },
  "entity records 85 B smaller": { rows: slimRecords, options: {} },
  "no key index rows (4 rows an event)": { rows: withoutKeyIndex, options: {} },
};

const samples = new Map<string, { eventsPerS: number; cpuUsPerEvent: number }[]>(Object.keys(variants).map((k) => [k, []]));
const tmp = await tempDir("rem-leveldb-limits-");
try {
  const names = Object.keys(variants);
  for (let round = 0; round < rounds; round++) {
    // Each round starts at another variant, so none always runs first (after the replica's build or the last round).
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round * 3) % names.length]!;
      const v = variants[name]!;
      const r = await putAll(join(tmp.path, `${round}-${name.replace(/\W+/g, "-")}`), v.rows, v.options);
      samples.get(name)!.push(r);
      process.stderr.write(`round ${round + 1}/${rounds} ${name}: ${Math.round(r.eventsPerS)} events/s, ${r.cpuUsPerEvent.toFixed(1)} µs CPU an event\n`);
    }
  }
} finally {
  await tmp.cleanup();
}

const result: Record<string, { rows: number; bytesPerEvent: number; eventsPerS: number; cpuUsPerEvent: number }> = {};
for (const [name, v] of Object.entries(variants)) {
  const s = samples.get(name)!;
  result[name] = {
    rows: v.rows.length,
    bytesPerEvent: Math.round(bytes(v.rows) / events),
    eventsPerS: Math.round(median(s.map((x) => x.eventsPerS))),
    cpuUsPerEvent: Number(median(s.map((x) => x.cpuUsPerEvent)).toFixed(1)),
  };
}
console.log(JSON.stringify({ tool: "leveldb-limits", events, rounds, variants: result }));
