/**
 * Which WASI preview1 imports need which capability group (DESIGN.md: a manifest requests groups,
 * policy allows them, and an import whose group is not granted is refused at review time).
 *
 * Every function of wasi_snapshot_preview1 falls in exactly one class:
 * - a capability group (`args`, `env`, `clock`, `random`, `stdin`, `fs-read`, `fs-write`);
 * - `baseline`: always allowed. These are what every wasi-libc command links (stdio writes,
 *   closing, seeking and querying descriptors, listing preopens, exiting, yielding), plus calls that
 *   only query a descriptor or narrow its rights. They reach nothing outside the sandbox;
 * - `refused`: never provided, whatever the manifest asks (`sock_*`: the browser sandbox has no
 *   sockets to hand over; `proc_raise`: signals are not part of the run model and were removed
 *   from later WASI versions). A module importing one is refused at review time.
 * Any other import (another module, or a name preview1 does not define) is `foreign`.
 *
 * What a static import cannot tell, and the runtime therefore enforces per call:
 * - `fd_read` is mapped to `stdin`, although it also reads opened files: which descriptor is read
 *   is only known at run time. Reading a file first needs `path_open` (fs-read), so a module
 *   with `fd_read` but no fs-read can only ever read stdin.
 * - `fd_write` is baseline (stdout/stderr); writing to a file needs a descriptor opened by
 *   `path_open` with write rights, which the runtime grants only with fs-write.
 * - `path_open` is fs-read; opening with O_CREAT, O_TRUNC or write rights needs fs-write at run time.
 */
import type { WasmInspection } from './inspect';

/** The WASI capability groups a manifest may request (DESIGN.md, in display order). */
export const CAPABILITY_GROUPS = [
  'args',
  'env',
  'clock',
  'random',
  'stdin',
  'fs-read',
  'fs-write'
] as const;

export type CapabilityGroup = (typeof CAPABILITY_GROUPS)[number];

/** How the host treats one import. */
export type ImportClass = CapabilityGroup | 'baseline' | 'refused' | 'foreign';

/** The only WASI module Night Core provides. */
export const WASI_MODULE = 'wasi_snapshot_preview1';

/** preview1 functions that are always allowed (no capability needed). */
export const BASELINE = [
  'fd_write',
  'fd_close',
  'fd_seek',
  'fd_tell',
  'fd_fdstat_get',
  'fd_fdstat_set_rights',
  'fd_prestat_get',
  'fd_prestat_dir_name',
  'proc_exit',
  'sched_yield'
] as const;

/** preview1 functions that are never provided. */
export const REFUSED = [
  'sock_accept',
  'sock_recv',
  'sock_send',
  'sock_shutdown',
  'proc_raise'
] as const;

/** Every preview1 function that needs a capability group, by group. */
export const GROUP_FUNCTIONS: Readonly<Record<CapabilityGroup, readonly string[]>> = {
  args: ['args_get', 'args_sizes_get'],
  env: ['environ_get', 'environ_sizes_get'],
  clock: ['clock_time_get', 'clock_res_get', 'poll_oneoff'],
  random: ['random_get'],
  stdin: ['fd_read'],
  'fs-read': [
    'path_open',
    'path_filestat_get',
    'path_readlink',
    'fd_readdir',
    'fd_filestat_get',
    'fd_pread',
    'fd_advise',
    'fd_renumber'
  ],
  'fs-write': [
    'path_create_directory',
    'path_unlink_file',
    'path_remove_directory',
    'path_rename',
    'path_link',
    'path_symlink',
    'path_filestat_set_times',
    'fd_pwrite',
    'fd_allocate',
    'fd_filestat_set_size',
    'fd_filestat_set_times',
    'fd_fdstat_set_flags',
    'fd_sync',
    'fd_datasync'
  ]
};

const PREVIEW1 = new Map<string, Exclude<ImportClass, 'foreign'>>();
for (const name of BASELINE) PREVIEW1.set(name, 'baseline');
for (const name of REFUSED) PREVIEW1.set(name, 'refused');
for (const group of CAPABILITY_GROUPS) {
  for (const name of GROUP_FUNCTIONS[group]) PREVIEW1.set(name, group);
}

/** All 46 function names of wasi_snapshot_preview1, sorted. */
export const WASI_PREVIEW1_FUNCTIONS: readonly string[] = [...PREVIEW1.keys()].sort();

export function isCapabilityGroup(value: unknown): value is CapabilityGroup {
  return typeof value === 'string' && (CAPABILITY_GROUPS as readonly string[]).includes(value);
}

/**
 * Classifies an import by module and name. Only functions are ever provided by WASI, so pass the
 * import's kind: a table, memory, global or tag under the WASI module name is `foreign`.
 */
export function classifyImport(module: string, name: string, kind = 'func'): ImportClass {
  if (module !== WASI_MODULE || kind !== 'func') return 'foreign';
  return PREVIEW1.get(name) ?? 'foreign';
}

/** The capability group a WASI function needs, or null (baseline, refused or not WASI). */
export function capabilityOf(module: string, name: string): CapabilityGroup | null {
  const cls = classifyImport(module, name);
  return isCapabilityGroup(cls) ? cls : null;
}

/** The groups an inspected module needs, each once, in CAPABILITY_GROUPS order. */
export function requiredCapabilities(
  inspection: Pick<WasmInspection, 'imports'>
): CapabilityGroup[] {
  const needed = new Set<CapabilityGroup>();
  for (const entry of inspection.imports) if (entry.capability) needed.add(entry.capability);
  return CAPABILITY_GROUPS.filter((group) => needed.has(group));
}
