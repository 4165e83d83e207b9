// How long a repeat offender's block lasts: a host blocked again after its block lapsed gets a
// longer one, as fail2ban's bantime.increment does (the formula, a factor, a maximum) and as
// psad's danger levels rise with history. The count of earlier blocks comes from the store's
// history (so a restart keeps it); this module only does the arithmetic. Pure.

export type RepeatFormula = 'exponential' | 'linear';

export interface RepeatOptions {
  /** 0: repeat offenders get the same block as anyone (BLOCK_REPEAT_FACTOR). */
  readonly factor: number;
  readonly formula: RepeatFormula;
  /** The longest block this makes, in seconds (BLOCK_REPEAT_MAX); 0: no maximum. */
  readonly maxSeconds: number;
}

/** fail2ban's exponent cap (1 << 20): beyond it the maximum applies anyway. */
const MAX_DOUBLINGS = 20;

/**
 * The block's seconds for a host blocked `earlier` times before. exponential: base x factor x
 * 2^earlier (fail2ban's default formula); linear: base x (1 + factor x earlier). Never shorter
 * than the base, never longer than the maximum (unless the base itself is), and a block without
 * end (base 0) stays without end.
 */
export function repeatBlockSeconds(baseSeconds: number, earlier: number, options: RepeatOptions): number {
  if (baseSeconds <= 0 || earlier <= 0 || options.factor <= 0) return baseSeconds;
  const longer = options.formula === 'exponential' ? baseSeconds * options.factor * 2 ** Math.min(earlier, MAX_DOUBLINGS) : baseSeconds * (1 + options.factor * earlier);
  const capped = options.maxSeconds > 0 ? Math.min(longer, options.maxSeconds) : longer;
  return Math.max(baseSeconds, Math.round(capped));
}
