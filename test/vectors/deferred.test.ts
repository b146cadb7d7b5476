import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VectorIndex } from "../../projections/vectors/vector-index.js";

const DIM = 16;

function vec(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  let h = (seed + 1) * 2654435761;
  for (let i = 0; i < DIM; i++) {
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    v[i] = ((h >>> 0) % 2000) / 1000 - 1;
  }
  return v;
}

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / Math.sqrt(na * nb);
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("deferred graph inserts", () => {
  it("a deferred vector is found at once, an updated one only at its new place, a deleted one never", () => {
    const ix = new VectorIndex("s", "f", DIM);
    for (let i = 0; i < 200; i++) ix.upsert(id(i), vec(i));
    ix.upsert(id(500), vec(500), true);
    expect(ix.pendingCount).toBe(1);
    expect(ix.search(vec(500), 1)[0]!.id).toBe(id(500));
    // Update a graph point, deferred: its old position must not answer for it.
    ix.upsert(id(3), vec(900), true);
    const old = ix.search(vec(3), 5);
    expect(old[0]!.score).toBeLessThan(0.999); // the old vector (an exact match) is gone
    const moved = old.find((h) => h.id === id(3));
    if (moved !== undefined) expect(moved.score).toBeCloseTo(cos(vec(900), vec(3)), 4);
    expect(ix.search(vec(900), 1)[0]!.id).toBe(id(3));
    // Delete a pending one.
    ix.remove(id(500));
    expect(ix.search(vec(500), 10).map((h) => h.id)).not.toContain(id(500));
    expect(ix.size).toBe(200);
    expect(ix.drain()).toBe(0);
    expect(ix.pendingCount).toBe(0);
    expect(ix.search(vec(900), 1)[0]!.id).toBe(id(3));
    expect(ix.search(vec(500), 10).map((h) => h.id)).not.toContain(id(500));
    // Re-insert after delete, deferred, then drained.
    ix.upsert(id(500), vec(500), true);
    expect(ix.search(vec(500), 1)[0]!.id).toBe(id(500));
    ix.drain();
    expect(ix.search(vec(500), 1)[0]!.id).toBe(id(500));
  });

  it("property: whatever mix of deferred and direct upserts, deletes and drains, search returns live ids with their current scores, and every exact best match", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("upsert" as const), n: fc.integer({ min: 0, max: 59 }), seed: fc.integer({ min: 0, max: 10_000 }), defer: fc.boolean() }),
      fc.record({ kind: fc.constant("remove" as const), n: fc.integer({ min: 0, max: 59 }) }),
      fc.record({ kind: fc.constant("drain" as const), max: fc.integer({ min: 0, max: 10 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 10_000 }), (ops, qseed) => {
        const ix = new VectorIndex("s", "f", DIM, { m: 16, efConstruction: 200, efSearch: 200 });
        const model = new Map<string, Float32Array>();
        for (const o of ops) {
          if (o.kind === "upsert") {
            ix.upsert(id(o.n), vec(o.seed), o.defer);
            model.set(id(o.n), vec(o.seed));
          } else if (o.kind === "remove") {
            ix.remove(id(o.n));
            model.delete(id(o.n));
          } else ix.drain(o.max);
        }
        expect(ix.size).toBe(model.size);
        const q = vec(qseed);
        const hits = ix.search(q, 5);
        expect(hits.length).toBe(Math.min(5, model.size));
        for (const h of hits) {
          expect(model.has(h.id)).toBe(true);
          expect(h.score).toBeCloseTo(cos(model.get(h.id)!, q), 4);
        }
        // With ef 200 over ≤ 60 points the walk is exhaustive: the exact best is always there.
        const best = [...model.entries()].sort((a, b) => cos(b[1], q) - cos(a[1], q))[0];
        if (best !== undefined) expect(hits[0]!.score).toBeCloseTo(cos(best[1], q), 4);
        const exact = ix.exactAll(q, 5);
        for (const h of exact) expect(model.has(h.id)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("property: a backlog large enough for the int8 kernel is searched exactly, through re-queued, removed and drained vectors, with a filter", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("upsert" as const), n: fc.integer({ min: 0, max: 399 }), seed: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ kind: fc.constant("remove" as const), n: fc.integer({ min: 0, max: 399 }) }),
      fc.record({ kind: fc.constant("drain" as const), max: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 20 }), fc.boolean(), (ops, qseed, k, filtered) => {
        const ix = new VectorIndex("s", "f", DIM);
        for (let n = 0; n < 400; n++) ix.upsert(id(n), vec(n), true); // 400 waiting: the kernel ranks them
        let drained = false;
        for (const o of ops) {
          if (o.kind === "upsert") ix.upsert(id(o.n), vec(o.seed), true);
          else if (o.kind === "remove") ix.remove(id(o.n));
          else {
            ix.drain(o.max);
            drained ||= o.max > 0;
          }
        }
        const q = vec(qseed);
        const allow = filtered ? (x: string) => x.endsWith("1") || x.endsWith("4") : undefined;
        const hits = ix.search(q, k, { allow, ef: 500 });
        const live = ix.ids().filter((x) => allow === undefined || allow(x));
        const truth = ix.exact(q, live, k);
        if (!drained) expect(hits).toEqual(truth); // all of it in the queue: the answer is exact, ties by id
        else {
          // Some in the graph too (searched with ef 500 over ≤ 400 points: exhaustively): the same scores,
          // up to hnswlib's float32 distances.
          expect(hits).toHaveLength(truth.length);
          hits.forEach((h, i) => expect(h.score).toBeCloseTo(truth[i]!.score, 5));
        }
      }),
      { numRuns: 120 },
    );
  });
});
