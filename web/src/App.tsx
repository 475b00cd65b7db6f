import { useEffect, useState } from 'react';
import { SIGNED_OUT_EVENT, storedApiKey } from './api.ts';
import { Layout } from './components/Layout.tsx';
import { ErrorNotice, Spinner } from './components/ui.tsx';
import { useLoad } from './hooks.ts';
import { ApiWebhooksPage } from './pages/ApiWebhooksPage.tsx';
import { DATA_MODEL_HOME, DataModelPage } from './pages/DataModelPage.tsx';
import { ObjectPage } from './pages/ObjectPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { WebhookDetailPage } from './pages/WebhookDetailPage.tsx';
import { WebhookNewPage } from './pages/WebhookNewPage.tsx';
import { fetchWorkspace } from './queries.ts';
import { Link, matchRoute, navigate, usePathname } from './router.tsx';

const HOME = '/settings/api-webhooks';

export function App() {
  const pathname = usePathname();
  const [signedIn, setSignedIn] = useState(() => storedApiKey() !== null);

  useEffect(() => {
    const onSignedOut = () => setSignedIn(false);
    window.addEventListener(SIGNED_OUT_EVENT, onSignedOut);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, onSignedOut);
  }, []);

  const route = matchRoute(pathname);
  if (!signedIn || route.name === 'signIn') {
    return (
      <SignInPage
        alreadySignedIn={signedIn}
        onSignedIn={() => {
          setSignedIn(true);
          // Come back to the page that asked for a key, else go to the settings.
          navigate(route.name === 'signIn' || route.name === 'notFound' ? HOME : pathname, { replace: true });
        }}
      />
    );
  }
  return <SignedInApp pathname={pathname} />;
}

function SignedInApp({ pathname }: { pathname: string }) {
  const workspace = useLoad(() => fetchWorkspace(), []);
  const route = matchRoute(pathname);

  useEffect(() => {
    // Move focus to the new page so keyboard and screen reader users start there.
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname]);

  if (!workspace.data) {
    return workspace.error ? (
      <div className="centered">
        <ErrorNotice message={workspace.error} onRetry={() => void workspace.reload()} />
      </div>
    ) : (
      <div className="centered">
        <Spinner />
      </div>
    );
  }
  const name = workspace.data.name;
  switch (route.name) {
    case 'apiWebhooks':
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'API & Webhooks' }]}>
          <ApiWebhooksPage />
        </Layout>
      );
    case 'webhookNew':
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'API & Webhooks', href: HOME }, { label: 'New webhook' }]}>
          <WebhookNewPage />
        </Layout>
      );
    case 'webhookDetail':
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'API & Webhooks', href: HOME }, { label: 'Webhook' }]}>
          <WebhookDetailPage key={route.id} id={route.id} />
        </Layout>
      );
    case 'dataModel':
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'Data model' }]}>
          <DataModelPage />
        </Layout>
      );
    case 'dataModelObject':
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'Data model', href: DATA_MODEL_HOME }, { label: route.nameSingular }]}>
          <ObjectPage key={route.nameSingular} nameSingular={route.nameSingular} />
        </Layout>
      );
    default:
      return (
        <Layout workspaceName={name} crumbs={[{ label: 'Settings' }, { label: 'Not found' }]}>
          <h1>Page not found</h1>
          <p>
            There is nothing at <code>{pathname}</code>. <Link href={HOME}>Go to API &amp; Webhooks</Link>.
          </p>
        </Layout>
      );
  }
}
