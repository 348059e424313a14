/** What a page-side benchmark returns: its samples and, for ratio targets, its baseline's. */
export interface PageResult {
  /** Milliseconds (or the unit named) per repetition of the thing measured. */
  samples: number[];
  /** The same for the baseline, measured in the same page and run, interleaved with samples. */
  baselineSamples?: number[];
  unit: 'ms' | 'MiB' | 'KiB';
  /** Extra absolute figures worth printing (MB/s, sizes, counts). */
  extra?: Record<string, number | string>;
}

export type BenchCase = () => Promise<PageResult>;

/** Lets the page settle (GC, compositor) between repetitions. */
export const pause = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/** Times one async call in ms. */
export async function time(work: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/**
 * Runs `subject` and `baseline` alternately `reps` times after `warmup` untimed rounds of each,
 * so drift in machine speed hits both alike.
 */
export async function paired(
  subject: () => Promise<unknown> | unknown,
  baseline: () => Promise<unknown> | unknown,
  reps: number,
  warmup = 2
): Promise<{ samples: number[]; baselineSamples: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await subject();
    await baseline();
  }
  const samples: number[] = [];
  const baselineSamples: number[] = [];
  for (let i = 0; i < reps; i++) {
    await pause();
    baselineSamples.push(await time(baseline));
    await pause();
    samples.push(await time(subject));
  }
  return { samples, baselineSamples };
}
