/**
 * The settings form's state: the text of every field, and the messages
 * beside them, whether the page's own check or the worker raised them.
 */
import { useCallback, useState } from 'react';
import { SettingsError } from '../errors';
import { parseSettings, type Settings } from '../run/settings';
import { choosePreset, type FieldValues } from './fields';
import type { FromWorker } from '../worker/protocol';
import type { UrlOptions } from './urlOptions';

/** Validates the form's text; unknown URL parameters count as invalid settings until dismissed. */
function validate(values: FieldValues, unknown: string[]): { settings: Settings } | { error: SettingsError } {
  const input: Record<string, string> = { ...values };
  for (const key of unknown) input[key] = '';
  try {
    return { settings: parseSettings(input) };
  } catch (error) {
    if (error instanceof SettingsError) return { error };
    throw error;
  }
}

export function useSettingsForm(url: Pick<UrlOptions, 'fields' | 'unknown' | 'given'>) {
  const [values, setValues] = useState<FieldValues>(url.fields);
  const [unknown, setUnknown] = useState(url.unknown);
  // Values from the URL are checked at once, so a bad shared link says so before anyone presses Train.
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>(() => {
    const checked = validate(url.fields, url.unknown);
    return 'error' in checked ? checked.error.fields : {};
  });
  const [error, setError] = useState<SettingsError | undefined>();
  /** The preset was chosen (in the URL, by the user or by a resumed run): no suggestion replaces it. */
  const [presetChosen, setPresetChosen] = useState(url.given.includes('preset'));

  const onChange = useCallback((name: string, value: string) => {
    setValues((v) => (name === 'preset' ? choosePreset(v, value) : { ...v, [name]: value }));
    if (name === 'preset') setPresetChosen(true);
    setFieldErrors(({ [name]: _fixed, ...rest }) => rest);
  }, []);

  /** Offers `preset` (one that fits this machine) unless a preset was chosen. */
  const suggestPreset = useCallback(
    (preset: string) => {
      if (!presetChosen) setValues((v) => (v.preset === preset ? v : choosePreset(v, preset)));
    },
    [presetChosen],
  );

  /** The settings to train with, or null after marking what is wrong. */
  const check = useCallback((): Settings | null => {
    const checked = validate(values, unknown);
    if ('error' in checked) {
      setFieldErrors(checked.error.fields);
      setError(checked.error);
      return null;
    }
    setFieldErrors({});
    setError(undefined);
    return checked.settings;
  }, [values, unknown]);

  /** The worker's word on settings: fields it refused are highlighted, a resumed run's settings shown. */
  const follow = useCallback((message: FromWorker) => {
    if (message.type === 'error' && message.error.fields) setFieldErrors(message.error.fields);
    if (message.type === 'run-restored') {
      setPresetChosen(true);
      setValues(Object.fromEntries(Object.entries(message.settings).map(([k, v]) => [k, String(v)])));
    }
  }, []);

  /** URL parameters that are not settings, with their messages, until the user ignores them. */
  const unknownErrors = Object.fromEntries(unknown.filter((k) => fieldErrors[k]).map((k) => [k, fieldErrors[k] as string]));

  return {
    values,
    fieldErrors,
    error,
    unknownErrors,
    onChange,
    check,
    follow,
    suggestPreset,
    ignoreUnknown: () => setUnknown([]),
  };
}
