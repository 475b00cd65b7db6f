import type { ReactNode } from 'react';
import { forgetApiKey } from '../api.ts';
import { Link, navigate, usePathname } from '../router.tsx';

export interface Crumb {
  label: string;
  href?: string;
}

/** Settings chrome: a sidebar (a top bar on phones), breadcrumbs and the page. */
export function Layout({ workspaceName, crumbs, children }: { workspaceName: string; crumbs: Crumb[]; children: ReactNode }) {
  const pathname = usePathname();
  const current = (prefix: string) => (pathname === prefix || pathname.startsWith(`${prefix}/`) ? 'page' : undefined);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="workspace">
          <span className="workspace-logo" aria-hidden="true">
            {workspaceName.slice(0, 1).toUpperCase()}
          </span>
          <span className="workspace-name">{workspaceName}</span>
        </div>
        <nav aria-label="Settings">
          <p className="nav-heading">Settings</p>
          <Link className="nav-item" href="/settings/api-webhooks" aria-current={current('/settings/api-webhooks')}>
            <span aria-hidden="true">⌁</span> API &amp; Webhooks
          </Link>
          <Link className="nav-item" href="/settings/data-model" aria-current={current('/settings/data-model')}>
            <span aria-hidden="true">▦</span> Data model
          </Link>
        </nav>
        <button
          type="button"
          className="button button-ghost sign-out"
          onClick={() => {
            forgetApiKey();
            navigate('/', { replace: true });
          }}
        >
          Sign out
        </button>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        <nav aria-label="Breadcrumb" className="breadcrumbs">
          <ol>
            {crumbs.map((crumb, index) => (
              <li key={index}>
                {crumb.href && index < crumbs.length - 1 ? (
                  <Link href={crumb.href}>{crumb.label}</Link>
                ) : (
                  <span aria-current={index === crumbs.length - 1 ? 'page' : undefined}>{crumb.label}</span>
                )}
              </li>
            ))}
          </ol>
        </nav>
        {children}
      </main>
    </div>
  );
}
