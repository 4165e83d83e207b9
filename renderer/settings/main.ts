// The settings window: every helper config key, grouped, checked as you type with the
// helper's own rules; Apply sends only the keys that changed (and changes nothing if the
// helper refuses), Revert puts back what the helper runs. Edits not yet applied survive the
// helper's values being read again (a reconnect), marked unsaved, with a word where the
// helper's own value moved underneath. Entry point of settings.html.

import type { GuiPreferences, HelperState, PortSentryApi } from '../../shared/desktop-api.js';
import { describeError, getApi } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { applyTheme } from '../lib/theme.js';
import { CONFIG_FIELDS, changedValues, checkAll, effectiveValues, readOnlyReason, type ConfigField } from './config-rules.js';
import { IgnoreEditor } from './ignore-editor.js';
import { describeFleet } from './fleet-state.js';
import { checkPreferences, changedPreferences, type PreferenceErrors } from './preferences.js';
import { joinDuration, splitDuration, storedUnitOf, unitsFor } from './durations.js';
import { inLabelWords, labelsOf } from './field-words.js';
import { explainMode, joinModes, MODE_CHOICES, splitModes } from './modes-field.js';
import { keepEdits } from './unsaved-edits.js';

const BLOCK_LEVELS: readonly [string, string][] = [
  ['0', 'Report only'],
  ['1', 'Block the scanner'],
  ['2', 'Only run the extra command'],
];
const BACKENDS: readonly [string, string][] = [
  ['nftables', 'nftables table (recommended on Linux)'],
  ['pf', 'pf table (macOS)'],
  ['windows-firewall', 'Windows Firewall rules'],
  ['command', 'Run the block command (KILL_ROUTE)'],
  ['none', 'Do not block at route level'],
];

class SettingsWindow {
  private baseline: Record<string, string> = {};
  private baselinePrefs: GuiPreferences | null = null;
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  /** Duration fields: the unit beside each number. */
  private readonly units = new Map<string, HTMLSelectElement>();
  /** MODES: the UDP choice (the TCP choice is the field's input). */
  private udpMode: HTMLSelectElement | null = null;
  /** Errors found while reading the form (a duration that does not convert), by key. */
  private readErrors = new Map<string, string>();
  private readonly ignore: IgnoreEditor;
  private loaded = false;
  /** Edited fields whose helper value changed underneath: key -> the helper's value now. */
  private underneath = new Map<string, string>();

