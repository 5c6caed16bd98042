/**
 * The settings form's text: the default for each field under a preset, and
 * what choosing another preset does to the fields the user has not touched.
 */
import { PRESETS, type Preset } from '../model/config';
import { DEFAULT_SETTINGS, SETTINGS_SPEC, SETTING_KEYS, presetDefaults, type SettingKey } from '../run/settings';

export type FieldValues = Record<string, string>;

const isPreset = (value: string | undefined): value is Preset => (PRESETS as readonly (string | undefined)[]).includes(value);

/** Each field's default text under `preset`; an unknown preset gets the plain defaults (its own error says what is wrong). */
export function defaultFields(preset: string | undefined): FieldValues {
  const defaults = presetDefaults(isPreset(preset) ? preset : DEFAULT_SETTINGS.preset);
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, String(defaults[key])]));
}

/**
 * The form after the user picks `preset`: a field still showing the old
 * preset's default takes the new one's (so `fast` gets its batch of 512), and
 * a value the user typed stays.
 */
export function choosePreset(values: FieldValues, preset: string): FieldValues {
  const before = defaultFields(values.preset);
  const after = defaultFields(preset);
  const next: FieldValues = { ...values, preset };
  for (const key of SETTING_KEYS) {
    if (key !== 'preset' && values[key] === before[key]) next[key] = after[key] as string;
  }
  return next;
}

/** How the form shows one field: a list to choose from, or text to type. */
export type FieldControl =
  { kind: 'select'; options: readonly { value: string; label: string }[] } | { kind: 'text'; inputMode: 'numeric' | 'decimal' };

export function fieldControl(key: SettingKey): FieldControl {
  const spec = SETTINGS_SPEC[key];
  switch (spec.kind) {
    case 'choice':
      return { kind: 'select', options: spec.options };
    case 'switch':
      return {
        kind: 'select',
        options: [
          { value: 'true', label: 'on' },
          { value: 'false', label: 'off' },
        ],
      };
    case 'integer':
      return { kind: 'text', inputMode: 'numeric' };
    case 'number':
      return { kind: 'text', inputMode: 'decimal' };
  }
}

/**
 * The form in one line, for the collapsed settings while a run is shown:
 * "tiny · RGB · 1 epoch · batch 64 · Adam, learning rate 0.001 · augmented · 512 training images · 200 test images".
 * Text as typed: a value the user has not fixed yet shows as it is.
 */
export function settingsSummary(values: FieldValues): string {
  const option = (key: 'color' | 'optimizer', value: string | undefined) =>
    SETTINGS_SPEC[key].options.find((o) => o.value === value)?.label ?? value ?? '?';
  const count = (value: string | undefined, one: string, many: string) => `${value ?? '?'} ${value === '1' ? one : many}`;
  const limit = (value: string | undefined, what: string) => (value === '0' ? `all ${what}` : `${value ?? '?'} ${what}`);
  return [
    values.preset ?? '?',
    option('color', values.color),
    count(values.epochs, 'epoch', 'epochs'),
    `batch ${values.batchSize ?? '?'}`,
    values.recipe === 'tuned' ? 'tuned recipe' : `${option('optimizer', values.optimizer)}, learning rate ${values.learningRate ?? '?'}`,
    values.augment === 'false' ? 'no augmentation' : 'augmented',
    limit(values.trainLimit, 'training images'),
    limit(values.testLimit, 'test images'),
  ].join(' · ');
}
