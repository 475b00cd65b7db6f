import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react';

/** A small router over the History API: the UI has a handful of routes and needs no router library. */

const NAVIGATE_EVENT = 'switchboard:navigate';

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function usePathname(): string {
  const [pathname, setPathname] = useState(() => location.pathname);
  useEffect(() => {
    const update = () => setPathname(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return pathname;
}

export type Route =
  | { name: 'signIn' }
  | { name: 'apiWebhooks' }
  | { name: 'webhookNew' }
  | { name: 'webhookDetail'; id: string }
  | { name: 'dataModel' }
  | { name: 'dataModelObject'; nameSingular: string }
  | { name: 'notFound' };

export function matchRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/' || path === '/sign-in') return { name: 'signIn' };
  if (path === '/settings' || path === '/settings/api-webhooks') return { name: 'apiWebhooks' };
  if (path === '/settings/api-webhooks/webhooks/new') return { name: 'webhookNew' };
  const detail = /^\/settings\/api-webhooks\/webhooks\/([^/]+)$/.exec(path);
  if (detail) return { name: 'webhookDetail', id: decodeURIComponent(detail[1]!) };
  if (path === '/settings/data-model') return { name: 'dataModel' };
  const object = /^\/settings\/data-model\/([^/]+)$/.exec(path);
  if (object) return { name: 'dataModelObject', nameSingular: decodeURIComponent(object[1]!) };
  return { name: 'notFound' };
}

/** An ordinary link that navigates without a page load (modified clicks still open new tabs). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handleClick} {...rest} />;
}
