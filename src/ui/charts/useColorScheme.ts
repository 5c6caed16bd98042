import { useEffect, useState } from 'react';
import { currentScheme, type Scheme } from '../vis/theme';

/** The page's colour scheme, followed live: charts keyed on it are drawn again in the new colours. */
export function useColorScheme(): Scheme {
  const [scheme, setScheme] = useState<Scheme>(currentScheme);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const query = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setScheme(currentScheme());
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);
  return scheme;
}
