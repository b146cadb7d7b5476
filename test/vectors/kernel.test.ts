import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileKernel, kernelModuleText } from "../../projections/vectors/kernel/compile.js";
import { int8Kernel } from "../../projections/vectors/kernel/int8-dot.js";
import { errorBound, quantizeQuery, quantizeRow, strideOf } from "../../projections/vectors/quantize.js";

const dir = new URL("../../projections/vectors/kernel/", import.meta.url);

describe("int8 kernel", () => {
  it("the checked-in module is int8-dot.wat assembled (run `npm run build:kernel` after editing it)", async () => {
    const bytes = await compileKernel(`${dir.pathname}`);
    expect(await readFile(new URL("int8-dot-wasm.ts", dir), "utf8")).toBe(kernelModuleText(bytes));
  });

  it("dots equal integer dot products, at any row count and the largest codes the query bound allows", () => {
    const shape = fc.record({ n: fc.integer({ min: 0, max: 23 }), stride: fc.integer({ min: 1, max: 12 }).map((c) => c * 16) });
    fc.assert(
      fc.property(shape, fc.boolean(), fc.integer(), ({ n, stride }, extreme, seed) => {
        const qmax = Math.min(32767, Math.floor((2 ** 31 - 1) / (128 * stride)));
        let h = seed | 0;
        const rnd = () => ((h = Math.imul(h ^ (h >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32;
        const rows = Int8Array.from({ length: n * stride }, () => (extreme ? (rnd() < 0.5 ? -127 : 127) : Math.round(rnd() * 254 - 127)));
        const q = Int16Array.from({ length: stride }, () => (extreme ? (rnd() < 0.5 ? -qmax : qmax) : Math.round((rnd() * 2 - 1) * qmax)));
        const out = int8Kernel().dots(rows, n, stride, q);
        expect(out).toHaveLength(n);
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let j = 0; j < stride; j++) s += rows[i * stride + j]! * q[j]!;
          expect(out[i], `row ${i}`).toBe(s);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("refuses a stride that is not a multiple of 16 or a query of another length", () => {
    expect(() => int8Kernel().dots(new Int8Array(24), 1, 24, new Int16Array(24))).toThrow(RangeError);
    expect(() => int8Kernel().dots(new Int8Array(32), 1, 32, new Int16Array(16))).toThrow(RangeError);
  });
});

describe("quantization", () => {
  const unit = (v: number[]): Float32Array => {
    const n = Math.hypot(...v);
    return Float32Array.from(v, (x) => (n === 0 ? 0 : x / n));
  };
  const vec = (dim: number) => fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: dim, maxLength: dim });

  it("the int8 score of a row is within its error bound of the float64 dot product", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }).chain((dim) => fc.tuple(fc.constant(dim), vec(dim), vec(dim), fc.double({ min: 1, max: 1e4, noNaN: true }))),
        ([dim, xs, ys, spike]) => {
          xs[0] = xs[0]! * spike; // one large component: a coarse scale, a large error
          const x = unit(xs);
          const y = unit(ys);
          const stride = strideOf(dim);
          const codes = new Int8Array(stride);
          const scales = new Float32Array(1);
          const errors = new Float32Array(1);
          quantizeRow(x, 0, dim, codes, 0, scales, errors, 0);
          const q = quantizeQuery(y, dim);
          const approx = int8Kernel().dots(codes, 1, stride, q.codes)[0]! * scales[0]! * q.scale;
          let exact = 0;
          for (let j = 0; j < dim; j++) exact += x[j]! * y[j]!;
          expect(Math.abs(approx - exact)).toBeLessThanOrEqual(errorBound(errors[0]!, q));
          expect(codes.subarray(dim).every((c) => c === 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
