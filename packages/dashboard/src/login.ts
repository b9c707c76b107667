/**
 * The sign-in page. The development server prints a ready link `/admin#password=…`: the password
 * rides in the fragment, which browsers never send to a server or put in a Referer, and this page
 * takes it out of the address bar before signing in with it.
 */
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
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  error.textContent = body.error?.message ?? `Sign-in failed (${res.status})`;
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
