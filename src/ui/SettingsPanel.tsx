/**
 * The settings form, drawn from SETTINGS_SPEC. Fields hold the text the user
 * typed; validation is the same `parseSettings` the URL and the worker use,
 * and its per-field messages are shown beside each field.
 */
import type { ReactNode } from 'react';
import { SETTINGS_SPEC, SETTING_KEYS, type SettingKey } from '../run/settings';
import { fieldControl, settingsSummary, type FieldValues } from './fields';

/** Once a run is on screen the form folds into one line; null: it is always open (before the first run). */
export interface Folding {
  collapsed: boolean;
  onToggle(): void;
}

export function SettingsPanel({
  values,
  errors,
  disabled,
  folding,
  onChange,
  onSubmit,
  children,
}: {
  values: FieldValues;
  errors: Record<string, string>;
  disabled: boolean;
  folding: Folding | null;
  onChange(name: string, value: string): void;
  onSubmit(): void;
  /** Shown under the fields, above Train (what each preset would cost here). */
  children?: ReactNode;
}) {
  const collapsed = folding?.collapsed ?? false;
  return (
    <section className={`panel settings-panel${folding ? ' foldable' : ''}`} aria-label="Settings">
      <div className="panel-head">
        <h2>Settings</h2>
        {folding && <Summary values={values} folding={folding} disabled={disabled} onSubmit={onSubmit} />}
      </div>
      <form
        id="settings-form"
        className="settings"
        hidden={collapsed}
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        <div className="fields">
          {SETTING_KEYS.map((name) => (
            <Field key={name} name={name} value={values[name] ?? ''} error={errors[name]} disabled={disabled} onChange={onChange} />
          ))}
        </div>
        {children}
        <button type="submit" className="primary" data-testid="start" disabled={disabled}>
          Train
        </button>
      </form>
    </section>
  );
}

/** The settings in one line, Edit (or Hide) and, while folded, Train. */
function Summary({ values, folding, disabled, onSubmit }: { values: FieldValues; folding: Folding; disabled: boolean; onSubmit(): void }) {
  const { collapsed } = folding;
  return (
    <>
      <p className="settings-summary" data-testid="settings-summary">
        {settingsSummary(values)}
      </p>
      <button
        type="button"
        aria-expanded={!collapsed}
        aria-controls="settings-form"
        aria-label={collapsed ? 'Edit settings' : 'Hide settings'}
        onClick={folding.onToggle}
      >
        {collapsed ? 'Edit' : 'Hide'}
      </button>
      {collapsed && (
        <button type="button" className="primary" disabled={disabled} onClick={onSubmit}>
          Train
        </button>
      )}
    </>
  );
}

function Field({
  name,
  value,
  error,
  disabled,
  onChange,
}: {
  name: SettingKey;
  value: string;
  error: string | undefined;
  disabled: boolean;
  onChange(name: string, value: string): void;
}) {
  const spec = SETTINGS_SPEC[name];
  const control = fieldControl(name);
  const id = `setting-${name}`;
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
    <div className={error ? 'field invalid' : 'field'}>
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
}
