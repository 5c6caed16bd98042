/**
 * The settings form. Fields hold the text the user typed; validation is the
 * same `parseSettings` the URL goes through, and its per-field messages are
 * shown beside each field.
 */
import type { FieldValues } from './fields';

interface FieldSpec {
  name: string;
  label: string;
  /** Shown under the field: the unit or what the value means. */
  hint: string;
  options?: readonly { value: string; label: string }[];
  inputMode?: 'numeric' | 'decimal';
}

export const FIELDS: readonly FieldSpec[] = [
  {
    name: 'preset',
    label: 'Model',
    hint: 'tiny: two small conv blocks, for quick runs. seed: the Keras blog CNN (6 conv layers, 0.3M weights). fast: a 2M-weight net with its own recipe (Nesterov SGD schedule, label smoothing, flip TTA; ignores optimizer and learning rate), made for batch 512 on a real GPU.',
    options: [
      { value: 'seed', label: 'seed — the blog CNN' },
      { value: 'tiny', label: 'tiny — quick' },
      { value: 'fast', label: 'fast — whitened, own recipe' },
    ],
  },
  {
    name: 'color',
    label: 'Colour',
    hint: 'Grayscale uses ITU-R BT.601 luma.',
    options: [
      { value: 'rgb', label: 'RGB' },
      { value: 'gray', label: 'Grayscale' },
    ],
  },
  { name: 'epochs', label: 'Epochs', hint: 'passes over the training set', inputMode: 'numeric' },
  { name: 'batchSize', label: 'Batch size', hint: 'images per step', inputMode: 'numeric' },
  { name: 'learningRate', label: 'Learning rate', hint: 'step size of the optimizer', inputMode: 'decimal' },
  {
    name: 'optimizer',
    label: 'Optimizer',
    hint: 'SGD uses momentum 0.9',
    options: [
      { value: 'adam', label: 'Adam' },
      { value: 'sgd', label: 'SGD + momentum' },
    ],
  },
  {
    name: 'augment',
    label: 'Augmentation',
    hint: 'random flips and shifts of up to 4 px, on the GPU',
    options: [
      { value: 'true', label: 'on' },
      { value: 'false', label: 'off' },
    ],
  },
  {
    name: 'validationShare',
    label: 'Validation share',
    hint: 'fraction of training images held out, same share per class',
    inputMode: 'decimal',
  },
  { name: 'patience', label: 'Early-stopping patience', hint: 'epochs without improvement before stopping; 0 = off', inputMode: 'numeric' },
  { name: 'seed', label: 'Seed', hint: 'for the split, the weights and the augmentation', inputMode: 'numeric' },
  { name: 'trainLimit', label: 'Training images', hint: 'use only this many (a stratified sample); 0 = all', inputMode: 'numeric' },
  { name: 'testLimit', label: 'Test images', hint: 'evaluate on this many (a stratified sample); 0 = all 10,000', inputMode: 'numeric' },
];

export function SettingsPanel({
  values,
  errors,
  disabled,
  onChange,
  onSubmit,
}: {
  values: FieldValues;
  errors: Record<string, string>;
  disabled: boolean;
  onChange(name: string, value: string): void;
  onSubmit(): void;
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
          {FIELDS.map((field) => {
            const id = `setting-${field.name}`;
            const error = errors[field.name];
            const common = {
              id,
              name: field.name,
              value: values[field.name] ?? '',
              disabled,
              'aria-invalid': error ? true : undefined,
              'aria-describedby': `${id}-hint`,
              'data-testid': id,
            };
            return (
              <div key={field.name} className={error ? 'field invalid' : 'field'}>
                <label htmlFor={id}>{field.label}</label>
                {field.options ? (
                  <select {...common} onChange={(e) => onChange(field.name, e.target.value)}>
                    {field.options.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                    {/* A value from the URL that is not an option stays visible, so its error makes sense. */}
                    {!field.options.some((o) => o.value === values[field.name]) && (
                      <option value={values[field.name]}>{values[field.name]} (not valid)</option>
                    )}
                  </select>
                ) : (
                  <input {...common} inputMode={field.inputMode} onChange={(e) => onChange(field.name, e.target.value)} />
                )}
                {error ? (
                  <small className="field-error" role="alert" data-testid={`${id}-error`}>
                    {error}
                  </small>
                ) : (
                  <small id={`${id}-hint`} className="hint">
                    {field.hint}
                  </small>
                )}
              </div>
            );
          })}
        </div>
        <button type="submit" className="primary" data-testid="start" disabled={disabled}>
          Train
        </button>
      </form>
    </section>
  );
}
