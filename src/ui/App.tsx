import { useEffect, useReducer, useState } from 'react';
import { TrainerClient } from '../worker/client';
import { DataPanel } from './DataPanel';
import { ErrorBanner } from './ErrorBanner';
import { initialState, reduce } from './state';

/** The data folder: `public/data/cifar10/` unless `?data=/some/path/` names another folder on this origin. */
function dataBaseUrl(): string {
  const custom = new URLSearchParams(location.search).get('data');
  // Same-origin paths only: the page must never be pointed at another site's files.
  const path = custom && /^\/(?!\/)[\w\-./]*$/.test(custom) ? custom.replace(/\/?$/, '/') : `${import.meta.env.BASE_URL}data/cifar10/`;
  return new URL(path, location.href).href;
}

export function App() {
  const [client] = useState(() => new TrainerClient());
  const [state, dispatch] = useReducer(reduce, initialState);

  useEffect(() => {
    const unsubscribe = client.subscribe(dispatch);
    client.loadData(dataBaseUrl());
    return unsubscribe;
  }, [client]);

  return (
    <main>
      <header>
        <h1>CIFAR-10 in a tab</h1>
        <p className="subtitle">Train a convolutional network on 50,000 images, in this tab, on your own GPU.</p>
      </header>
      {state.error && <ErrorBanner error={state.error} />}
      <DataPanel progress={state.dataProgress} ready={state.data} />
    </main>
  );
}
