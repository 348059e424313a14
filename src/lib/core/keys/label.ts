/**
 * The label a user gives a pinned key: the name every verdict, review and audit record shows for
 * a signer. A direction override or an invisible character could make one key's label read as
 * another's ("alice" vs "alice" + U+202E …), so labels refuse what manifest text refuses, and the
 * invisible marks besides (core/hidden-text.ts).
 */
import { firstHiddenCharacter } from '../hidden-text';
import { reason, type Reason } from '../verdict';

/** Longest label kept, in UTF-16 units (longer labels are cut, as before). */
export const MAX_LABEL_LENGTH = 120;

export type LabelResult = { ok: true; label: string } | { ok: false; reason: Reason };

/**
 * Trims and shortens a label, or says which character it refuses and where. `what` names the
 * label's source in the sentence (`The label`, `The label taken from allowed_signers line 2`).
 */
export function checkKeyLabel(label: string, what = 'The label'): LabelResult {
  if (typeof label !== 'string') {
    return { ok: false, reason: reason('key.label', `${what} is not text.`) };
  }
  const hidden = firstHiddenCharacter(label);
  if (hidden) {
    return {
      ok: false,
      reason: reason(
        'key.label',
        `${what} contains ${hidden.description} at character ${hidden.position}: control, ` +
          'direction-override and invisible characters could make one key look like another. ' +
          'Remove it and try again.'
      )
    };
  }
  return { ok: true, label: label.trim().slice(0, MAX_LABEL_LENGTH) };
}
