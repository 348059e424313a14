/**
 * The page's check of a worker's `end` (src/lib/runtime/protocol.ts): a worker runs hostile code,
 * so what it reports is input. Well-formed but over the grant's caps (more scratch bytes or files
 * than allowed, more output than the cap) must not be kept; the host ends such a run as killed.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { startRun } from '../../src/lib/runtime/host';
import { MAX_SCRATCH_ENTRIES } from '../../src/lib/runtime/limits';
import {
  readEnd,
  readWorkerMessage,
  type RunEnd,
  type StartMessage
} from '../../src/lib/runtime/protocol';

const caps = { outputBytes: 1000, fsBytes: 4096 };

function end(patch: Partial<RunEnd> = {}): RunEnd {
  return {
    status: 'exited',
    exitCode: 0,
    message: null,
    durationMs: 3,
    peakMemoryBytes: 65536,
    stdoutBytes: 10,
    stderrBytes: 0,
    truncated: false,
    refusedCalls: {},
    fsCapHit: false,
    files: [{ path: 'out.bin', bytes: new Uint8Array(4096) }],
    ...patch
  };
}

describe('readEnd and readWorkerMessage: the end is checked against the grant', () => {
  it('an end within the caps is kept as sent', () => {
    expect(readEnd({ ...end() })).toEqual(end());
    expect(readWorkerMessage({ type: 'end', end: end() }, caps)).toEqual({
      type: 'end',
      end: end()
    });
  });

  it('scratch files over fsBytes (by one byte) are refused with the numbers', () => {
    const over = end({
      files: [
        { path: 'a', bytes: new Uint8Array(4000) },
        { path: 'b', bytes: new Uint8Array(97) }
      ]
    });
    // The shape is fine: only the grant makes it wrong.
    expect(readEnd({ ...over })).not.toBeNull();
    expect(readWorkerMessage({ type: 'end', end: over }, caps)).toEqual({
      type: 'end-over-cap',
      message:
        'The worker reported 4097 bytes of scratch files, over the fsBytes cap of 4096; the run was stopped and its files dropped.'
    });
  });

  it('more files than the scratch directory may hold are refused', () => {
    const many = Array.from({ length: MAX_SCRATCH_ENTRIES + 1 }, (_, i) => ({
      path: `f${i}`,
      bytes: new Uint8Array(0)
    }));
    const message = readWorkerMessage({ type: 'end', end: end({ files: many }) }, caps);
    expect(message).toMatchObject({
      type: 'end-over-cap',
      message: expect.stringContaining(`${MAX_SCRATCH_ENTRIES + 1} scratch files, over the limit`)
    });
    // Far past the limit the list is not even walked: not the protocol.
    const huge = new Array(MAX_SCRATCH_ENTRIES + 2).fill({ path: 'x', bytes: new Uint8Array(0) });
    expect(readWorkerMessage({ type: 'end', end: end({ files: huge }) }, caps)).toBeNull();
  });

  it('output counts over the cap are refused', () => {
    const message = readWorkerMessage(
      { type: 'end', end: end({ stdoutBytes: 600, stderrBytes: 401 }) },
      caps
    );
    expect(message).toMatchObject({
      type: 'end-over-cap',
      message: expect.stringContaining('1001 bytes of output, over the cap of 1000')
    });
  });
});

describe('the host ends a run whose worker reports files over the cap', () => {
  it('killed, with the reason, and nothing of the end kept', async () => {
    // A real thread playing a compromised worker: it answers `start` with an over-cap end.
    const liar = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', () => parentPort.postMessage({ type: 'end', end: ${JSON.stringify({
         ...end(),
         files: []
       }).replace(
         '"files":[]',
         '"files":[{ "path": "big.bin", "bytes": new Uint8Array(8192) }]'
       )} }));`,
      { eval: true }
    );
    const start: StartMessage = {
      type: 'start',
      runId: 'r',
      module: new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
      prepare: null,
      grant: {
        capabilities: ['fs-write'],
        limits: { timeoutMs: 30_000, memoryMiB: 16, ...caps },
        args: ['liar'],
        env: [],
        stdin: new Uint8Array(0),
        files: [],
        entry: 'command'
      }
    };
    const handle = startRun(
      {
        // The module cannot cross to an eval'd worker as-is; the liar ignores it anyway.
        post: () => liar.postMessage('start'),
        onMessage: (listener) => liar.on('message', listener),
        onError: (listener) => liar.on('error', (error) => listener(error.message)),
        terminate: () => void liar.terminate()
      },
      start,
      { onOutput: () => {} }
    );
    const result = await handle.done;
    expect(result).toMatchObject({
      status: 'killed',
      end: null,
      message:
        'The worker reported 8192 bytes of scratch files, over the fsBytes cap of 4096; the run was stopped and its files dropped.'
    });
  });
});
