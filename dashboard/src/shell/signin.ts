// The sign-in form (index.html's #signin-form): posts {username, password} to /api/session and
// reports the signed-in operator. Errors are shown in #signin-error, read out by screen readers.

import type { SessionBody } from '../../../broker/contract.js';
import { ApiError, describeError } from '../api.js';
import type { Api } from '../view.js';

export interface SignInForm {
  show(message?: string): void;
  hide(): void;
}

export interface SignInElements {
  section: HTMLElement;
  form: HTMLFormElement;
  username: HTMLInputElement;
  password: HTMLInputElement;
  error: HTMLElement;
  submit: HTMLButtonElement;
}

/** What to tell an operator whose sign-in failed. */
export function signInFailureText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'Wrong username or password.';
    if (error.status === 429) return `Too many attempts: ${error.message}`;
    if (error.status === 400) return `Check the form: ${error.message}`;
  }
  return describeError(error);
}

export function createSignInForm(elements: SignInElements, api: Api, onSignedIn: (session: SessionBody) => void): SignInForm {
  const { section, form, username, password, error, submit } = elements;

  function showError(text: string): void {
    error.textContent = text;
    error.hidden = text === '';
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      showError('Enter a username and a password.');
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showError('');
    api
      .request<SessionBody>('POST', '/api/session', { username: username.value.trim(), password: password.value })
      .then((session) => {
        password.value = '';
        onSignedIn(session);
      })
      .catch((cause: unknown) => {
        showError(signInFailureText(cause));
        password.select();
        password.focus();
      })
      .finally(() => {
        submit.disabled = false;
        form.removeAttribute('aria-busy');
      });
  });

  return {
    show(message = '') {
      password.value = '';
      showError(message);
      section.hidden = false;
      (username.value ? password : username).focus();
    },
    hide() {
      section.hidden = true;
      showError('');
    },
  };
}
