/**
 * The limits every run is held to. Each one says its unit, its default (the policy's defaults,
 * core/policy/document.ts), what exceeding it does, and what it does not cover. The granted
 * values come from the approval (policy defaults, requested values clamped to the maximums, and
 * whatever the reviewer lowered them to).
 */
import type { PolicyLimits } from '$lib/core/policy/document';

export type RunLimits = PolicyLimits;

export interface LimitDoc {
  unit: string;
  default: number;
  exceeded: string;
  notCovered: string;
}

export const LIMIT_DOCS: Readonly<Record<keyof RunLimits, LimitDoc>> = {
  timeoutMs: {
    unit: 'milliseconds of wall-clock time from the start of the run',
    default: 5000,
    exceeded:
      'The watchdog in the page terminates the worker (outcome `timeout`); independently, every WASI call after the deadline stops the run from inside the worker.',
    notCovered:
      'CPU share: a run may use a whole core until its deadline. Time spent queued before the run starts does not count.'
  },
  memoryMiB: {
    unit: 'MiB of linear memory (the module memory maximum is rewritten to this before compiling)',
    default: 64,
    exceeded:
      '`memory.grow` fails (returns -1) at the cap; a run that then traps or exits non-zero with its memory at the cap ends as `memory-cap`.',
    notCovered:
      'Memory the engine uses for compiled code, tables and the stack, and the worker itself (a few MiB).'
  },
  outputBytes: {
    unit: 'bytes written to stdout and stderr together',
    default: 1024 * 1024,
    exceeded:
      'Output is cut at exactly the cap, marked as truncated, and the run is stopped (outcome `output-cap`).',
    notCovered: 'Files written to the scratch directory (see fsBytes).'
  },
  fsBytes: {
    unit: 'bytes of file contents in the scratch directory (fs-write)',
    default: 16 * 1024 * 1024,
    exceeded:
      'The write, resize or allocation that would pass the cap fails with ENOSPC and changes nothing; the module decides what to do (most exit non-zero).',
    notCovered:
      'Directory entries themselves (at most 10,000 files and directories, then ENOSPC); input files mounted read-only.'
  }
};

/** Files and directories the scratch directory may hold, whatever their size. */
export const MAX_SCRATCH_ENTRIES = 10_000;
/**
 * Output is sent to the page in batches of at most this many bytes, or every OUTPUT_FLUSH_MS.
 * Batches start at OUTPUT_FIRST_BATCH_BYTES and double while output keeps filling them: small
 * output stays cheap, and a flood needs few buffers (allocating one costs about as much per
 * buffer whatever its size in a Chromium worker: 64 KiB batches held a flood to ~80 MiB/s).
 */
export const OUTPUT_BATCH_BYTES = 1024 * 1024;
export const OUTPUT_FIRST_BATCH_BYTES = 64 * 1024;
export const OUTPUT_FLUSH_MS = 25;
