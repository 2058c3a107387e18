// Entry of the dashboard: the shell. It asks GET /api/session whether an operator is signed in,
// shows the sign-in form or the application (header, nav, live status, one view at a time by
// location hash), owns the one live socket, and goes back to the form on any 401.
// Views are built on first visit and kept; hidden views stop their timers and subscriptions.

import type { SessionBody } from '../../broker/contract.js';
import { ApiError, createApi, describeError } from './api.js';
import { LiveHubClient, liveUrl, type LiveState } from './live.js';
import { navSection, parseHash, routeHash, type Route, type RouteName } from './shell/router.js';
import { createSignInForm } from './shell/signin.js';
import { openSocket } from './shell/socket.js';
import { describeLiveState } from './shell/status.js';
import type { View, ViewContext, ViewFactory } from './view.js';
import { createAlertsView } from './views/alerts.js';
import { createDatasetsView } from './views/datasets.js';
import { createDeviceView } from './views/device.js';
import { createFleetView } from './views/fleet.js';
import { createRulesView } from './views/rules.js';

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`dashboard: #${id} is missing from index.html`);
  return element as T;
}

const boot = byId<HTMLElement>('boot');
const app = byId<HTMLElement>('app');
const viewsRoot = byId<HTMLElement>('views');
const statusLabel = byId<HTMLElement>('connection-state');
const operatorName = byId<HTMLElement>('operator-name');
const signOutButton = byId<HTMLButtonElement>('signout');
const navLinks = [...byId<HTMLElement>('nav').querySelectorAll<HTMLAnchorElement>('a[data-nav]')];

const FACTORIES: Record<RouteName, ViewFactory> = {
  fleet: createFleetView,
  device: createDeviceView,
  alerts: createAlertsView,
  rules: createRulesView,
  datasets: createDatasetsView,
};
const TITLES: Record<RouteName, string> = { fleet: 'Fleet', device: 'Device', alerts: 'Alerts', rules: 'Rules', datasets: 'Datasets' };

let signedIn = false;

function showLiveState(state: LiveState): void {
  statusLabel.textContent = describeLiveState(state);
  statusLabel.dataset.state = state.kind;
}

const live = new LiveHubClient({
  url: liveUrl(location.protocol, location.host),
  createSocket: openSocket,
  onState: showLiveState,
  onListenerError: (error) => console.error('dashboard: a live listener failed', error),
});

const api = createApi({
  fetch: (url, init) => fetch(url, init),
  // Any 401 means the session is gone (expired, signed out elsewhere, server restarted).
  onUnauthorized: () => {
    if (signedIn) signedOut('Your session has ended. Sign in again.');
  },
});

const ctx: ViewContext = {
  api,
  live,
  navigate(hash) {
    if (location.hash === hash) renderRoute();
    else location.hash = hash;
  },
};

const views = new Map<RouteName, View>();
let current: { name: RouteName; view: View; key: string } | null = null;

function viewFor(name: RouteName): View {
  let view = views.get(name);
  if (!view) {
    view = FACTORIES[name](ctx);
    view.element.hidden = true;
    view.element.dataset.view = name;
    viewsRoot.append(view.element);
    views.set(name, view);
  }
  return view;
}

function hideCurrent(): void {
  if (!current) return;
  const { view } = current;
  current = null;
  try {
    view.hide();
  } finally {
    view.element.hidden = true;
  }
}

function markNav(route: Route): void {
  const section = navSection(route);
  for (const link of navLinks) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function renderRoute(): void {
  if (!signedIn) return;
  const route = parseHash(location.hash);
  // An empty or unknown hash shows the fleet; say so in the address bar without a history entry.
  if (route.name === 'fleet' && !location.hash.startsWith('#/fleet')) history.replaceState(null, '', routeHash('fleet'));
  const key = `${route.name}/${route.params.join('/')}`;
  if (current?.key === key) return;
  markNav(route);
  document.title = `${TITLES[route.name]}${route.name === 'device' ? ` ${route.params[0]}` : ''} · iotcore`;
  try {
    const view = viewFor(route.name);
    hideCurrent();
    view.element.hidden = false;
    current = { name: route.name, view, key };
    view.show(route.params);
  } catch (error) {
    console.error(`dashboard: the ${route.name} view failed`, error);
    const message = document.createElement('p');
    message.className = 'error';
    message.setAttribute('role', 'alert');
    message.textContent = `The ${TITLES[route.name]} view failed: ${describeError(error)}`;
    viewsRoot.append(message);
  }
}

const signIn = createSignInForm(
  {
    section: byId('signin'),
    form: byId('signin-form'),
    username: byId('signin-username'),
    password: byId('signin-password'),
    error: byId('signin-error'),
    submit: byId('signin-submit'),
  },
  api,
  (session) => signedInAs(session),
);

function signedInAs(session: SessionBody): void {
  signedIn = true;
  boot.hidden = true;
  signIn.hide();
  operatorName.textContent = session.username;
  app.hidden = false;
  live.start();
  renderRoute();
}

function signedOut(message: string): void {
  signedIn = false;
  boot.hidden = true;
  live.stop();
  hideCurrent();
  app.hidden = true;
  operatorName.textContent = '';
  signIn.show(message);
}

signOutButton.addEventListener('click', () => {
  signOutButton.disabled = true;
  api
    .request('DELETE', '/api/session')
    .catch(() => undefined) // signed out locally either way; the cookie expires on its own
    .finally(() => {
      signOutButton.disabled = false;
      if (signedIn) signedOut('');
    });
});

window.addEventListener('hashchange', renderRoute);

api
  .request<SessionBody>('GET', '/api/session')
  .then(signedInAs)
  .catch((error: unknown) => {
    // 401: nobody signed in, the usual case. Anything else is worth saying on the form.
    signedOut(error instanceof ApiError && error.status === 401 ? '' : `Cannot check the session: ${describeError(error)}`);
  });
