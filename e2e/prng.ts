/**
 * mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). Good enough for
 * choosing fixture shapes and test operations; not for anything secret. Shared
 * by the benchmark corpus and the soak test, so a seed means the same in both.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
