// Durations in human units for the settings window: a stored value (seconds, or days for
// EVENT_RETENTION_DAYS, as PortSentry 1.2's file keeps them) shown as a number and a unit,
// and a number and a unit typed back converted to the stored unit exactly (BigInt, no
// floating point), with every refusal a sentence in words. Pure; bounds come from the key table.

import { CONFIG_KEYS, integerRange, type ConfigKey, type DurationUnit } from '../../shared/domain/config-keys.js';

export type ShownUnit = 'seconds' | 'minutes' | 'hours' | 'days';

const SECONDS: Readonly<Record<ShownUnit, bigint>> = { seconds: 1n, minutes: 60n, hours: 3600n, days: 86400n };
const STORED_SECONDS: Readonly<Record<DurationUnit, bigint>> = { seconds: 1n, days: 86400n };
const SINGULAR: Readonly<Record<ShownUnit, string>> = { seconds: 'second', minutes: 'minute', hours: 'hour', days: 'day' };

/** The units a key may be entered in: none finer than the unit it is stored in. */
export function unitsFor(stored: DurationUnit): readonly ShownUnit[] {
  return stored === 'days' ? ['days'] : ['seconds', 'minutes', 'hours', 'days'];
}

export function storedUnitOf(key: ConfigKey): DurationUnit | null {
  return (CONFIG_KEYS[key] as { unit?: DurationUnit }).unit ?? null;
}

/** "1 hour", "90 minutes", "7 days": the amount in the largest unit that holds it exactly. */
export function describeDuration(storedAmount: bigint, stored: DurationUnit): string {
  const total = storedAmount * STORED_SECONDS[stored];
  const unit = total === 0n ? stored : ([...unitsFor(stored)].reverse().find((u) => total % SECONDS[u] === 0n) ?? stored);
  const amount = (total / SECONDS[unit]).toString();
  return `${amount} ${amount === '1' ? SINGULAR[unit] : unit}`;
}

/**
 * The stored text (e.g. "3600") as a number and a unit (1, hours), in the largest unit that
 * holds it exactly; null when the text is not a whole number (shown as it is, in the stored unit).
 */
export function splitDuration(storedText: string, stored: DurationUnit): { amount: string; unit: ShownUnit } | null {
  const text = storedText.trim();
  if (!/^\d{1,15}$/.test(text)) return null;
  const total = BigInt(text) * STORED_SECONDS[stored];
  const units = unitsFor(stored);
  if (total === 0n) return { amount: '0', unit: units.includes('hours') ? 'hours' : stored };
  for (const unit of [...units].reverse()) {
    if (total % SECONDS[unit] === 0n) return { amount: (total / SECONDS[unit]).toString(), unit };
  }
  return { amount: text, unit: stored };
}

export type JoinedDuration = { readonly ok: true; readonly stored: string } | { readonly ok: false; readonly message: string };

/**
 * What was typed (an amount such as "90" or "1.5" and a unit) as the key's stored text, or a
 * sentence naming the field by its label. Only what converts exactly is accepted, and only
 * inside the key's range.
 */
export function joinDuration(key: ConfigKey, amountText: string, unit: string): JoinedDuration {
  const label = CONFIG_KEYS[key].label;
  const stored = storedUnitOf(key);
  if (stored === null) return { ok: false, message: `${label} is not a duration` };
  if (!(unitsFor(stored) as readonly string[]).includes(unit)) return { ok: false, message: `${label}: choose a unit (${unitsFor(stored).join(', ')})` };
  const text = amountText.trim();
  const shown = unit as ShownUnit;
  if (text === '') return { ok: false, message: `${label}: enter a number of ${shown}` };
  if (/^-\s*\d/.test(text)) return { ok: false, message: `${label} cannot be negative` };
  const match = /^(\d{1,15})(?:[.,](\d{1,6}))?$/.exec(text);
  if (match === null) return { ok: false, message: `${label}: "${text.slice(0, 20)}" is not a number of ${shown} (write e.g. 30 or 1.5)` };
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(match[1]!) * scale + (fraction === '' ? 0n : BigInt(fraction));
  // amount × unit / stored unit, exactly: a whole number or refused.
  const numerator = scaled * SECONDS[shown];
  const denominator = scale * STORED_SECONDS[stored];
  if (numerator % denominator !== 0n) {
    return { ok: false, message: `${label}: ${text} ${shown} is not a whole number of ${stored}` };
  }
  const value = numerator / denominator;
  const range = integerRange(key);
  if (range !== null && (value < BigInt(range[0]) || value > BigInt(range[1]))) {
    const [min, max] = range.map((bound) => describeDuration(BigInt(bound), stored));
    return { ok: false, message: `${label} must be between ${min} and ${max}, not ${describeDuration(value, stored)}` };
  }
  return { ok: true, stored: value.toString() };
}
