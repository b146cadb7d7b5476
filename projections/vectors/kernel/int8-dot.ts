import { INT8_DOT_WASM } from "./int8-dot-wasm.js";

type DotsFn = (rows: number, n: number, stride: number, q: number, out: number) => void;

// The WebAssembly types live in TypeScript's DOM library, which this project does not load: the little used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE = 65536;

/**
 * The int8 × int16 dot-product kernel (int8-dot.wat, WebAssembly SIMD), one
 * instance per process: JavaScript is single-threaded and each call copies its
 * inputs in, so callers never share state through it. Its memory grows to the
 * largest call made and stays there.
 */
class Int8Kernel {
  readonly #memory: WasmMemory;
  readonly #dots: DotsFn;

  constructor() {
    const instance = new wasm.Instance(new wasm.Module(Buffer.from(INT8_DOT_WASM, "base64")), {});
    this.#memory = instance.exports.memory as WasmMemory;
    this.#dots = instance.exports.dots as DotsFn;
  }

  /**
   * out[i] = Σ_j rows[i·stride + j] · query[j], i < n: `rows` holds n int8 rows
   * of `stride` columns (a multiple of 16), `query` stride int16 values bounded
   * as quantizeQuery bounds them (no int32 overflow). The result is a view of
   * the kernel's memory, valid until the next call.
   */
  dots(rows: Int8Array, n: number, stride: number, query: Int16Array): Int32Array {
    if (stride % 16 !== 0 || query.length !== stride || rows.length < n * stride) throw new RangeError(`int8 kernel: bad shape (n ${n}, stride ${stride})`);
    const qAt = 0;
    const outAt = align(stride * 2);
    const rowsAt = align(outAt + n * 4);
    const need = rowsAt + n * stride;
    const have = this.#memory.buffer.byteLength;
    if (need > have) this.#memory.grow(Math.ceil((need - have) / PAGE)); // RangeError past the 4 GiB of wasm32
    const buf = this.#memory.buffer;
    new Int16Array(buf, qAt, stride).set(query);
    new Int8Array(buf, rowsAt, n * stride).set(rows.subarray(0, n * stride));
    this.#dots(rowsAt, n, stride, qAt, outAt);
    return new Int32Array(buf, outAt, n);
  }
}

const align = (at: number): number => Math.ceil(at / 16) * 16;

let kernel: Int8Kernel | null = null;

/** The process's kernel, instantiated on first use (~1 ms). */
export function int8Kernel(): Int8Kernel {
  return (kernel ??= new Int8Kernel());
}
