import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/lib/core/coalesce';

/** Lets every pending promise callback run (a macrotask comes after all microtasks). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A task whose runs finish only when the test says so, counting how many started. */
function gatedTask() {
  const gates: (() => void)[] = [];
  const task = () => new Promise<void>((resolve) => gates.push(resolve));
  return {
    task,
    get started() {
      return gates.length;
    },
    finish: async (index: number) => {
      const gate = gates[index];
      if (!gate) throw new Error(`run ${index} never started (${gates.length} did)`);
      gate();
      await tick(); // the finished run's promise chain, and the queued run's start
    }
  };
}

describe('coalesce', () => {
  it('runs once for one call', async () => {
    const g = gatedTask();
    const refresh = coalesce(g.task);
    const done = refresh();
    await tick();
    expect(g.started).toBe(1);
    await g.finish(0);
    await expect(done).resolves.toBeUndefined();
    expect(g.started).toBe(1);
  });

  it('folds a burst of 60 calls during a run into exactly one more run', async () => {
    const g = gatedTask();
    const refresh = coalesce(g.task);
    const first = refresh();
    await tick();
    const burst = Array.from({ length: 60 }, () => refresh());
    await tick();
    expect(g.started).toBe(1); // nothing new starts while one is in flight
    expect(new Set(burst).size).toBe(1); // every call shares the one queued run
    await g.finish(0);
    await first;
    expect(g.started).toBe(2);
    await g.finish(1);
    await Promise.all(burst);
    await tick();
    expect(g.started).toBe(2);
  });

  it('a call during the queued run queues one more (it must see what the call was told)', async () => {
    const g = gatedTask();
    const refresh = coalesce(g.task);
    void refresh();
    await tick();
    void refresh();
    await g.finish(0); // the queued run is now in flight
    expect(g.started).toBe(2);
    const third = refresh();
    await g.finish(1);
    expect(g.started).toBe(3);
    await g.finish(2);
    await third;
  });

  it('a run that rejects does not block the next', async () => {
    let calls = 0;
    const refresh = coalesce(async () => {
      calls += 1;
      if (calls === 1) throw new Error('storage gone');
    });
    const first = refresh();
    const second = refresh();
    await expect(first).rejects.toThrow('storage gone');
    await expect(second).resolves.toBeUndefined();
    expect(calls).toBe(2);
    await refresh();
    expect(calls).toBe(3);
  });

  it('waits for the pause before a queued run, never before a first one', async () => {
    const g = gatedTask();
    let release = () => {};
    let pauses = 0;
    const refresh = coalesce(g.task, {
      pause: () => new Promise<void>((resolve) => ((release = resolve), (pauses += 1)))
    });
    void refresh();
    await tick();
    expect([g.started, pauses]).toEqual([1, 0]);
    const queued = refresh();
    await g.finish(0);
    expect([g.started, pauses]).toEqual([1, 1]); // the queued run waits out the pause
    expect(refresh()).toBe(queued); // calls during the pause still share it
    release();
    await tick();
    expect(g.started).toBe(2);
    await g.finish(1);
    await queued;
  });

  it('refuses a task or a pause that is not a function', () => {
    expect(() => coalesce(undefined as unknown as () => Promise<void>)).toThrow(TypeError);
    expect(() => coalesce(async () => {}, { pause: 5 as unknown as () => Promise<void> })).toThrow(
      TypeError
    );
  });
});
