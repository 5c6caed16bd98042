import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { isolate } from './isolation/isolate';
import { App } from './ui/App';
import './ui/app.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
// Before anything else: on a host without the isolation headers this installs the app's service worker and
// reloads once, and a page that is about to reload should start no worker and load no data.
void isolate().then((isolation) =>
  createRoot(root).render(
    <StrictMode>
      <App isolation={isolation} />
    </StrictMode>,
  ),
);
