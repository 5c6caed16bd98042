import type { ErrorData } from '../errors';
import { describeError } from './errorText';

import type { ReactNode } from 'react';

/** The page's error message; `children` are the actions that can fix it (Retry, Restart). */
export function ErrorBanner({ error, children }: { error: ErrorData; children?: ReactNode }) {
  const { message, nextStep } = describeError(error);
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <strong>{message}</strong> <span>{nextStep}</span> {children}
    </div>
  );
}
