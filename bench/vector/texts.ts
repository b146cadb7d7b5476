import { prng } from "./dataset.js";

const WORDS = (
  "memory agent event log tenant projection vector index search query entity schema field embedding model " +
  "replay snapshot commit append durable signature hash stream consumer cluster graph edge node traversal " +
  "the a of to and in is for on with as by at from that this it be are was were has have had not but or " +
  "document note meeting project customer order invoice ticket issue release deploy server client request " +
  "response latency throughput recall precision batch insert update delete filter bucket score result page " +
  "cache disk network thread worker process timer error retry backoff config option value key name type " +
  "Monday Tuesday January report summary decision action owner deadline review budget plan risk status " +
  "café naïve Zürich São Paulo Kraków München Ελλάδα Москва 東京 données größe"
).split(" ");

/**
 * Deterministic prose-like texts of about `chars` characters (words from a
 * mixed vocabulary, some non-ASCII, sentence punctuation), text i always the same.
 */
export function makeTexts(count: number, chars: number, seed: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = `Note ${seed}-${i}.`;
    let sentence = 0;
    while (s.length < chars) {
      s += ` ${WORDS[Math.floor(rnd() * WORDS.length)]!}`;
      if (++sentence > 6 + Math.floor(rnd() * 8)) {
        s += ".";
        sentence = 0;
      }
    }
    out.push(s);
  }
  return out;
}
