/**
 * Checks the body of an OpenAI-compatible `POST /embeddings` answer and turns
 * it into vectors in input order. Servers differ (vLLM, Ollama, TEI…) and a
 * wrong vector stored silently is worse than a failed call, so anything but
 * exactly one finite numeric embedding per input, each index once, all of one
 * length, is refused with a message saying what was wrong (returned, not thrown:
 * the caller wraps it with its context).
 *
 * `expectedDim`, when given, is the length every vector must have (the
 * requested `dimensions`, or what the provider returned before).
 */
export function parseEmbeddingResponse(
  body: unknown,
  inputs: number,
  expectedDim: number | null,
): { ok: true; vectors: Float32Array[] } | { ok: false; problem: string } {
  const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });
  if (typeof body !== "object" || body === null) return fail(`the response is not a JSON object (got ${describe(body)})`);
  const data: unknown = (body as { data?: unknown }).data;
  if (!Array.isArray(data)) return fail(`the response has no "data" array (got ${describe(data)})`);
  if (data.length !== inputs) return fail(`${data.length} embeddings came back for ${inputs} inputs`);
  const vectors = new Array<Float32Array | undefined>(inputs);
  let dim = expectedDim;
  for (let k = 0; k < data.length; k++) {
    const item: unknown = data[k];
    if (typeof item !== "object" || item === null) return fail(`data[${k}] is not an object (got ${describe(item)})`);
    const { index, embedding } = item as { index?: unknown; embedding?: unknown };
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= inputs) {
      return fail(`data[${k}].index is ${describe(index)}, not an integer in [0, ${inputs})`);
    }
    if (vectors[index] !== undefined) return fail(`index ${index} appears more than once`);
    if (typeof embedding === "string") {
      return fail(`data[${k}].embedding is a string: the server ignored encoding_format "float"`);
    }
    if (!Array.isArray(embedding)) return fail(`data[${k}].embedding is not an array (got ${describe(embedding)})`);
    if (embedding.length === 0) return fail(`data[${k}].embedding is empty`);
    if (dim !== null && embedding.length !== dim) {
      return fail(`data[${k}].embedding has ${embedding.length} dimensions, expected ${dim}`);
    }
    dim = embedding.length;
    const vector = new Float32Array(embedding.length);
    for (let j = 0; j < embedding.length; j++) {
      const v: unknown = embedding[j];
      if (typeof v !== "number" || !Number.isFinite(v)) return fail(`data[${k}].embedding[${j}] is ${describe(v)}, not a finite number`);
      vector[j] = v;
      // A finite double beyond float32 range would become Infinity.
      if (!Number.isFinite(vector[j]!)) return fail(`data[${k}].embedding[${j}] = ${v} overflows float32`);
    }
    vectors[index] = vector;
  }
  // data.length === inputs and no index repeats, so every slot is filled.
  return { ok: true, vectors: vectors as Float32Array[] };
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  return String(value);
}
