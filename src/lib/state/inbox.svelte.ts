/**
 * The Inbox: intake by paste or file, verification against the pinned keys, and the request
 * queue. Every intake and every verdict is audited, including inputs that are refused outright.
 */
import {
  groupFiles,
  decodePaste,
  verdictKind,
  type IntakeItem,
  type NamedBytes
} from '$lib/core/intake';
import { verify, type Verdict } from '$lib/core/verify';
import { reason, type TrustedKey } from '$lib/core/verdict';
import { listKeys } from '$lib/storage/keys-store';
import type { KeyRow, RequestRow } from '$lib/storage/records';
import { listRequests, saveRequest } from '$lib/storage/requests-store';
import { auditLog } from './audit-log.svelte';
import { database } from './database';

export type { RequestRow };

export class InboxState {
  requests = $state.raw<RequestRow[]>([]);
  busy = $state(false);
  message = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);

  async load(): Promise<void> {
    this.requests = await listRequests(await database());
  }

  async intakePaste(text: string): Promise<void> {
    const decoded = decodePaste(text);
    if (!decoded.ok) {
      this.message = { kind: 'error', text: decoded.message };
      await auditLog.record({
        event: 'intake',
        subject: {},
        details: { channel: 'paste', result: 'refused', reason: decoded.message }
      });
      return;
    }
    await this.#run([decoded.item], 'paste');
  }

  async intakeFiles(files: readonly NamedBytes[]): Promise<void> {
    const { items, unknown } = groupFiles(files);
    for (const file of unknown) {
      await auditLog.record({
        event: 'intake',
        subject: {},
        details: {
          channel: 'file',
          fileName: file.name,
          result: 'refused',
          reason: 'not a bundle, module, zip or paired signature'
        }
      });
    }
    await this.#run(items, 'file');
    if (unknown.length > 0) {
      this.message = {
        kind: 'error',
        text: `Not understood: ${unknown.map((f) => f.name).join(', ')} (not a bundle, a .wasm, a zip, or a signature next to its .wasm).`
      };
    }
  }

  async #run(items: readonly IntakeItem[], channel: string): Promise<void> {
    this.busy = true;
    try {
      const db = await database();
      const keys = await listKeys(db);
      let accepted = 0;
      for (const item of items) {
        const verdict = await verifyAgainst(item, keys);
        const request = toRequest(item, verdict, channel);
        const module =
          verdict.moduleBytes && verdict.module
            ? {
                sha256: verdict.module.sha256,
                size: verdict.module.size,
                bytes: verdict.moduleBytes,
                addedAt: Date.now()
              }
            : null;
        await auditLog.record({
          event: 'intake',
          subject: {
            requestId: request.id,
            ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {})
          },
          details: { channel, fileName: item.fileName, size: request.size, format: request.format }
        });
        await saveRequest(db, request, module);
        await auditLog.record({
          event: 'verdict',
          subject: {
            requestId: request.id,
            ...(request.moduleSha256 ? { moduleSha256: request.moduleSha256 } : {}),
            ...(verdict.signers.length ? { keyIds: verdict.signers } : {})
          },
          details: {
            verdict: request.verdict.kind,
            name: request.name,
            version: request.version,
            reasons: verdict.reasons.map((r) => r.code)
          }
        });
        if (verdict.ok) accepted++;
      }
      this.message = { kind: 'ok', text: `${items.length} received, ${accepted} verified.` };
      await this.load();
    } finally {
      this.busy = false;
    }
  }
}

/**
 * Verifies against keys not revoked. When that fails for want of a trusted signer, a signature by
 * a revoked key is named as such (a revoked signer is rejected, never merely "unknown").
 */
async function verifyAgainst(item: IntakeItem, keys: readonly KeyRow[]): Promise<Verdict> {
  const trusted = (rows: readonly KeyRow[]): TrustedKey[] =>
    rows.map((row) => ({ id: row.id, publicKey: row.publicKey, label: row.label }));
  const verdict = await verify(item.input, trusted(keys.filter((k) => k.trust !== 'revoked')));
  const revoked = keys.filter((k) => k.trust === 'revoked');
  if (
    !verdict.ok &&
    revoked.length > 0 &&
    verdict.reasons.some((r) => r.code === 'signature.untrusted')
  ) {
    const byRevoked = await verify(item.input, trusted(revoked));
    if (byRevoked.signers.length > 0) {
      const labels = revoked.filter((k) => byRevoked.signers.includes(k.id)).map((k) => k.label);
      verdict.reasons = verdict.reasons.map((r) =>
        r.code === 'signature.untrusted'
          ? reason('signature.revoked', `Signed by a key you revoked (${labels.join(', ')}).`)
          : r
      );
    }
  }
  return verdict;
}

function toRequest(item: IntakeItem, verdict: Verdict, channel: string): RequestRow {
  return {
    id: crypto.randomUUID(),
    state: verdict.ok ? 'pending' : 'rejected',
    createdAt: Date.now(),
    channel,
    moduleSha256: verdict.module?.sha256 ?? '',
    manifestSha256: verdict.manifestSha256,
    fileName: item.fileName,
    name: verdict.manifest?.name ?? verdict.name,
    version: verdict.manifest?.version ?? null,
    format: verdict.format,
    size: verdict.module?.size ?? null,
    verdict: {
      ok: verdict.ok,
      kind: verdictKind(verdict),
      reasons: verdict.reasons,
      notes: verdict.notes,
      signers: verdict.signers
    }
  };
}

export const inboxState = new InboxState();