  constructor(private readonly api: PortSentryApi) {
    for (const spec of CONFIG_FIELDS) this.buildField(spec);
    this.ignore = new IgnoreEditor(api);
    const form = byId<HTMLFormElement>('settings-form');
    form.addEventListener('input', () => this.validate());
    form.addEventListener('change', () => this.validate());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.apply();
    });
    byId('revert').addEventListener('click', () => this.revert());
    byId('pref-theme').addEventListener('change', () => applyTheme(byId<HTMLSelectElement>('pref-theme').value as GuiPreferences['theme']));
    api.onHelperState((state) => {
      // A window opened while the helper was down (or across a helper restart) reloads what
      // the helper runs as soon as it is back, instead of showing stale or empty fields.
      const wasConnected = this.connected;
      this.connected = state.kind === 'connected';
      this.showState(state);
      if (this.connected && !wasConnected && this.started) void this.loadConfig();
    });
  }

  private connected = false;
  private started = false;

  async start(): Promise<void> {
    this.started = true;
    await Promise.all([this.loadConfig(), this.loadPreferences(), this.ignore.reload()]);
  }

  private buildField(spec: ConfigField): void {
    const id = `cfg-${spec.key}`;
    const readOnly = spec.access !== 'operator';
    const described = readOnly ? `${id}-hint ${id}-rootonly` : `${id}-hint ${id}-error`;
    const label = h('label', { for: id, id: `${id}-label` }, spec.label, ' ', h('code', { class: 'key' }, spec.key));
    let input: HTMLInputElement | HTMLSelectElement;
    let control: HTMLElement | null = null;
    switch (spec.widget) {
      case 'modes': {
        // One TCP and one UDP choice; MODES is the two joined ("atcp udp").
        const choice = (protocol: 'tcp' | 'udp', selectId: string) =>
          h('select', { id: selectId, 'data-key': spec.key, 'aria-describedby': `${id}-explain ${described}` }, ...MODE_CHOICES[protocol].map((c) => h('option', { value: c.value }, c.name)));
        input = choice('tcp', id);
        this.udpMode = choice('udp', `${id}-udp`);
        control = h(
          'div',
          { class: 'mode-choices', role: 'group', 'aria-labelledby': `${id}-label` },
          h('label', { for: id }, 'TCP'),
          input,
          h('label', { for: `${id}-udp` }, 'UDP'),
          this.udpMode,
          h('p', { id: `${id}-explain`, class: 'hint', 'aria-live': 'polite' }),
        );
        break;
      }
      case 'duration': {
        // A number and a unit; the file keeps the key's own unit (seconds, or days).
        const unit = storedUnitOf(spec.key) ?? 'seconds';
        input = h('input', { id, type: 'text', inputmode: 'decimal', 'data-key': spec.key, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': described });
        const units = h('select', { id: `${id}-unit`, 'aria-label': `${spec.label}: unit`, 'aria-describedby': described }, ...unitsFor(unit).map((u) => h('option', { value: u }, u)));
        if (readOnly) units.disabled = true;
        this.units.set(spec.key, units);
        control = h('div', { class: 'duration' }, input, units);
        break;
      }
      case 'flag':
        input = h('input', { id, type: 'checkbox', 'data-key': spec.key, 'aria-describedby': described });
        break;
      case 'block-level':
      case 'backend':
        input = h('select', { id, 'data-key': spec.key, 'aria-describedby': described }, ...(spec.widget === 'backend' ? BACKENDS : BLOCK_LEVELS).map(([value, text]) => h('option', { value }, text)));
        break;
      case 'text':
        input = h('input', { id, type: 'text', 'data-key': spec.key, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': described });
        break;
    }
    if (readOnly) {
      // Root's keys: shown, never editable here. The helper would refuse them from this app
      // (an operator), so the window says why and how root changes them instead.
      if (input instanceof HTMLInputElement && input.type === 'text') input.readOnly = true;
      else input.disabled = true;
      input.setAttribute('aria-readonly', 'true');
    }
    const row = h(
      'div',
      { class: `${spec.widget === 'flag' ? 'field-row checkbox-row' : 'field-row'}${readOnly ? ' root-only' : ''}`, 'data-key': spec.key, 'data-access': spec.access },
      ...(spec.widget === 'flag' ? [input, label] : [label, control ?? input]),
      h('p', { id: `${id}-hint`, class: 'hint' }, spec.hint),
      ...(readOnly ? [h('p', { id: `${id}-rootonly`, class: 'hint root-only-reason' }, inLabelWords(readOnlyReason(spec.key, null)))] : []),
      h('p', { id: `${id}-error`, class: 'field-error', hidden: true }),
      h('p', { id: `${id}-underneath`, class: 'field-underneath', role: 'status', hidden: true }),
    );
    this.inputs.set(spec.key, input);
    const container = document.querySelector(`.fields[data-group="${spec.group}"]`);
    if (container === null) throw new Error(`no container for group ${spec.group}`);
    container.append(row);
  }

  private async loadConfig(): Promise<void> {
    try {
      const config = await this.api.getConfig();
      // The user's edits so far (and what they were edits of), before the form is refilled.
      const edited = this.loaded ? { before: this.baseline, form: this.readValues() } : null;
      this.fill(effectiveValues(config.values));
      for (const spec of CONFIG_FIELDS) {
        if (spec.access !== 'operator') byId(`cfg-${spec.key}-rootonly`).textContent = inLabelWords(readOnlyReason(spec.key, config.mainFile));
        const source = config.sources[spec.key];
        const hint = byId(`cfg-${spec.key}-hint`);
        hint.textContent = source === undefined || source === 'default' ? spec.hint : inLabelWords(`${spec.hint} (set in ${source})`);
      }
      this.baseline = this.readValues();
      if (edited !== null) {
        const kept = keepEdits(edited.before, edited.form, this.baseline);
        this.fill(kept.values);
        // A move seen at an earlier reload still stands while the field stays edited.
        const underneath = new Map(kept.movedUnderneath);
        for (const key of this.underneath.keys()) if (!underneath.has(key) && kept.values[key] !== this.baseline[key]) underneath.set(key, this.baseline[key] ?? '');
        this.underneath = underneath;
      }
      this.loaded = true;
      this.validate();
      this.showState({ kind: 'connected', paused: false });
      void this.showFleet();
    } catch (error) {
      this.showState({ kind: 'unreachable', reason: 'disconnected', message: describeError(error, "read the helper's settings") });
    }
  }

  /** A line under the sharing switch: in a fleet or not, and how the exchange goes. */
  private async showFleet(): Promise<void> {
    const row = document.querySelector('.field-row[data-key="FLEET_SHARING"]');
    if (row === null) return;
    let line = row.querySelector<HTMLElement>('#fleet-state');
    if (line === null) {
      line = h('p', { id: 'fleet-state', class: 'hint', role: 'status' });
      row.append(line);
    }
    try {
      line.textContent = describeFleet(await this.api.status());
    } catch {
      line.textContent = '';
    }
  }

  private async loadPreferences(): Promise<void> {
    try {
      const prefs = await this.api.getPreferences();
      this.baselinePrefs = prefs;
      this.fillPreferences(prefs);
      applyTheme(prefs.theme);
    } catch (error) {
      byId('apply-status').textContent = describeError(error, 'read the app preferences');
    }
  }

  private fill(values: Readonly<Record<string, string>>): void {
    for (const [key, input] of this.inputs) {
      const value = values[key] ?? '';
      const unit = this.units.get(key);
      const stored = storedUnitOf(key as never);
      if (key === 'MODES' && this.udpMode !== null) {
        const modes = splitModes(value);
        input.value = modes.tcp;
        this.udpMode.value = modes.udp;
      } else if (unit !== undefined && stored !== null) {
        const split = splitDuration(value, stored) ?? { amount: value, unit: stored };
        input.value = split.amount;
        unit.value = split.unit;
      } else if (input instanceof HTMLInputElement && input.type === 'checkbox') input.checked = value.trim() === '1';
      else if (input instanceof HTMLSelectElement) input.value = value.trim();
      else input.value = value;
    }
  }

  private readValues(): Record<string, string> {
    const values: Record<string, string> = {};
    this.readErrors = new Map();
    for (const [key, input] of this.inputs) {
      const unit = this.units.get(key);
      if (key === 'MODES' && this.udpMode !== null) values[key] = joinModes(input.value, this.udpMode.value);
      else if (unit !== undefined) {
        const joined = joinDuration(key as never, input.value, unit.value);
        // Not convertible: the typed text stands for the value (so it shows as changed) and the error is kept.
        values[key] = joined.ok ? joined.stored : `${input.value} ${unit.value}`;
        if (!joined.ok) this.readErrors.set(key, joined.message);
      } else values[key] = input instanceof HTMLInputElement && input.type === 'checkbox' ? (input.checked ? '1' : '0') : input.value;
    }
    return values;
  }

  private fillPreferences(prefs: GuiPreferences): void {
    byId<HTMLSelectElement>('pref-theme').value = prefs.theme;
    byId<HTMLSelectElement>('pref-notifications').value = prefs.notifications;
    byId<HTMLInputElement>('pref-quietStart').value = prefs.quietStart;
    byId<HTMLInputElement>('pref-quietEnd').value = prefs.quietEnd;
    byId<HTMLInputElement>('pref-startAtLogin').checked = prefs.startAtLogin;
  }

  private readPreferences(): GuiPreferences {
    return {
      theme: byId<HTMLSelectElement>('pref-theme').value as GuiPreferences['theme'],
      notifications: byId<HTMLSelectElement>('pref-notifications').value as GuiPreferences['notifications'],
      quietStart: byId<HTMLInputElement>('pref-quietStart').value.trim(),
      quietEnd: byId<HTMLInputElement>('pref-quietEnd').value.trim(),
      startAtLogin: byId<HTMLInputElement>('pref-startAtLogin').checked,
    };
  }

  /** Shows every error; returns how many there are. */
  private validate(): number {
    const values = this.readValues();
    const errors = this.loaded ? checkAll(values) : new Map<string, string>();
    if (this.loaded) for (const [key, message] of this.readErrors) if (FIELD_ACCESS.get(key) === 'operator') errors.set(key, message);
    const explain = document.getElementById('cfg-MODES-explain');
    if (explain !== null && this.udpMode !== null) {
      const tcp = this.inputs.get('MODES')?.value ?? '';
      explain.textContent = `TCP: ${explainMode('tcp', tcp)} UDP: ${explainMode('udp', this.udpMode.value)}`;
    }
    for (const [key, input] of this.inputs) {
      const error = errors.get(key);
      // The window speaks in labels: the key table's and the helper's sentences name keys.
      showFieldError(input, byId(`cfg-${key}-error`), error === undefined ? null : inLabelWords(error));
      const edited = this.loaded && values[key] !== this.baseline[key];
      input.closest('.field-row')?.classList.toggle('changed', edited);
      if (!edited) this.underneath.delete(key);
      const theirs = this.underneath.get(key);
      const note = byId(`cfg-${key}-underneath`);
      note.hidden = theirs === undefined;
      note.textContent = theirs === undefined ? '' : `Changed in the helper meanwhile: yours (unsaved) is “${values[key]}”, the helper's is now “${theirs === '' ? '(empty)' : theirs}”.`;
    }
    const prefErrors: PreferenceErrors = checkPreferences(this.readPreferences());
    showFieldError(byId('pref-quietStart'), byId('pref-quietStart-error'), prefErrors.quietStart ?? null);
    showFieldError(byId('pref-quietEnd'), byId('pref-quietEnd-error'), prefErrors.quietEnd ?? null);
    const count = errors.size + Object.keys(prefErrors).length;
    const apply = byId<HTMLButtonElement>('apply');
    // Not `disabled`: a disabled button leaves the tab order and cannot say why it refuses.
    if (count > 0) apply.setAttribute('aria-disabled', 'true');
    else apply.removeAttribute('aria-disabled');
    return count;
  }

  private async apply(): Promise<void> {
    const status = byId('apply-status');
    if (!this.loaded) {
      status.textContent = "The helper's settings are not loaded, so nothing can be applied.";
      return;
    }
    const errorCount = this.validate();
    if (errorCount > 0) {
      status.textContent = `Not applied: ${errorCount === 1 ? '1 setting needs' : `${errorCount} settings need`} fixing first (marked below). Nothing was changed.`;
      document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    const changes = changedValues(this.baseline, this.readValues());
    const prefs = this.readPreferences();
    const prefChanges = this.baselinePrefs === null ? {} : changedPreferences(this.baselinePrefs, prefs);
    const keys = Object.keys(changes);
    if (keys.length === 0 && Object.keys(prefChanges).length === 0) {
      status.textContent = 'Nothing to apply: no setting was changed.';
      return;
    }
    const button = byId<HTMLButtonElement>('apply');
    button.disabled = true;
    status.textContent = 'Applying…';
    try {
      if (keys.length > 0) {
        try {
          await this.api.setConfig({ changes });
        } catch (error) {
          // The helper writes all or nothing; the form keeps the edits so they can be fixed.
          status.textContent = inLabelWords(describeError(error, 'apply the settings'));
          return;
        }
      }
      if (Object.keys(prefChanges).length > 0) {
        try {
          this.baselinePrefs = await this.api.setPreferences(prefChanges);
          this.fillPreferences(this.baselinePrefs);
          applyTheme(this.baselinePrefs.theme);
        } catch (error) {
          status.textContent = `${keys.length > 0 ? 'The helper settings were applied, but ' : ''}${describeError(error, 'save the app preferences')}`;
          return;
        }
      }
      await this.loadConfig();
      const what = [...labelsOf(keys), ...Object.keys(prefChanges).map((k) => PREF_NAMES[k as keyof GuiPreferences])];
      status.textContent = `Applied: ${what.join(', ')}.`;
    } finally {
      button.disabled = false;
    }
  }

  private revert(): void {
    this.fill(this.baseline);
    if (this.baselinePrefs !== null) {
      this.fillPreferences(this.baselinePrefs);
      applyTheme(this.baselinePrefs.theme);
    }
    this.validate();
    byId('apply-status').textContent = 'Reverted to the settings in force.';
  }

  private showState(state: HelperState): void {
    const banner = byId('helper-banner');
    banner.className = `banner banner-${state.kind}`;
    byId('helper-banner-text').textContent =
      state.kind === 'connected' ? 'Connected to the helper.' : state.kind === 'connecting' ? 'Connecting to the PortSentry helper…' : `The PortSentry helper is unreachable: ${state.message}`;
  }
}

const FIELD_ACCESS: ReadonlyMap<string, string> = new Map(CONFIG_FIELDS.map((field) => [field.key, field.access]));

const PREF_NAMES: Readonly<Record<keyof GuiPreferences, string>> = {
  theme: 'theme',
  notifications: 'notifications',
  quietStart: 'quiet hours start',
  quietEnd: 'quiet hours end',
  startAtLogin: 'start at login',
};

void new SettingsWindow(getApi()).start();
