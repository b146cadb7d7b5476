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

export interface AppliedBatch {
  /** The checkpoint the batch reached. */
  readonly seq: number;
  /** Its last commit's timestamp (the writer's clock, ms). */
  readonly ts: number;
  readonly commits: number;
}

export interface FollowRunOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (seq: number, events: number) => void;
  /** Called after each batch is written (the replica's lag and status come from here). */
  readonly onBatch?: (batch: AppliedBatch) => void;
}

/**
 * While a runner follows, catch-up requests wait for the follower: each waits
 * until the checkpoint reaches the head as it was when the request came.
 */
interface Waiter {
  readonly seq: number;
  resolve(r: CatchUpResult): void;
  reject(e: unknown): void;
}

class FollowState {
  readonly #runner: ProjectionRunner;
  #waiters: Waiter[] = [];

  constructor(runner: ProjectionRunner) {
    this.#runner = runner;
  }

  async waitForHead(): Promise<CatchUpResult> {
    return this.waitFor((await this.#runner.log.head()).seq);
  }

  /** Resolves once the follower has applied `seq` (no log round trip: the caller knows it exists). */
  waitFor(seq: number): Promise<CatchUpResult> {
    const at = this.#runner.position().seq;
    if (at >= seq) return Promise.resolve({ commits: 0, events: 0, seq: at });
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
  }

  applied(): void {
    const at = this.#runner.position().seq;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (at >= w.seq) w.resolve({ commits: 0, events: 0, seq: at });
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** The follower stopped: waiters fall back to a catch-up of their own. */
  stop(): void {
    for (const w of this.#waiters.splice(0)) this.#runner.catchUp().then(w.resolve, w.reject);
  }
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
  #following: FollowState | null = null;

  /** Whether a `follow()` is running. */
  get following(): boolean {
    return this.#following !== null;
  }

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

  /**
   * Resolves once the store reflects `seq`: while a follower runs, by waiting
   * for it; otherwise by catching up with the head (at least once: a catch-up
   * already running may have started before `seq` landed).
   */
  async reach(seq: number): Promise<CatchUpResult> {
    if (this.#following !== null) return this.#following.waitFor(seq);
    let r = await this.catchUp();
    while (this.position().seq < seq) r = await this.catchUp();
    return r;
  }

  /** Applies every commit after the checkpoint. Concurrent calls share one run. */
  catchUp(options: CatchUpOptions = {}): Promise<CatchUpResult> {
    if (this.#following !== null) return this.#following.waitForHead();
    if (this.#running) return this.#running;
    const run = this.#applyFrom((after) => this.log.read((after.seq + 1) as Seq, { after, until: options.until, signal: options.signal }), options, false).finally(() => {
      this.#running = null;
    });
    this.#running = run;
    return run;
  }

  /**
   * Follows the log: applies commits as they are appended, each delivered batch
   * written (with its checkpoint) before the next is read, until `signal`
   * aborts — then it resolves quietly. A replica runs this. While it runs,
   * `catchUp()` waits for the follower to reach the head instead of reading
   * the log a second time. Chain, signature and decode errors reject: a
   * follower never skips a commit.
   */
  async follow(options: FollowRunOptions): Promise<CatchUpResult> {
    await this.idle();
    if (this.#following !== null) throw new Error("this runner is already following");
    const follower = new FollowState(this);
    this.#following = follower;
    try {
      const r = await this.#applyFrom((after) => this.log.follow((after.seq + 1) as Seq, { after, signal: options.signal }), { onProgress: options.onProgress, onBatch: (b) => {
        follower.applied();
        options.onBatch?.(b);
      } }, true);
      return r;
    } finally {
      this.#following = null;
      follower.stop();
    }
  }

  async #applyFrom(
    source: (after: ChainPosition) => AsyncIterable<VerifiedCommit[]>,
    options: CatchUpOptions & { readonly onBatch?: (b: AppliedBatch) => void },
    settleEachBatch: boolean,
  ): Promise<CatchUpResult> {
    const after = this.position();
    let commits = 0;
    let events = 0;
    let batch = new StagedBatch(this.store);
    let last: VerifiedCommit | null = null;
    let batchCommits = 0;
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
      const commitsInBatch = batchCommits;
      batchCommits = 0;
      writing = b.write().then(
        () => {
          if (b.schemasChanged) this.store.invalidateSchemas();
          this.store.setCheckpoint(cp);
          if (b.vectorChanges.length > 0) this.onVectorChanges?.(b.vectorChanges, cp.seq);
          options.onProgress?.(cp.seq, eventsSoFar);
          options.onBatch?.({ seq: cp.seq, ts: cp.ts, commits: commitsInBatch });
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
      for await (const verified of source(after)) {
        for (const c of verified) {
          const { events: evs, data } = this.log.eventsWithData(c);
          // Schema changes scan the store: it must hold every earlier batch first.
          if (writing !== null && evs.some((e) => e.type.startsWith("schema."))) await settle();
          await applyEvents(batch, evs, { seq: c.seq, ts: c.ts }, data);
          batchCommits++;
          last = c;
          commits++;
          events += evs.length;
          if (batch.size >= MAX_STAGED_OPS) await flush();
        }
        await flush();
        // A follower has no next batch in sight: make this one visible now.
        if (settleEachBatch) await settle();
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
