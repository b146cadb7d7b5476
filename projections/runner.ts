import { GENESIS, type ChainPosition, type VerifiedCommit } from "../events/chain-verifier.js";
import type { Seq } from "../events/model/ids.js";
import type { TenantLog } from "../events/log/tenant-log.js";
import { applyEvents } from "./apply/apply-events.js";
import { StagedBatch } from "./apply/staged.js";
import { pack, type Checkpoint, type VectorChange } from "./store/records.js";
import type { ProjectionStore } from "./store/store.js";

export interface CatchUpOptions {
  readonly signal?: AbortSignal;
  /** Called after each written batch with the checkpoint it reached. */
  readonly onProgress?: (seq: number, events: number) => void;
  /** Stop after this sequence (tests inject crashes with it). */
  readonly until?: Seq;
}

export interface CatchUpResult {
  readonly commits: number;
  readonly events: number;
  readonly seq: number;
}

/** Most store operations staged before a batch is written (bounds memory during rebuilds). */
const MAX_STAGED_OPS = 50_000;

/**
 * Applies the log to the projection store. Each LevelDB batch holds whole
 * commits plus the checkpoint (sequence, chain hash, ts) of the last one, so a
 * crash anywhere leaves the store at a commit boundary and catching up again
 * resumes exactly there. The checkpoint also anchors the chain: the next commit
 * read must extend the hash the store recorded.
 */
export class ProjectionRunner {
  readonly store: ProjectionStore;
  readonly log: TenantLog;
  /** Called after each written batch with its vector changes (the in-memory HNSW indexes follow them). */
  onVectorChanges: ((changes: readonly VectorChange[], seq: number) => void) | null = null;
  #running: Promise<CatchUpResult> | null = null;

  /** Resolves once no catch-up is running (closing waits for it). */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running.catch(() => undefined);
  }

  constructor(store: ProjectionStore, log: TenantLog) {
    this.store = store;
    this.log = log;
  }

  /** Where the store stands in the log. */
  position(): ChainPosition {
    const cp = this.store.checkpoint;
    return cp === null ? GENESIS : { seq: cp.seq, hash: cp.hash, ts: cp.ts };
  }

  /** Applies every commit after the checkpoint. Concurrent calls share one run. */
  catchUp(options: CatchUpOptions = {}): Promise<CatchUpResult> {
    if (this.#running) return this.#running;
    const run = this.#catchUp(options).finally(() => {
      this.#running = null;
    });
    this.#running = run;
    return run;
  }

  async #catchUp(options: CatchUpOptions): Promise<CatchUpResult> {
    const after = this.position();
    let commits = 0;
    let events = 0;
    let batch = new StagedBatch(this.store);
    let last: VerifiedCommit | null = null;
    // One batch may be writing while the next is being applied (it reads through
    // the writing one); writes are issued strictly in order.
    let writing: Promise<void> | null = null;
    const settle = async () => {
      if (writing === null) return;
      const w = writing;
      writing = null;
      await w;
    };
    const flush = async () => {
      if (last === null) return;
      const cp: Checkpoint = { seq: last.seq, hash: last.hash, ts: last.ts };
      batch.put(this.store.meta, this.store.checkpointKey(), pack(cp));
      await settle();
      const b = batch;
      const eventsSoFar = events;
      writing = b.write().then(
        () => {
          if (b.schemasChanged) this.store.invalidateSchemas();
          this.store.setCheckpoint(cp);
          if (b.vectorChanges.length > 0) this.onVectorChanges?.(b.vectorChanges, cp.seq);
          options.onProgress?.(cp.seq, eventsSoFar);
        },
        (err: unknown) => {
          this.store.invalidateSchemas();
          throw err;
        },
      );
      batch = new StagedBatch(this.store, b);
      last = null;
    };
    try {
      for await (const verified of this.log.read((after.seq + 1) as Seq, { after, until: options.until, signal: options.signal })) {
        for (const c of verified) {
          const evs = this.log.events(c);
          // Schema changes scan the store: it must hold every earlier batch first.
          if (writing !== null && evs.some((e) => e.type.startsWith("schema."))) await settle();
          await applyEvents(batch, evs, { seq: c.seq, ts: c.ts });
          last = c;
          commits++;
          events += evs.length;
          if (batch.size >= MAX_STAGED_OPS) await flush();
        }
        await flush();
      }
      await flush();
      await settle();
    } catch (err) {
      await settle().catch(() => undefined);
      throw err;
    }
    return { commits, events, seq: this.position().seq };
  }
}
