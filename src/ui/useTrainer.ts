/**
 * The page's one trainer worker and the state rebuilt from its messages.
 * Components get the client's typed methods; none of them posts messages.
 */
import { useCallback, useEffect, useReducer, useState } from 'react';
import { toErrorData, trainingElsewhere } from '../errors';
import { TrainerClient } from '../worker/client';
import type { FromWorker } from '../worker/protocol';
import { forwardToAutomation } from './automation';
import { initialState, reduce } from './state';
import { saveDataSource, savedDataSource } from './dataSource';
import type { UrlOptions } from './urlOptions';
import type { Isolation } from '../isolation/isolate';

export function useTrainer(url: UrlOptions, dataUrl: string, onMessage: (message: FromWorker) => void, isolation: Isolation) {
  const [client] = useState(() => new TrainerClient());
  const [state, dispatch] = useReducer(reduce, initialState);

  /** What a fresh worker needs: a backend and the data (from the browser's cache after the first visit). */
  const boot = useCallback(() => {
    if (!url.backendError) client.initBackend(url.backend, url.softwareGpu, url.tune, url.workers, isolation);
    client.loadData(dataUrl, savedDataSource());
    client.openStorage();
  }, [client, url, dataUrl, isolation]);

  useEffect(() => {
    const unsubscribe = client.subscribe((message) => {
      dispatch(message);
      if (message.type === 'data-ready') saveDataSource(message.source);
      forwardToAutomation(message);
      onMessage(message);
    });
    boot();
    return unsubscribe;
  }, [client, boot, onMessage]);

  const restart = useCallback(() => {
    client.restart();
    dispatch({ type: 'worker-restarted' });
    boot();
  }, [client, boot]);

  /** A run in another tab is refused before this page clears its curves and results for a new one. */
  const refusedElsewhere = useCallback(async () => {
    if (!(await client.trainingElsewhere())) return false;
    dispatch({ type: 'error', error: toErrorData(trainingElsewhere()) });
    return true;
  }, [client]);

  return { client, state, dispatch, restart, refusedElsewhere };
}
