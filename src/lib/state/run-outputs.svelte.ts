/**
 * The output of history runs, read only for the cards the Runs page shows. Run rows are listed
 * without output (schema v3, storage/runs-store.ts): 1,500 runs of 128 KiB are 188 MiB that a
 * page of 50 cards never needs.
 */
import { stripAnsi } from '$lib/core/ansi';
import { getRunOutputs } from '$lib/storage/runs-store';
import type { RunFile } from '$lib/storage/records';
import { database } from './database';

export type { RunFile };

/** History cards shown at first, and added by each "Show more". */
export const HISTORY_PAGE = 50;

/** A finished run's output as its card shows it: decoded once, when its card is first shown. */
export interface ShownOutput {
  stdout: string;
  stderr: string;
  files: RunFile[];
}

export class RunOutputs {
  /** By run id; null when none was kept (the run's message says why). */
  shown = $state.raw<ReadonlyMap<string, ShownOutput | null>>(new Map());
  error = $state<string | null>(null);
  /** Runs whose output could not be read: their cards say so, and retry() asks again. */
  failed = $state.raw<ReadonlySet<string>>(new Set());
  #reading = new Set<string>();
  /** Bumped by clear(): a read that was in flight then is dropped, not kept. */
  #generation = 0;
  #decoder = new TextDecoder();

  /**
   * Reads the outputs of `ids` not read yet, in one transaction (a page of cards). Only ended
   * runs are asked for: a finished run's output never changes, so what was read stays.
   */
  async load(ids: readonly string[]): Promise<void> {
    const wanted = ids.filter((id) => !this.shown.has(id) && !this.#reading.has(id));
    if (wanted.length === 0) return;
    for (const id of wanted) this.#reading.add(id);
    const generation = this.#generation;
    try {
      const found = await getRunOutputs(await database(), wanted);
      if (generation !== this.#generation) return;
      const next = new Map(this.shown);
      for (const id of wanted) {
        const output = found.get(id);
        // Stored output is the module's raw bytes: escapes are stripped, as the live view does.
        next.set(
          id,
          output
            ? {
                stdout: stripAnsi(this.#decoder.decode(output.stdout)),
                stderr: stripAnsi(this.#decoder.decode(output.stderr)),
                files: output.files
              }
            : null
        );
      }
      this.shown = next;
      this.error = null;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.failed = new Set([...this.failed, ...wanted]);
      this.error = `The output of ${wanted.length} runs could not be read: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      for (const id of wanted) this.#reading.delete(id);
    }
  }

  /** Reads again the outputs that could not be read. */
  retry(): void {
    const ids = [...this.failed];
    this.failed = new Set();
    this.error = null;
    void this.load(ids);
  }

  /** Lets go of what was read (the Runs page unmounting): up to a page of 50 x the output cap each. */
  clear(): void {
    this.#generation += 1;
    this.shown = new Map();
    this.failed = new Set();
    this.error = null;
  }
}

export const runOutputs = new RunOutputs();
