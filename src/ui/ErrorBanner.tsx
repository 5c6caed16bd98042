import type { ErrorData } from '../errors';
import { describeError } from './errorText';

export function ErrorBanner({ error }: { error: ErrorData }) {
  const { message, nextStep } = describeError(error);
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <strong>{message}</strong> <span>{nextStep}</span>
    </div>
  );
}
