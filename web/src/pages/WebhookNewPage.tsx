import { useState } from 'react';
import { WebhookForm } from '../components/WebhookForm.tsx';
import { OneTimeSecret } from '../components/ui.tsx';
import { useDocumentTitle } from '../hooks.ts';
import { createWebhook } from '../queries.ts';
import { Link, navigate } from '../router.tsx';

export function WebhookNewPage() {
  useDocumentTitle('New webhook');
  const [created, setCreated] = useState<{ id: string; secret: string; targetUrl: string } | undefined>();

  if (created) {
    return (
      <>
        <header className="page-header">
          <h1>Webhook created</h1>
          <p className="muted">
            Events now go to <code>{created.targetUrl}</code>.
          </p>
        </header>
        <OneTimeSecret title="Signing secret" value={created.secret}>
          <p className="muted small">
            Verify each request’s <code>X-Twenty-Signature</code> (HMAC-SHA256 of <code>timestamp.body</code>) or the Standard Webhooks{' '}
            <code>webhook-signature</code> with this secret. You can rotate it later.
          </p>
          <div className="form-actions">
            <Link className="button button-primary" href={`/settings/api-webhooks/webhooks/${created.id}`}>
              I have saved the secret: open the webhook
            </Link>
          </div>
        </OneTimeSecret>
      </>
    );
  }

  return (
    <>
      <header className="page-header">
        <h1>New webhook</h1>
        <p className="muted">Choose where events go and which ones. The signing secret is shown once, after saving.</p>
      </header>
      <div className="card">
        <WebhookForm
          initial={{ targetUrl: '', description: '', operations: ['*.*'], filter: null, fields: null, ordering: 'NONE' }}
          submitLabel="Create webhook"
          onSubmit={async (values) => {
            const webhook = await createWebhook(values);
            setCreated({ id: webhook.id, secret: webhook.secret, targetUrl: webhook.targetUrl });
          }}
          onCancel={() => navigate('/settings/api-webhooks')}
        />
      </div>
    </>
  );
}
