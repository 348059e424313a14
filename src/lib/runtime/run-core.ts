/**
 * One run, inside its worker: instantiate the (already verified, memory-capped) module against the
 * WASI host, call its entry (`_start` for a command, `_initialize` for a reactor, as the signed
 * manifest says), and report how it ended. Synchronous from `_start` to the end: the
 * worker answers nothing else meanwhile, which is why the page's watchdog terminates it rather
 * than asking. DOM-free, so Node's worker_threads run exactly this code in the unit tests.
 */
import { createWasiHost, HostCallError, RunStop } from './wasi-host';
import type { RunEnd, StartMessage, WorkerMessage } from './protocol';

export type Post = (message: WorkerMessage, transfer?: Transferable[]) => void;

const PAGE = 65536;

/** Runs a compiled module (see prepare.ts / worker-main.ts for how it was checked and compiled). */
export function runModule(start: StartMessage, module: WebAssembly.Module, post: Post): RunEnd {
  const began = performance.now();
  const deadline = began + start.grant.limits.timeoutMs;
  const host = createWasiHost(start.grant, deadline, (stream, bytes) =>
    post({ type: 'output', stream, bytes }, [bytes.buffer as ArrayBuffer])
  );
  let instance: WebAssembly.Instance | null = null;
  const finish = (fields: Pick<RunEnd, 'status' | 'exitCode' | 'message'>): RunEnd => {
    host.flush();
    const memory = instance?.exports.memory;
    const peak = memory instanceof WebAssembly.Memory ? memory.buffer.byteLength : 0;
    let status = fields.status;
    // A run that ends badly with its memory at the cap ran out of memory: say so.
    const capBytes = start.grant.limits.memoryMiB * 1024 * 1024;
    if (
      (status === 'trapped' || (status === 'exited' && fields.exitCode !== 0)) &&
      peak >= capBytes
    ) {
      status = 'memory-cap';
    }
    return {
      ...fields,
      status,
      durationMs: performance.now() - began,
      peakMemoryBytes: peak,
      ...host.stats(),
      files: host.scratchFiles()
    };
  };

  try {
    if (!(module instanceof WebAssembly.Module)) {
      return finish({
        status: 'trapped',
        exitCode: null,
        message: 'No compiled module was given.'
      });
    }
    // The entry is the signed manifest's, checked before anything of the module runs (a start
    // section runs at instantiation): a command must export _start; a reactor never has its
    // _start called, even when it exports one.
    const reactor = start.grant.entry === 'reactor';
    const kinds = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
    const refuse = (message: string) => finish({ status: 'trapped', exitCode: null, message });
    if (!reactor && !kinds.has('_start'))
      return refuse(
        'The manifest says this module is a command, but it has no _start export: nothing was run.'
      );
    const entryName = reactor ? '_initialize' : '_start';
    if (kinds.has(entryName) && kinds.get(entryName) !== 'function')
      return refuse(`The module exports ${entryName}, but not as a function: nothing was run.`);
    instance = new WebAssembly.Instance(module, host.imports);
    if (!(instance.exports.memory instanceof WebAssembly.Memory)) {
      return finish({
        status: 'trapped',
        exitCode: null,
        message: 'The module exports no memory.'
      });
    }
    const code = reactor ? host.initialize(instance) : host.start(instance);
    return finish({ status: 'exited', exitCode: code >>> 0, message: null });
  } catch (error) {
    if (error instanceof RunStop)
      return finish({ status: error.reason, exitCode: null, message: error.message });
    if (error instanceof RangeError && /memory/i.test(error.message)) {
      return finish({ status: 'memory-cap', exitCode: null, message: describe(error) });
    }
    if (
      error instanceof WebAssembly.RuntimeError ||
      error instanceof WebAssembly.LinkError ||
      error instanceof WebAssembly.CompileError ||
      error instanceof RangeError || // stack overflow in V8
      error instanceof HostCallError
    ) {
      return finish({ status: 'trapped', exitCode: null, message: describe(error) });
    }
    return finish({ status: 'trapped', exitCode: null, message: `Host error: ${describe(error)}` });
  }
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2000);
    return String(error).slice(0, 2000);
  } catch {
    return 'an unprintable error';
  }
}

export { PAGE };
