import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VectorIndex, type ExactStats } from "../../projections/vectors/vector-index.js";

/**
 * Exact search through a filter block (int8 ranking, float32 rescoring of what
 * its bound cannot rule out) must give the answer of scoring every row in
 * float32, while rows change, go, come back and the id set changes.
 */
const N = 1100; // above the block threshold (1024 rows)
/** Ids past N: without a vector until an "embed" op; few, so ops meet the same ones. */
const EXTRA = 2;

type Op =
  | { kind: "update"; slot: number; seed: number }
  | { kind: "remove"; slot: number }
  | { kind: "member"; slot: number }
  | { kind: "embed"; slot: number }
  | { kind: "query"; seed: number; k: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("update" as const), slot: fc.nat(N - 1), seed: fc.integer() }),
  fc.record({ kind: fc.constant("remove" as const), slot: fc.nat(N - 1) }),
  fc.record({ kind: fc.constant("member" as const), slot: fc.nat(N + EXTRA - 1) }),
  fc.record({ kind: fc.constant("embed" as const), slot: fc.integer({ min: N, max: N + EXTRA - 1 }) }),
  // Some queries are the vector an "embed" gives: that row, if in the set, must come first.
  fc.record({ kind: fc.constant("query" as const), seed: fc.oneof(fc.integer(), fc.integer({ min: N, max: N + EXTRA - 1 }).map((s) => s * 31)), k: fc.integer({ min: 1, max: 40 }) }),
);

function vector(dim: number, seed: number, clusters: number): Float32Array {
  let h = seed | 0;
  const rnd = () => ((h = Math.imul(h ^ (h >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32;
  const c = Math.abs(seed) % clusters;
  // Few clusters with small noise: many near-equal scores at the k-th place; an occasional spike: a coarse int8 scale.
  return Float32Array.from({ length: dim }, (_, j) => Math.sin((c + 1) * (j + 1)) + (rnd() - 0.5) * 0.2 + (j === 0 && c === 0 ? 40 : 0));
}

describe("filter blocks", () => {
  it("give the float32 top k exactly, through updates, removals, re-adds, vectors arriving for members and membership changes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 48 }), fc.integer({ min: 1, max: 6 }), fc.array(opArb, { minLength: 1, maxLength: 25 }), (dim, clusters, ops) => {
        const index = new VectorIndex("s", "f", dim);
        const ids = Array.from({ length: N + EXTRA }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
        for (let i = 0; i < N; i++) index.upsert(ids[i]!, vector(dim, i * 7919, clusters), true);
        // Ids N.. start without a vector, half of them in the set: "embed" gives one without changing the set.
        const members = new Set([...ids.slice(0, N), ...ids.slice(N).filter((_, i) => i % 2 === 0)]);
        let version = 0;
        let kernelRuns = 0;
        for (const op of ops) {
          if (op.kind === "update") index.upsert(ids[op.slot]!, vector(dim, op.seed, clusters), true);
          else if (op.kind === "remove") index.remove(ids[op.slot]!);
          else if (op.kind === "embed") index.upsert(ids[op.slot]!, vector(dim, op.slot * 31, clusters), true);
          else if (op.kind === "member") {
            const id = ids[op.slot]!;
            if (members.has(id)) members.delete(id);
            else members.add(id);
            version++;
          } else {
            const q = vector(dim, op.seed, clusters);
            const stats: ExactStats = { kernel: false, rescored: 0 };
            const viaBlock = index.exact(q, members, op.k, { key: `members@${version}`, stats });
            const plain = index.exact(q, members, op.k);
            expect(viaBlock).toEqual(plain);
            if (stats.kernel) kernelRuns++;
            expect(stats.rescored).toBeLessThanOrEqual(members.size);
          }
        }
        if (ops.some((o) => o.kind === "query")) expect(kernelRuns).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it("rescore only a few rows of clustered data", () => {
    const dim = 64;
    const index = new VectorIndex("s", "f", dim);
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) {
      ids.push(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
      index.upsert(ids[i]!, vector(dim, i * 7919 + 1, 50), true);
    }
    const stats: ExactStats = { kernel: false, rescored: 0 };
    const hits = index.exact(vector(dim, 12345, 50), ids, 10, { key: "all", stats });
    expect(hits).toHaveLength(10);
    expect(stats.kernel).toBe(true);
    expect(stats.rescored).toBeLessThan(500); // the bound rules out 90% or more
    expect(index.blockStats().blocks).toBe(1);
  });
});
