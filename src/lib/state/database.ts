import { openNightCoreDB, type NightCoreDatabase } from '$lib/storage/db';

let opening: Promise<NightCoreDatabase> | undefined;

/** The page's one connection to the database, opened on first use. */
export function database(): Promise<NightCoreDatabase> {
  opening ??= openNightCoreDB().catch((error: unknown) => {
    opening = undefined; // let a later call retry (e.g. after the user frees space)
    throw error;
  });
  return opening;
}
