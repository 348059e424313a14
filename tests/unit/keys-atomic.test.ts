// A key change and its audit record share one IndexedDB transaction (keys-store.ts over
// AuditStore.appendWith): both land or neither. Failures are injected inside the transaction
// against fake-indexeddb: a record that cannot be encoded (createRecord throws after the key was
// written) and a key write the database refuses (a value it cannot clone).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { auditDatabases, testDevice } from './helpers/audit-db';
import type { AuditRecordInput } from '../../src/lib/core/audit/record';
import { AuditStore } from '../../src/lib/storage/audit-store';
import { addKey, deleteKey, updateKey, type KeyChange } from '../../src/lib/storage/keys-store';
import type { KeyRow } from '../../src/lib/storage/records';

const DEVICE = testDevice(9);
const ID = 'cd'.repeat(32);

const fresh = auditDatabases('keys-atomic', DEVICE);

const row = (): KeyRow => ({
  id: ID,
  publicKey: new Uint8Array(32).fill(1),
  label: 'ci signer',
  trust: 'review',
  format: 'raw',
  nativeId: 'cdcdcdcdcdcdcdcd',
  scope: [],
  addedAt: 1
});

function record(event: AuditRecordInput['event'], details: AuditRecordInput['details'] = {}) {
  return { time: 5, event, subject: { keyIds: [ID] }, details };
}

/** The plan that raises the key to `auto`, with its record's details. */
const raise =
  (details: AuditRecordInput['details'], change: KeyChange = { trust: 'auto' }) =>
  (before: KeyRow) => ({
    change,
    record: record('key.changed', { trust: { from: before.trust, to: 'auto' }, ...details })
  });

describe('addKey: the key and key.added in one transaction', () => {
  it('writes both, and the chain verifies', async () => {
    const { db, store } = await fresh();
    expect(await addKey(store, row(), record('key.added', { label: 'ci signer' }))).toBe(true);
    expect((await db.get('keys', ID))?.label).toBe('ci signer');
    expect((await db.getAll('audit')).map((r) => r.event)).toEqual(['key.added']);
    expect((await store.verify()).ok).toBe(true);
  });

  it('writes neither when the record cannot be appended', async () => {
    const { db, store } = await fresh();
    // A fraction cannot be encoded in a record: createRecord throws after the key was added.
    await expect(addKey(store, row(), record('key.added', { risk: 0.5 }))).rejects.toThrow(
      TypeError
    );
    expect([await db.count('keys'), await db.count('audit')]).toEqual([0, 0]);
  });

  it('writes nothing for a key already pinned', async () => {
    const { db, store } = await fresh();
    await db.add('keys', { ...row(), label: 'first' });
    expect(await addKey(store, row(), record('key.added'))).toBe(false);
    expect((await db.get('keys', ID))?.label).toBe('first');
    expect(await db.count('audit')).toBe(0);
  });
});

describe('updateKey: trust, scope or label and key.changed in one transaction', () => {
  it('raises trust and records from/to as stored', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    expect(await updateKey(store, ID, raise({}))).toBe('saved');
    expect((await db.get('keys', ID))?.trust).toBe('auto');
    const [written] = await db.getAll('audit');
    expect(written?.details).toEqual({ trust: { from: 'review', to: 'auto' } });
  });

  it('a key raised to auto with its record failing: the key stays at review, nothing recorded', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    await expect(updateKey(store, ID, raise({ risk: 0.25 }))).rejects.toThrow(TypeError);
    expect((await db.get('keys', ID))?.trust).toBe('review');
    expect(await db.count('audit')).toBe(0);
  });

  it('a key write the database refuses: no record either', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    // A function cannot be stored: the put fails and aborts the transaction.
    const unstorable = { trust: 'auto', scope: [() => 0] } as unknown as KeyChange;
    await expect(updateKey(store, ID, raise({}, unstorable))).rejects.toThrow();
    expect((await db.get('keys', ID))?.trust).toBe('review');
    expect(await db.count('audit')).toBe(0);
  });

  it('unchanged or missing: nothing written', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    expect(await updateKey(store, ID, () => null)).toBe('unchanged');
    expect(await updateKey(store, 'ef'.repeat(32), raise({}))).toBe('missing');
    expect(await db.count('audit')).toBe(0);
  });

  it('two tabs raising the same key at once: one change, one record', async () => {
    const { db, store } = await fresh();
    const other = new AuditStore(db, DEVICE);
    await db.add('keys', row());
    const plan = (before: KeyRow) => (before.trust === 'auto' ? null : raise({})(before));
    const results = await Promise.all([updateKey(store, ID, plan), updateKey(other, ID, plan)]);
    other.close();
    expect(results.sort()).toEqual(['saved', 'unchanged']);
    expect(await db.count('audit')).toBe(1);
  });
});

describe('deleteKey: the removal and its record in one transaction', () => {
  it('removes and records', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    const removed = await deleteKey(store, ID, (before) =>
      record('key.revoked', { label: before.label, removed: true })
    );
    expect(removed).toBe(true);
    expect(await db.count('keys')).toBe(0);
    expect((await db.getAll('audit')).map((r) => r.details.label)).toEqual(['ci signer']);
  });

  it('keeps the key when the record fails', async () => {
    const { db, store } = await fresh();
    await db.add('keys', row());
    await expect(deleteKey(store, ID, () => record('key.revoked', { at: 0.5 }))).rejects.toThrow(
      TypeError
    );
    expect(await db.count('keys')).toBe(1);
    expect(await db.count('audit')).toBe(0);
  });
});
