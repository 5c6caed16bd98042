/**
 * The settings form, drawn from SETTINGS_SPEC. Fields hold the text the user
 * typed; validation is the same `parseSettings` the URL and the worker use,
 * and its per-field messages are shown beside each field.
 */
import type { ReactNode } from 'react';
import { SETTINGS_SPEC, SETTING_KEYS } from '../train/settings';
import { fieldControl, type FieldValues } from './fields';

export function SettingsPanel({
  values,
  errors,
  disabled,
  onChange,
  onSubmit,
  children,
}: {
  values: FieldValues;
  errors: Record<string, string>;
  disabled: boolean;
  onChange(name: string, value: string): void;
  onSubmit(): void;
  /** Shown under the fields, above Train (what each preset would cost here). */
  children?: ReactNode;
}) {
  return (
    <section className="panel" aria-label="Settings">
      <h2>Settings</h2>
      <form
        className="settings"
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        <div className="fields">
          {SETTING_KEYS.map((name) => {
            const spec = SETTINGS_SPEC[name];
            const control = fieldControl(name);
            const id = `setting-${name}`;
            const error = errors[name];
            const value = values[name] ?? '';
            const common = {
              id,
              name,
              value,
              disabled,
              'aria-invalid': error ? true : undefined,
              'aria-describedby': error ? `${id}-error` : `${id}-hint`,
              'data-testid': id,
            };
            return (
              <div key={name} className={error ? 'field invalid' : 'field'}>
                <label htmlFor={id}>{spec.label}</label>
                {control.kind === 'select' ? (
                  <select {...common} onChange={(e) => onChange(name, e.target.value)}>
                    {control.options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                    {/* A value from the URL that is not an option stays visible, so its error makes sense. */}
                    {!control.options.some((o) => o.value === value) && <option value={value}>{value} (not valid)</option>}
                  </select>
                ) : (
                  <input {...common} inputMode={control.inputMode} onChange={(e) => onChange(name, e.target.value)} />
                )}
                {error ? (
                  <small id={`${id}-error`} className="field-error" role="alert" data-testid={`${id}-error`}>
                    {error}
                  </small>
                ) : (
                  <small id={`${id}-hint`} className="hint">
                    {spec.help}
                  </small>
                )}
              </div>
            );
          })}
        </div>
        {children}
        <button type="submit" className="primary" data-testid="start" disabled={disabled}>
          Train
        </button>
      </form>
    </section>
  );
}
