import type { OutcomeGroup } from '$lib/core/charts';

/**
 * Each outcome has a fill (an app colour variable, so light and dark both work) and a texture, so
 * two outcomes never differ by colour alone. The legend shows the same swatch next to its word.
 */
export const OUTCOME_STYLE: Record<OutcomeGroup, { fill: string; texture: string }> = {
  ok: { fill: 'var(--ok)', texture: 'none' },
  failed: { fill: 'var(--danger)', texture: 'cross' },
  timeout: { fill: 'var(--warn)', texture: 'diagonal' },
  cap: { fill: 'var(--accent)', texture: 'dots' },
  stopped: { fill: 'var(--muted)', texture: 'horizontal' },
  refused: { fill: 'var(--danger)', texture: 'back-diagonal' },
  active: { fill: 'var(--border)', texture: 'vertical' }
};
