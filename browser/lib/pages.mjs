// The pages that the accessibility and HTML-validity checks cover, found on a
// running earshot. Pages whose Space state could not be found are listed with
// `missing` set so that the tests can say so (skip) instead of silently dropping them.
import { discover } from './harness.mjs';

export async function pagesToCheck(base) {
  const found = await discover(base);
  const pages = [
    { name: 'home', path: '/' },
    { name: 'live', path: '/live' },
    { name: 'upcoming', path: '/upcoming' },
    { name: 'search', path: '/search?q=a' },
    { name: 'topic', path: '/topics/technology' },
  ];
  for (const state of ['live', 'scheduled', 'ended', 'cancelled']) {
    const id = found[state] ?? (state === 'cancelled' ? found.canceled : undefined);
    pages.push(
      id
        ? { name: `space-${state}`, path: `/spaces/${id}` }
        : { name: `space-${state}`, missing: `no ${state} Space found on /, /upcoming or /search?state=all` },
    );
  }
  pages.push(
    found.live
      ? { name: 'participants', path: `/spaces/${found.live}/participants` }
      : { name: 'participants', missing: 'no live Space found' },
  );
  pages.push(
    found.user
      ? { name: 'user', path: `/users/${found.user}` }
      : { name: 'user', missing: 'no /users/ link found on a Space page' },
  );
  const embedId = found.live ?? found.ended ?? found.scheduled;
  pages.push(
    embedId
      ? { name: 'embed', path: `/embed/spaces/${embedId}`, embed: true }
      : { name: 'embed', missing: 'no Space found' },
  );
  if (embedId) pages.push({ name: 'embed-dark', path: `/embed/spaces/${embedId}?theme=dark`, embed: true });
  pages.push({ name: 'not-found', path: '/no/such/page', status: 404 });
  return { pages, found };
}
