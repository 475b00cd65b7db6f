import { useState, type FormEvent } from 'react';
import { errorMessage, rememberApiKey } from '../api.ts';
import { ErrorNotice, TextField } from '../components/ui.tsx';
import { useDocumentTitle } from '../hooks.ts';
import { fetchWorkspace } from '../queries.ts';
import { navigate } from '../router.tsx';

export function SignInPage({ alreadySignedIn, onSignedIn }: { alreadySignedIn: boolean; onSignedIn: () => void }) {
  useDocumentTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await fetchWorkspace(candidate);
      rememberApiKey(candidate);
      onSignedIn();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in" id="main">
      <form className="card sign-in-card" onSubmit={(event) => void submit(event)} noValidate>
        <div className="brand" aria-hidden="true">
          ⌁
        </div>
        <h1>Sign in to Switchboard</h1>
        <p className="muted">
          Use an API key of your workspace. The first start of the server printed one. Lost it? In the server&apos;s
          folder, <code>npx switchboard apikey create</code> makes another, also while the server runs. The key is kept
          only in this browser tab.
        </p>
        <TextField label="API key" name="apiKey" type="password" value={key} onChange={setKey} required autoComplete="off" placeholder="sb_…" />
        {error && <ErrorNotice message={error} />}
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        {alreadySignedIn && (
          <button type="button" className="button button-ghost button-block" onClick={() => navigate('/settings/api-webhooks')}>
            Continue with the current key
          </button>
        )}
      </form>
    </main>
  );
}
