/**
 * The sign-in page. The development server prints a ready link `/admin#password=…`: the password
 * rides in the fragment, which browsers never send to a server or put in a Referer, and this page
 * takes it out of the address bar before signing in with it.
 */
import { parseJson, readField } from '@encke/protocol/unknown';

const form = document.getElementById('login') as HTMLFormElement;
const input = document.getElementById('password') as HTMLInputElement;
const error = document.getElementById('login-error') as HTMLElement;

async function signIn(password: string): Promise<void> {
  error.textContent = '';
  const res = await fetch('/admin/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ password }),
  });
  if (res.ok) {
    location.replace('/admin');
    return;
  }
  // The server answers {error: ErrorInfo}; anything else (a proxy's page, no body) says only the status.
  const body = await res
    .text()
    .then(parseJson, () => undefined)
    .catch(() => undefined);
  const info = typeof body === 'object' && body !== null ? readField(body, 'error') : undefined;
  const message = typeof info === 'object' && info !== null ? readField(info, 'message') : undefined;
  error.textContent = typeof message === 'string' ? message : `Sign-in failed (${res.status})`;
  input.select();
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  signIn(input.value).catch((err: unknown) => (error.textContent = `Sign-in failed: ${String(err)}`));
});

const fromLink = new URLSearchParams(location.hash.slice(1)).get('password');
if (fromLink) {
  history.replaceState(null, '', location.pathname);
  input.value = fromLink;
  void signIn(fromLink);
}
