//! Where the services are: read once from /app/config.json, the page's only source of URLs.

let loaded = null;

/** {command_url, query_url, waiting_room_url, demo_signin}. */
export function config() {
  if (!loaded) {
    loaded = fetch('/app/config.json', { cache: 'no-store' }).then(async (answer) => {
      if (!answer.ok) throw new Error('The page could not read its settings; try again in a moment.');
      const body = await answer.json();
      const trim = (url) => String(url || '').replace(/\/+$/, '');
      return {
        command: trim(body.command_url),
        query: trim(body.query_url),
        waitingRoom: trim(body.waiting_room_url),
        demoSignin: body.demo_signin === true,
      };
    });
    loaded.catch(() => {
      loaded = null;
    });
  }
  return loaded;
}
